"""The page's files are plain, self-contained and shipped: no browser needed for these checks."""

from __future__ import annotations

import re
import tomllib

from common.settings import REPO_ROOT
from gateway.app import STATIC_DIR


def test_every_static_file_is_shipped_in_the_wheel():
    # The Docker image installs a wheel: a file type missing from package-data would 404 there.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    shipped = {pattern.removeprefix("*") for pattern in pyproject["tool"]["setuptools"]["package-data"]["*"]}
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert files and all(p.suffix in shipped for p in files), [p.name for p in files]


def test_the_page_loads_nothing_from_elsewhere():
    # Offline by design: every script, style and link of the page is on the gateway itself.
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
            assert not re.search(r"""(import|from)\s*\(?\s*["'](https?:)?//""", text), path.name
            assert "@import url(http" not in text, path.name
