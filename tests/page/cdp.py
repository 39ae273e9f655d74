"""A small Chrome DevTools Protocol client over aiohttp websockets, for the page tests.

Starts Debian's headless Chromium with a fresh profile and a DevTools port on loopback,
opens pages, evaluates JavaScript, takes screenshots, and records what the console
reports (console.error/assert, Log entries of level error such as failed loads, and
uncaught exceptions) so a test can require that there were none.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class ChromiumNotFound(RuntimeError):
    pass


def find_chromium() -> str:
    """SV_CHROMIUM, else Debian's chromium; a clear error when there is none."""
    explicit = os.environ.get("SV_CHROMIUM")
    for candidate in [explicit] if explicit else CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    raise ChromiumNotFound(
        "Chromium is needed for the dashboard page tests and was not found "
        f"(looked for SV_CHROMIUM, {', '.join(CHROMIUM_CANDIDATES)}). Install Debian's package: "
        "`apt-get install chromium` (./storyverse test does it when run as root)."
    )


class CdpError(RuntimeError):
    pass


class Browser:
    """One Chromium process and one websocket to its browser target (flat sessions)."""

    def __init__(self, process: subprocess.Popen, profile: str, http: aiohttp.ClientSession, ws) -> None:
        self.process, self.profile, self.http, self.ws = process, profile, http, ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._pages: dict[str, Page] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def launch(cls, width: int = 1366, height: int = 900, timeout: float = 30.0) -> Browser:
        executable = find_chromium()
        profile = tempfile.mkdtemp(prefix="sv-chromium-")
        process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = await asyncio.wait_for(asyncio.to_thread(_devtools_url, process), timeout)
        except BaseException:
            process.kill()
            process.wait()
            shutil.rmtree(profile, ignore_errors=True)
            raise
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(url, max_msg_size=0)
        return cls(process, profile, http, ws)

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future and not future.done():
                    if "error" in data:
                        future.set_exception(CdpError(str(data["error"])))
                    else:
                        future.set_result(data.get("result", {}))
            elif (page := self._pages.get(data.get("sessionId", ""))) is not None:
                page.on_event(data["method"], data.get("params", {}))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(CdpError("the browser connection closed"))

    async def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        message_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, 60)

    async def new_page(self, width: int = 1366, height: int = 900) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"])
        self._pages[page.session] = page
        for domain in ("Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        await page.resize(width, height)
        return page

    async def close(self) -> None:
        with contextlib.suppress(CdpError, TimeoutError, ConnectionError):
            await asyncio.wait_for(self.send("Browser.close"), 5)
        self._reader.cancel()
        await self.ws.close()
        await self.http.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen) -> str:
    """Chromium prints its browser websocket URL on stderr once DevTools listens."""
    lines = []
    for line in process.stderr:
        lines.append(line)
        if match := _LISTENING.search(line):
            # Keep draining stderr so Chromium never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return match.group(1)
    raise RuntimeError("Chromium exited before DevTools listened:\n" + "".join(lines[-20:]))


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        self.problems: list[str] = []  # console errors, failed loads, uncaught exceptions
        self._loaded = asyncio.Event()

    def on_event(self, method: str, params: dict) -> None:
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.problems.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.problems.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            self.problems.append(f"exception: {description}")
        elif method == "Page.loadEventFired":
            self._loaded.set()

    async def send(self, method: str, params: dict | None = None) -> dict:
        return await self.browser.send(method, params, self.session)

    async def resize(self, width: int, height: int) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    async def goto(self, url: str, timeout: float = 30.0) -> None:
        self._loaded.clear()
        await self.send("Page.navigate", {"url": url})
        await asyncio.wait_for(self._loaded.wait(), timeout)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited), as JSON."""
        reply = await self.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise CdpError(details.get("exception", {}).get("description") or details.get("text"))
        return reply["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0, interval: float = 0.05) -> Any:
        """Polls until the expression is truthy; returns its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"still false after {timeout} s: {expression}")
            await asyncio.sleep(interval)

    async def screenshot(self, *paths: Path) -> bytes:
        """A PNG of the whole page (not just the viewport), written to each path."""
        metrics = await self.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        reply = await self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        data = base64.b64decode(reply["data"])
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return data
