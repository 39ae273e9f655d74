"""Waiting for the session's services' health to settle."""

from __future__ import annotations

import asyncio


async def settled(check, serving, seconds: float = 10.0):
    """The session's services share this test process's event loop: a test before this one that
    held the loop past the 2 s database probe's timeout leaves NOT_SERVING until the next probe
    (2 s later). So: the answer once it is serving, or the last one after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not serving(answer := await check()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.25)
    return answer
