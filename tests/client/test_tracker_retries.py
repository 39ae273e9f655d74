"""Tracker retries and bounds, against peers that answer as an overloaded gateway or service
would (429 with Retry-After, RESOURCE_EXHAUSTED with a retry-after trailer), and against a port
where nothing listens."""

from __future__ import annotations

import json
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from storyverse.analytics.v1 import analytics_service_pb2 as pb

from storyverse_client import GrpcTransport, HttpTransport, Tracker
from tests.conftest import free_port


class Overloaded:
    """Refuses the first `refusals` calls, then acknowledges; remembers what it got and when."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[tuple[float, list[str]]] = []
        self.lock = threading.Lock()

    def arrived(self, ids: list[str]) -> bool:
        """True when this call is to be refused."""
        with self.lock:
            self.calls.append((time.monotonic(), ids))
            return len(self.calls) <= self.refusals


def http_peer(state: Overloaded) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids = [e["event_id"] for e in body["events"]]
            if state.arrived(ids):
                reply, status, headers = {"code": 429, "message": "slow down"}, 429, {"Retry-After": "1"}
            else:
                reply, status, headers = {"result": {"accepted": len(ids)}}, 200, {}
            data = json.dumps(reply).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def grpc_peer(state: Overloaded) -> tuple[grpc.Server, int]:
    def record_events(request: pb.RecordEventsRequest, context: grpc.ServicerContext) -> object:
        if state.arrived([e.event_id for e in request.events]):
            context.set_trailing_metadata((("retry-after", "1"),))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many pending rows")
        return pb.RecordEventsResponse(result=pb.IngestResult(accepted=len(request.events)))

    handler = grpc.method_handlers_generic_handler(
        "storyverse.analytics.v1.AnalyticsService",
        {
            "RecordEvents": grpc.unary_unary_rpc_method_handler(
                record_events,
                request_deserializer=pb.RecordEventsRequest.FromString,
                response_serializer=pb.RecordEventsResponse.SerializeToString,
            )
        },
    )
    server = grpc.server(futures.ThreadPoolExecutor(2), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def check_retried_as_told(state: Overloaded, tracker: Tracker) -> None:
    assert tracker.close(20)
    assert len(state.calls) == 3, state.calls
    (t0, first), (t1, second), (t2, third) = state.calls
    assert first == second == third and len(first) == 5, "retries resend the same event_ids"
    assert t1 - t0 >= 0.95 and t2 - t1 >= 0.95, "retry-after (1 s) honoured, not the 10 ms back-off"
    stats = tracker.stats
    assert (stats.accepted, stats.retries, stats.dropped) == (5, 2, 0), stats


def test_http_429_retry_after_is_honoured_with_the_same_event_ids():
    state = Overloaded(refusals=2)
    server = http_peer(state)
    try:
        tracker = Tracker(HttpTransport(f"http://127.0.0.1:{server.server_port}"), backoff=(0.01, 0.01))
        for _ in range(5):
            tracker.track("page_view", user_id="user-1")
        check_retried_as_told(state, tracker)
    finally:
        server.shutdown()


def test_grpc_resource_exhausted_retry_after_is_honoured_with_the_same_event_ids():
    state = Overloaded(refusals=2)
    server, port = grpc_peer(state)
    transport = GrpcTransport(f"127.0.0.1:{port}")
    try:
        tracker = Tracker(transport, backoff=(0.01, 0.01))
        for _ in range(5):
            tracker.track("page_view", user_id="user-1")
        check_retried_as_told(state, tracker)
    finally:
        transport.close()
        server.stop(None)


def test_memory_is_bounded_and_what_is_dropped_is_reported():
    """Nothing listens: 100 events wait at most, the rest is dropped at once and reported, and
    close() drops what could not be sent by its deadline."""
    reported: list[tuple[int, str]] = []
    tracker = Tracker(
        HttpTransport(f"http://127.0.0.1:{free_port()}", timeout=0.5),
        batch_size=200,
        max_queue=100,
        flush_interval=60,
        backoff=(0.05, 0.1),
        on_drop=lambda events, why: reported.append((len(events), why)),
    )
    kept = [tracker.track("page_view", user_id="user-1") for _ in range(150)]
    assert sum(k is not None for k in kept) == 100
    assert tracker.stats.queued == 100 and tracker.stats.drop_reasons == {"queue full": 50}
    began = time.monotonic()
    assert not tracker.close(timeout=1.0), "could not deliver: close says so"
    assert time.monotonic() - began < 3.0
    stats = tracker.stats
    assert stats.dropped == 150 and stats.accepted == 0, stats
    assert stats.drop_reasons == {"queue full": 50, "not sent before close": 100}, stats.drop_reasons
    assert sum(n for n, _ in reported) == 150
    assert tracker.track("page_view", user_id="user-1") is None  # closed


def test_an_event_json_cannot_hold_is_refused_at_once_alone():
    from datetime import UTC, datetime

    reported: list[str] = []
    tracker = Tracker(
        HttpTransport(f"http://127.0.0.1:{free_port()}"),
        flush_interval=60,
        on_drop=lambda events, why: reported.append(why),
    )
    assert tracker.track("page_view", user_id="user-1", properties={"at": datetime.now(UTC)}) is None
    assert tracker.track("page_view", user_id="user-1", properties={"duration": float("nan")}) is None
    assert tracker.track("page_view", user_id="user-1") is not None
    stats = tracker.stats
    assert stats.drop_reasons == {"not JSON": 2} and stats.queued == 1, stats
    assert all(why.startswith("not JSON") for why in reported), reported
    tracker.close(timeout=0.2)
