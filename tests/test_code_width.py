"""No code block of a chapter scrolls sideways at a 1280 x 900 window (headless Chromium).

Opens every chapter page of the built book from ``file://`` (``_build/html``, or
``MATFILL_HTML``), offline, and opens what a reader can open: collapsed cells (``<details>``) and
the collapsed solutions. Then it measures every code block of the chapter: cell inputs, text
outputs and included source (``literalinclude``), and checks ``scrollWidth <= clientWidth``. It
prints how many blocks it checked and how many scroll. Screenshots of an exercise with its
solution open, and of a code block, go to ``_build/screenshots`` (or ``MATFILL_SCREENSHOT_DIR``).
Needs the built book (``make book``) and Debian's Chromium (``make browser-deps``); a missing
page or browser is a failure, not a skip.
"""

import pytest

from tests.chromium import HTML, SHOTS, open_offline
from tests.notebook_exercises import CHAPTERS

pytestmark = pytest.mark.browser

WINDOW = {"width": 1280, "height": 900}

# Every <pre> of the chapter, classified; the solutions' state before anything is opened.
MEASURE = """() => {
  const article = document.querySelector('article');
  const blocks = [...article.querySelectorAll('pre')].map(pre => {
    const kind = pre.closest('.cell_output') ? 'output'
      : pre.closest('.cell_input') ? 'input' : 'source';
    const lines = pre.textContent.split('\\n');
    const widest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    return {kind, scroll: pre.scrollWidth, client: pre.clientWidth,
            shown: pre.offsetParent !== null, widest: widest.slice(0, 100)};
  });
  return blocks;
}"""

OPEN_ALL = """() => {
  document.querySelectorAll('article details').forEach(d => { d.open = true; });
  document.querySelectorAll('article .solution .toggle-button')
    .forEach(b => b.click());
}"""

COLLAPSED = """() => [...document.querySelectorAll('article .solution')].map(
  s => s.classList.contains('toggle-hidden'))"""


def open_chapter(browser, chapter):
    context = browser.new_context(viewport=WINDOW)
    return context, open_offline(context, HTML / "book" / f"{chapter}.html")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_code_block_scrolls_sideways(browser, chapter):
    context, pg = open_chapter(browser, chapter)
    try:
        collapsed = pg.evaluate(COLLAPSED)
        assert collapsed and all(collapsed), (
            f"{chapter}: solutions open on load: {collapsed}"
        )
        pg.evaluate(OPEN_ALL)
        assert not any(pg.evaluate(COLLAPSED)), f"{chapter}: did not open"
        blocks = pg.evaluate(MEASURE)
    finally:
        context.close()
    hidden = [b for b in blocks if not b["shown"]]
    assert not hidden, f"{chapter}: {len(hidden)} code blocks stayed hidden"
    failing = [b for b in blocks if b["scroll"] > b["client"]]
    kinds = {
        k: sum(b["kind"] == k for b in blocks)
        for k in ("input", "output", "source")
    }
    print(
        f"{chapter}: checked {len(blocks)} code blocks ({kinds['input']} inputs, "
        f"{kinds['output']} outputs, {kinds['source']} other), {len(failing)} scroll sideways"
    )
    assert kinds["input"] > 0
    assert not failing, "\n".join(
        f"{b['kind']}: {b['scroll']} > {b['client']} px: {b['widest']!r}"
        for b in failing
    )


def test_included_source_is_measured(browser):
    """The chapters that include helper source show it as code blocks of their own."""
    for chapter in ("als", "beyond_low_rank"):
        context, pg = open_chapter(browser, chapter)
        try:
            kinds = [b["kind"] for b in pg.evaluate(MEASURE)]
        finally:
            context.close()
        assert "source" in kinds, chapter


def test_screenshots_of_an_exercise_and_a_code_block(browser):
    context, pg = open_chapter(browser, "masking")
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        exercises = pg.locator("article .exercise")
        assert exercises.count() >= 3
        first_solution = pg.locator("article .solution").first
        first_solution.locator(".toggle-button").click()
        # page coordinates of the first exercise and its (now open) solution
        top = pg.evaluate(
            "el => el.getBoundingClientRect().top + window.scrollY",
            exercises.first.element_handle(),
        )
        bottom = pg.evaluate(
            "el => el.getBoundingClientRect().bottom + window.scrollY",
            first_solution.element_handle(),
        )
        pg.screenshot(
            path=str(SHOTS / "exercise.png"),
            clip={
                "x": 0,
                "y": top - 10,
                "width": WINDOW["width"],
                "height": bottom - top + 20,
            },
            full_page=True,
        )
        code = pg.locator("article .cell_input pre").nth(1)
        code.scroll_into_view_if_needed()
        code.screenshot(path=str(SHOTS / "code_block.png"))
    finally:
        context.close()
    for name in ("exercise.png", "code_block.png"):
        assert (SHOTS / name).stat().st_size > 1000, name
