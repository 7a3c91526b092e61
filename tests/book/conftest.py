"""Fixtures for the site tests: build the book once, serve it, open it in headless Chromium.

The build is the real one (`jupyter-book build . -W -n --keep-going`, executed notebooks cached in
_build/.jupyter_cache), so a warm run costs seconds and a cold run executes every chapter.
Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download is not used.
"""

from __future__ import annotations

import functools
import http.server
import os
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def built_site() -> Path:
    """Build the site (cached execution) and return _build/html; fail with the build's log."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"]
    ROOT.joinpath("_build").mkdir(exist_ok=True)
    # pytest-xdist workers share one _build folder: build one at a time (the second hits the cache).
    with FileLock(str(ROOT / "_build" / ".build.lock")):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        log = (proc.stdout + proc.stderr)[-6000:]
        pytest.fail(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n{log}")
    assert (HTML / "index.html").exists(), f"the build wrote no {HTML / 'index.html'}"
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def site_url(built_site):
    """Serve _build/html on 127.0.0.1 at a free port, in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright's sync API."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
