"""The built experiment page in headless Chromium: the kernel-free explorer's sliders work offline.

Needs the built book (``make book``) and Debian's Chromium (``make browser-deps``). The page defaults
to ``_build/html/book/experiment.html``; set ``MATFILL_EXPERIMENT_HTML`` to test another build. A
missing page or browser is a failure, not a skip: ``make test`` must not pass without running this.
The screenshot goes to ``_build/screenshots/explorer.png`` (or ``MATFILL_SCREENSHOT_DIR``).
"""

import os
import pathlib
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = pathlib.Path(
    os.environ.get(
        "MATFILL_EXPERIMENT_HTML", ROOT / "_build/html/book/experiment.html"
    )
)
SHOTS = pathlib.Path(
    os.environ.get("MATFILL_SCREENSHOT_DIR", ROOT / "_build/screenshots")
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


def _fmt(x, digits, suffix=""):
    return "n/a" if x is None else f"{x:.{digits}f}{suffix}"


@pytest.fixture(scope="module")
def browser():
    if not PAGE.is_file():
        pytest.fail(
            f"the built page {PAGE} is missing: run `make book` first (or set MATFILL_EXPERIMENT_HTML)"
        )
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=ARGS, headless=True
        )
        yield b
        b.close()


# Errors raised by the book's theme, not by anything this project writes. Anything else fails the test.
THIRD_PARTY_PAGE_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",  # sphinx-thebe's config is inlined twice
)


def _is_ours(msg_text, url, page_url):
    """A console error is ours if our script reported it or it comes from an inline script of the page."""
    return "matfill" in msg_text or url.split("?")[0] == page_url


