"""Headless Chromium for the book's tools and tests: Debian's browser, offline.

``launch`` starts it with the flags that work without a network or a GPU; ``refuse_network``
lets a page (or a whole browser context) load only ``file:``, ``data:`` and ``blob:`` URLs.
``MATFILL_CHROMIUM`` names another browser binary.
"""

import os
from urllib.parse import urlparse

CHROMIUM = os.environ.get("MATFILL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL = ("file", "data", "blob")  # the only URL schemes a page may load


def launch(playwright):
    """Debian's Chromium (``CHROMIUM``), headless, through a running playwright."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=ARGS, headless=True
    )


def refuse_network(target, *, requests=None, blocked=None):
    """Route every request of ``target`` (a page or a context): local URLs load, others fail.

    ``requests`` and ``blocked`` (optional lists) collect every URL asked for and the refused
    ones.
    """

    def on_route(route):
        url = route.request.url
        if requests is not None:
            requests.append(url)
        if urlparse(url).scheme in LOCAL:
            route.continue_()
        else:
            if blocked is not None:
                blocked.append(url)
            route.abort()

    target.route("**/*", on_route)
