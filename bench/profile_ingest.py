"""Where the service's CPU goes per event, without the network or the database.

    PYTHONPATH=.:gen python -m bench.profile_ingest [--events 20000] [--cprofile]

Times the in-process steps of a RecordEvents call on the bench data set, in
batches of 100: decoding the request, the interceptor's validate(request),
ingest.prepare (the one-pass reader with the contract's rules, time window,
extras, row; then again with the request's wire bytes, which the compiled reader
reads), the real-time counters' count_rows on the stored rows and the store's
argument building. Prints microseconds of CPU per event for each step
(the minimum of --repeats runs: on a shared machine the least disturbed one).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from datetime import UTC, datetime, timedelta

from storyverse.analytics.v1 import analytics_service_pb2 as pb

from analytics_svc.ingestion import prepare as ingest
from analytics_svc.ingestion import store
from analytics_svc.reports.realtime import RealtimeCounters
from bench import dataset
from common.validation import validate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    requests = dataset.ProtoRequests(dataset.templates(), dataset.IdSource("prof"))
    bodies = [requests.build(100) for _ in range(args.events // 100)]
    decoded = [pb.RecordEventsRequest.FromString(b) for b in bodies]
    now = datetime.now(UTC)
    prepared = [ingest.prepare(list(r.events), now) for r in decoded]
    steps = {
        "decode request": lambda: [pb.RecordEventsRequest.FromString(b) for b in bodies],
        "validate(request)": lambda: [validate(r) for r in decoded],
        "prepare (read+check+row)": lambda: [ingest.prepare(list(r.events), now) for r in decoded],
        # What the servicer does: serialize the request again, the compiled reader reads it.
        "prepare, wire (compiled reader)": lambda: [
            ingest.prepare(r.events, now, r.SerializeToString) for r in decoded
        ],
        "read(event) only": lambda: [ingest._read_event(e) for r in decoded for e in r.events],
        "validate(event) only": lambda: [validate(e) for r in decoded for e in r.events],
        "check(event)": lambda: [ingest.check(e, now) for r in decoded for e in r.events],
        "to_row(event)": lambda: [ingest.to_row(e, now) for r in decoded for e in r.events],
        "realtime: count_rows": lambda: [counters.count_rows(p.rows, now) for p in prepared],
        "store: insert arguments": lambda: [store.insert_arguments(p.rows) for p in prepared],
    }
    counters = RealtimeCounters(pool=None, replica="profile")  # type: ignore[arg-type]
    for p in prepared:  # steady state: these users and first events were flushed already
        counters.count_rows(p.rows, now)
    counters._remember(counters._users, counters._first, now - timedelta(minutes=2))
    counters._users, counters._first = set(), {}
    for name, step in steps.items():
        times = []
        for _ in range(args.repeats):
            started = time.process_time()
            step()
            times.append(time.process_time() - started)
        print(f"{name:<34} {min(times) / args.events * 1e6:7.2f} µs/event")
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        for r in decoded:
            ingest.prepare(list(r.events), now)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
