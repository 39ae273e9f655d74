"""Keep BLAS single-threaded around dense solves.

On the shared 2-core machines a multithreaded OpenBLAS inverse of 1.7k x 1.7k takes 0.5-5 s
under contention versus a steady 0.2 s on one thread (measured), so fits pin BLAS to one thread.
threadpoolctl is optional: without it the BLAS default is kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