@pytest.fixture
def page(browser):
    """The experiment page, offline: every non-file request is refused, and problems are recorded.

    ``problems``: uncaught exceptions (except the known third-party ones above) and console errors from
    our own scripts. ``foreign``: console errors of the theme's files and refused downloads, kept for
    the report. ``blocked``: the refused URLs (CDN assets such as MathJax).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.problems, pg.foreign, pg.blocked = [], [], []
    page_url = PAGE.resolve().as_uri()

    def on_console(msg):
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if _is_ours(msg.text, url, page_url):
            pg.problems.append(f"console error: {msg.text} at {url}")
        else:
            pg.foreign.append(f"{msg.text} at {url}")

    def on_pageerror(err):
        if any(known in str(err) for known in THIRD_PARTY_PAGE_ERRORS):
            pg.foreign.append(f"uncaught exception: {err}")
        else:
            pg.problems.append(f"uncaught exception: {err}")

    def on_route(route):
        if urlparse(route.request.url).scheme in ("file", "data"):
            route.continue_()
        else:
            pg.blocked.append(route.request.url)
            route.abort()

    pg.on("console", on_console)
    pg.on("pageerror", on_pageerror)
    pg.route("**/*", on_route)
    pg.goto(page_url, wait_until="load", timeout=60_000)
    yield pg
    context.close()


def _explorer(pg):
    root = pg.locator(".matfill-explorer")
    assert root.count() >= 1, "no static explorer on the page"
    uid = root.first.get_attribute("id")
    assert root.first.get_attribute("data-ready") == "true", (
        "the explorer's script did not run to the end"
    )
    data = pg.evaluate(
        "uid => JSON.parse(document.getElementById(uid + '-data').textContent)",
        uid,
    )
    return uid, data


def _shown(pg, uid):
    i, j = (
        int(v) for v in pg.get_attribute(f"#{uid}", "data-setting").split(",")
    )
    return dict(
        i=i,
        j=j,
        recon=pg.get_attribute(f"#{uid}-recon", "src"),
        masked=pg.get_attribute(f"#{uid}-masked", "src"),
        psnr=pg.inner_text(f"#{uid}-psnr"),
        psnr_missing=pg.inner_text(f"#{uid}-psnr-missing"),
        rmse=pg.inner_text(f"#{uid}-rmse"),
        rank=pg.inner_text(f"#{uid}-rank-value"),
        prop=pg.inner_text(f"#{uid}-prop-value"),
    )


def _assert_shows(pg, uid, data, i, j):
    s = _shown(pg, uid)
    assert (s["i"], s["j"]) == (i, j)
    assert s["recon"] == data["recon"][i][j]
    assert s["masked"] == data["masked"][i]
    assert s["psnr"] == _fmt(data["psnr"][i][j], 2, " dB")
    assert s["psnr_missing"] == _fmt(data["psnr_missing"][i][j], 2, " dB")
    assert s["rmse"] == _fmt(data["rmse"][i][j], 4)
    assert s["rank"] == str(data["ranks"][j])
    assert s["prop"] == f"{round(100 * data['props'][i])}%"
    assert (
        pg.evaluate(
            "id => document.getElementById(id).naturalWidth", f"{uid}-recon"
        )
        > 0
    )  # it decodes
    return s


def test_page_shows_the_static_explorer_and_no_dead_widget(page):
    uid, data = _explorer(page)
    assert page.locator(f"#{uid} input[type=range]").count() == 2
    assert (
        page.locator(
            'script[type="application/vnd.jupyter.widget-view+json"]'
        ).count()
        == 0
    )
    assert page.locator(".jupyter-widgets, .widget-slider").count() == 0
    assert len(data["ranks"]) * len(data["props"]) >= 4
    i, j = (
        int(v)
        for v in page.get_attribute(f"#{uid}", "data-setting").split(",")
    )
    _assert_shows(page, uid, data, i, j)
    assert not page.problems, page.problems


def test_keyboard_moves_both_sliders_to_the_precomputed_settings(page):
    uid, data = _explorer(page)
    i0, j0 = (
        int(v)
        for v in page.get_attribute(f"#{uid}", "data-setting").split(",")
    )
    before = _shown(page, uid)

    page.focus(f"#{uid}-rank")
    step = "ArrowLeft" if j0 == len(data["ranks"]) - 1 else "ArrowRight"
    page.keyboard.press(step)
    j1 = j0 - 1 if step == "ArrowLeft" else j0 + 1
    after_rank = _assert_shows(page, uid, data, i0, j1)
    assert (
        after_rank["recon"] != before["recon"]
        and after_rank["psnr"] != before["psnr"]
    )

    page.focus(f"#{uid}-prop")
    page.keyboard.press("End")
    i1 = len(data["props"]) - 1
    if i1 == i0:
        page.keyboard.press("Home")
        i1 = 0
    after_prop = _assert_shows(page, uid, data, i1, j1)
    assert (
        after_prop["masked"] != after_rank["masked"]
        and after_prop["psnr"] != after_rank["psnr"]
    )

    root = page.locator(f"#{uid}")
    root.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SHOTS / "explorer.png"))
    assert (SHOTS / "explorer.png").stat().st_size > 1000
    assert not page.problems, page.problems


def test_script_driven_input_events_visit_every_setting(page):
    uid, data = _explorer(page)
    for i in range(len(data["props"])):
        for j in range(len(data["ranks"])):
            page.evaluate(
                """([uid, i, j]) => {
                    for (const [name, v] of [["prop", i], ["rank", j]]) {
                        const el = document.getElementById(uid + "-" + name);
                        el.value = String(v);
                        el.dispatchEvent(new Event(name === "prop" ? "input" : "change", {bubbles: true}));
                    }
                }""",
                [uid, i, j],
            )
            _assert_shows(page, uid, data, i, j)
    assert not page.problems, page.problems


def test_offline_failures_are_only_blocked_downloads_and_known_theme_errors(
    page,
):
    """Offline, only third-party assets fail to load (e.g. MathJax from a CDN); our scripts raise nothing."""
    assert all(urlparse(u).scheme in ("http", "https") for u in page.blocked)
    for text in page.foreign:
        network = (
            text.startswith("Failed to load resource") and " at http" in text
        )
        theme = "/_static/" in text or text.startswith("uncaught exception")
        assert network or theme, text
    assert not page.problems, page.problems


def test_error_attribution_flags_our_own_errors():
    page_url = "file:///book/experiment.html"
    assert _is_ours("matfill explorer mfx-1: TypeError", "", page_url)
    assert _is_ours("ReferenceError: x is not defined", page_url, page_url)
    assert not _is_ours(
        "Failed to load resource: net::ERR_FAILED",
        "https://cdn.jsdelivr.net/x.js",
        page_url,
    )
    assert not _is_ours(
        "Got invalid theme mode",
        "file:///_static/scripts/theme.js?digest=1",
        page_url,
    )
