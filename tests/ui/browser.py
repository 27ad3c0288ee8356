"""Helpers of the browser tests: ``tether ui`` as a real subprocess, headless Chromium.

Chromium is Debian's package at /usr/bin/chromium (``scripts/test`` installs
it); Playwright drives it and never downloads a browser of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def tether_ui(root: str) -> Iterator[str]:
    """``tether ui --catalog ROOT --port 0`` in a subprocess; yields the URL it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "tether.cli", "ui", "--catalog", root, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not re.fullmatch(r"http://127\.0\.0\.1:\d+/", line):
            proc.kill()
            reader.join(10)
            raise AssertionError(f"tether ui printed {line!r}; stderr: {''.join(err)}")
        yield line
        assert proc.poll() is None, f"tether ui died: {''.join(err)}"
    finally:
        proc.terminate()
        proc.wait(30)
        reader.join(10)
    assert "Traceback" not in "".join(err), "".join(err)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page that records every dialog, console message and page error."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
