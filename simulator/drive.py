"""Sending simulated data through the PUBLIC API: gRPC (grpc.aio) or the HTTP gateway (aiohttp).

Events go in RecordEvents batches (at most 500 per call, a few calls in flight);
ingestion is idempotent on event_id, so a batch that failed on a transient error
is simply sent again. Feedback goes one entry per SubmitFeedback call; while the
feedback service answers UNIMPLEMENTED it is skipped with a note, not an error.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import aiohttp
import grpc
from google.protobuf import json_format
from storyverse.analytics.v1 import analytics_service_pb2 as analytics_pb
from storyverse.analytics.v1 import analytics_service_pb2_grpc as analytics_grpc
from storyverse.analytics.v1 import events_pb2
from storyverse.feedback.v1 import feedback_service_pb2 as feedback_pb
from storyverse.feedback.v1 import feedback_service_pb2_grpc as feedback_grpc

MAX_BATCH = 500
RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED}
)
RETRIES = 5
Progress = Callable[["Summary"], None]


@dataclass
class Summary:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    # The first few rejections, as "event_id field: reason", to show what went wrong.
    rejections: list[str] = field(default_factory=list)
    feedback_sent: int = 0
    feedback_created: int = 0
    feedback_skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, result: dict, events: list) -> None:
        self.sent += len(events)
        self.accepted += int(result.get("accepted", 0))
        self.duplicates += int(result.get("duplicates", 0))
        self.rejected += int(result.get("rejected", 0))
        for r in result.get("rejections", [])[: max(0, 10 - len(self.rejections))]:
            self.rejections.append(
                f"{r.get('event_id', r.get('eventId'))} {r.get('field')}: {r.get('reason')}"
            )

    def line(self) -> str:
        return (
            f"events sent {self.sent}, accepted {self.accepted}, "
            f"duplicates {self.duplicates}, rejected {self.rejected}"
        )


def to_event(data: dict) -> events_pb2.Event:
    return json_format.ParseDict(data, events_pb2.Event())


def to_feedback(data: dict) -> feedback_pb.FeedbackEntry:
    return json_format.ParseDict(data, feedback_pb.FeedbackEntry())


def batches(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def grpc_address(target: str) -> str:
    """'grpc://host:port' (or plain 'host:port') to what grpc.aio dials."""
    return target.removeprefix("grpc://")


async def _pipelined(chunks: Iterator[list[dict]], send, concurrency: int) -> None:
    """Runs send(chunk) for every chunk with at most `concurrency` calls in flight."""
    in_flight: set[asyncio.Task] = set()
    for chunk in chunks:
        if len(in_flight) >= concurrency:
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # surface a failure now rather than after everything
        in_flight.add(asyncio.create_task(send(chunk)))
    if in_flight:
        for task in await asyncio.gather(*in_flight, return_exceptions=True):
            if isinstance(task, BaseException):
                raise task


async def send_events_grpc(
    target: str,
    events: Iterable[dict],
    batch_size: int = MAX_BATCH,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> Summary:
    summary = Summary()
    async with grpc.aio.insecure_channel(grpc_address(target)) as channel:
        stub = analytics_grpc.AnalyticsServiceStub(channel)

        async def send(chunk: list[dict]) -> None:
            request = analytics_pb.RecordEventsRequest(events=[to_event(e) for e in chunk])
            for attempt in range(RETRIES + 1):
                try:
                    reply = await stub.RecordEvents(request, timeout=60)
                    break
                except grpc.aio.AioRpcError as exc:
                    if exc.code() not in RETRYABLE or attempt == RETRIES:
                        raise
                    await asyncio.sleep(0.2 * 2**attempt)  # safe: ingestion is idempotent on event_id
            result = json_format.MessageToDict(reply.result, preserving_proto_field_name=True)
            summary.add(result, chunk)
            if progress:
                progress(summary)

        await _pipelined(batches(events, min(batch_size, MAX_BATCH)), send, concurrency)
    return summary


async def send_events_http(
    base_url: str,
    events: Iterable[dict],
    batch_size: int = MAX_BATCH,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> Summary:
    summary = Summary()
    url = base_url.rstrip("/") + "/api/analytics/events:batch"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def send(chunk: list[dict]) -> None:
            for attempt in range(RETRIES + 1):
                async with session.post(url, json={"events": chunk}) as response:
                    if response.status in (429, 502, 503, 504) and attempt < RETRIES:
                        await asyncio.sleep(0.2 * 2**attempt)
                        continue
                    if response.status != 200:
                        raise RuntimeError(
                            f"POST {url}: HTTP {response.status}: {(await response.text())[:300]}"
                        )
                    body = await response.json()
                    break
            summary.add(body.get("result", {}), chunk)
            if progress:
                progress(summary)

        await _pipelined(batches(events, min(batch_size, MAX_BATCH)), send, concurrency)
    return summary


async def send_feedback_grpc(
    target: str, entries: Iterable[dict], summary: Summary, concurrency: int = 4
) -> None:
    entries = list(entries)
    async with grpc.aio.insecure_channel(grpc_address(target)) as channel:
        stub = feedback_grpc.FeedbackServiceStub(channel)

        async def submit(entry: dict) -> None:
            request = feedback_pb.SubmitFeedbackRequest(feedback=to_feedback(entry))
            reply = await stub.SubmitFeedback(request, timeout=30)
            summary.feedback_sent += 1
            summary.feedback_created += reply.created

        if not entries:
            return
        # Probe with the first entry: UNIMPLEMENTED means "not built yet", not a failure.
        try:
            await submit(entries[0])
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            summary.feedback_skipped += len(entries)
            summary.notes.append(
                f"feedback skipped: SubmitFeedback is UNIMPLEMENTED at {target} ({len(entries)})"
            )
            return
        await _pipelined(([e] for e in entries[1:]), lambda one: submit(one[0]), concurrency)


async def send_feedback_http(base_url: str, entries: Iterable[dict], summary: Summary) -> None:
    url = base_url.rstrip("/") + "/api/feedback"
    entries = list(entries)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for entry in entries:
            async with session.post(url, json=entry) as response:
                if response.status in (404, 501):
                    summary.feedback_skipped += len(entries) - summary.feedback_sent
                    summary.notes.append(f"feedback skipped: POST {url} answers HTTP {response.status}")
                    return
                if response.status != 200:
                    raise RuntimeError(f"POST {url}: HTTP {response.status}: {(await response.text())[:300]}")
                body = await response.json()
                summary.feedback_sent += 1
                summary.feedback_created += bool(body.get("created"))


def print_progress(every: int = 5000) -> Progress:
    """A progress callback that prints a line to stderr every `every` events."""
    mark = [0]

    def report(summary: Summary) -> None:
        if summary.sent - mark[0] >= every:
            mark[0] = summary.sent
            print(f"... {summary.line()}", file=sys.stderr, flush=True)

    return report
