"""Headless Chromium for the page tests: Debian's browser, pages opened offline from ``file://``.

``open_offline`` refuses every request that is not ``file:``, ``data:`` or ``blob:`` and records,
for the test to assert on: ``blocked`` (refused URLs), ``failed`` (requests that failed),
``errors`` (console errors and uncaught exceptions).
"""

import os
import pathlib
from urllib.parse import urlparse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = pathlib.Path(os.environ.get("MATFILL_HTML", ROOT / "_build" / "html"))
SHOTS = pathlib.Path(
    os.environ.get("MATFILL_SCREENSHOT_DIR", ROOT / "_build" / "screenshots")
)
CHROMIUM = os.environ.get("MATFILL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL = ("file", "data", "blob")


def launch(playwright):
    """Debian's Chromium, headless; a missing browser fails the test (never a skip)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser-deps`")
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=ARGS, headless=True
    )


def open_offline(context, path, *, color_scheme=None):
    """Open ``path`` from ``file://`` with the network refused; returns the page."""
    if not path.is_file():
        pytest.fail(f"the built page {path} is missing: run `make book` first")
    page = context.new_page()
    page.blocked, page.failed, page.errors = [], [], []

    def on_route(route):
        if urlparse(route.request.url).scheme in LOCAL:
            route.continue_()
        else:
            page.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", on_route)
    page.on(
        "requestfailed",
        lambda r: page.failed.append(f"{r.url} ({r.failure})"),
    )
    page.on(
        "console",
        lambda m: (
            page.errors.append(
                f"console: {m.text} at {(m.location or {}).get('url', '')}"
            )
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda e: page.errors.append(f"exception: {e}"))
    if color_scheme:
        page.emulate_media(color_scheme=color_scheme)
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=60_000)
    return page
