"""Headless Chromium for the page tests: Debian's browser, pages opened offline from ``file://``.

``open_offline`` refuses every request that is not ``file:``, ``data:`` or ``blob:`` and records,
for the test to assert on: ``blocked`` (refused URLs), ``failed`` (requests that failed),
``errors`` (console errors and uncaught exceptions).
"""

import os
import pathlib

import pytest

import tools.chromium
from tools.chromium import CHROMIUM, refuse_network

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = pathlib.Path(os.environ.get("MATFILL_HTML", ROOT / "_build" / "html"))
SHOTS = pathlib.Path(
    os.environ.get("MATFILL_SCREENSHOT_DIR", ROOT / "_build" / "screenshots")
)


def launch(playwright):
    """Debian's Chromium, headless; a missing browser fails the test (never a skip)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser-deps`")
    return tools.chromium.launch(playwright)


def open_offline(context, path, *, color_scheme=None):
    """Open ``path`` from ``file://`` with the network refused; returns the page."""
    if not path.is_file():
        pytest.fail(f"the built page {path} is missing: run `make book` first")
    page = context.new_page()
    page.blocked, page.failed, page.errors = [], [], []

    refuse_network(page, blocked=page.blocked)
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
