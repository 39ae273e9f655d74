"""Artifacts as files under one folder: the laptop default (<data_dir>/artifacts), or any
folder every reader mounts (a shared volume).

A write goes to a temporary file in the same folder, is flushed to disk, then renamed over
the key's path: rename is atomic on one filesystem, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from common.artifacts.base import ArtifactUnavailable


class FolderStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"artifact key {key!r} leaves {self.root}")
        return path

    def location(self, key: str) -> str:
        return self._path(key).as_uri()

    async def write(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise

    async def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise ArtifactUnavailable(f"{path}: {exc.strerror or exc}") from exc

    async def aclose(self) -> None:
        return None
