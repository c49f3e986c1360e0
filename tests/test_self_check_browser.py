"""Self-check questions in headless Chromium: a standalone page written from ``mh.self_check``.

The page is opened from ``file://`` with the network refused (tests/chromium.py). The tests
answer wrongly and then rightly, by mouse and by keyboard alone, at a 400 px wide screen, and in
the book theme's dark mode, where every text must keep AA contrast (4.5:1) with its background.
Screenshots go to ``_build/screenshots/`` (or ``MATFILL_SCREENSHOT_DIR``):
``self-check-wrong-1280.png``, ``self-check-right-1280.png``, the same at 400 px, and
``self-check-dark.png``.
"""

import pytest

import matfill_helpers as mh
from tests.chromium import SHOTS, open_offline

pytestmark = pytest.mark.browser

CHOICE, NUMBER = "masking-nan-mean", "masking-observed"

# pydata-sphinx-theme's colours, as the book's pages set them (light, and html[data-theme=dark])
THEME = """
html[data-theme="light"] { --pst-color-text-base: #222832; --pst-color-background: #fff;
  --pst-color-on-background: #fff; --pst-color-border: #d1d5da; --pst-color-primary: #0a7d91;
  --pst-color-success: #00843f; --pst-color-danger: #d72d47; --pst-color-accent: #c132af; }
html[data-theme="dark"] { --pst-color-text-base: #ced6dd; --pst-color-background: #14181e;
  --pst-color-on-background: #222832; --pst-color-border: #48566b; --pst-color-primary: #3fb1c5;
  --pst-color-success: #5fb488; --pst-color-danger: #e78894; --pst-color-accent: #e47fd7;
  color-scheme: dark; }
body { background: var(--pst-color-background, #fff); color: var(--pst-color-text-base, #000);
  font-family: sans-serif; margin: 8px; }
"""


def _page(path, body, *, theme=None):
    attr = f' data-theme="{theme}"' if theme else ""
    style = f"<style>{THEME}</style>" if theme else ""
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"{attr}><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>self-check</title>{style}</head><body>\n"
        "<p>Some text of the chapter before the question.</p>\n"
        f"{body}\n<p>And after it.</p>\n</body></html>\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def page(browser, tmp_path):
    """Opens a page of two outputs (each inlines the script): a choice and a numeric question."""
    contexts = []

    def open_(*, width=1280, theme=None, body=None):
        if body is None:
            body = (
                mh.self_check(CHOICE).html
                + "<script>window.firstLibrary = window.matfillSelfCheck;"
                "</script>" + mh.self_check(NUMBER).html
            )
        path = _page(
            tmp_path / f"page-{len(contexts)}.html", body, theme=theme
        )
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(ctx)
        pg = open_offline(ctx, path)
        pg.wait_for_function(
            "[...document.querySelectorAll('.self-check')]"
            ".every(e => e.dataset.ready === 'true')"
        )
        return pg

    yield open_
    for ctx in contexts:
        ctx.close()


def _feedback(pg, qid):
    root = pg.locator(f'.self-check[data-question="{qid}"]')
    return root.get_attribute("data-state"), root.locator(
        ".self-check-feedback"
    ).inner_text()


def _clean(pg):
    assert not pg.errors and not pg.blocked and not pg.failed, (
        pg.errors,
        pg.blocked,
        pg.failed,
    )


def test_every_question_is_wired_up_once_by_one_shared_script(page):
    pg = page()
    assert pg.locator(".self-check").count() == 2
    assert pg.locator(".self-check[data-ready=true]").count() == 2
    # the second output reused the library that the first one defined
    assert pg.evaluate("window.firstLibrary === window.matfillSelfCheck")
    _clean(pg)


def test_a_wrong_choice_explains_itself_inside_the_element_then_the_right_one(
    page,
):
    pg = page()
    root = pg.locator(f'.self-check[data-question="{CHOICE}"]')
    root.get_by_role("button", name="The mean of the observed pixels.").click()
    state, text = _feedback(pg, CHOICE)
    assert state == "wrong" and text.startswith("✗ Not quite.")
    assert "torch.nanmean skips missing values" in text
    assert root.locator(".self-check-feedback").count() == 1
    root.get_by_role("button", name="NaN.", exact=True).click()
    state, text = _feedback(pg, CHOICE)
    assert state == "right" and text.startswith("✓ Right.")
    assert "torch.nanmean / torch.nansum" in text  # the explanation
    pressed = root.locator(".self-check-choice[aria-pressed=true]")
    assert pressed.count() == 1 and pressed.inner_text().endswith("NaN.")
    _clean(pg)


def test_a_numeric_answer_gets_feedback_for_a_common_mistake_then_the_worked_answer(
    page,
):
    pg = page()
    root = pg.locator(f'.self-check[data-question="{NUMBER}"]')
    box = root.get_by_label("Your answer")
    box.fill("6554")  # the missing pixels, not the observed ones
    box.press("Enter")
    state, text = _feedback(pg, NUMBER)
    assert state == "wrong" and "number of *missing* pixels" not in text
    assert "That is about the number of missing pixels" in text
    box.fill("12000")
    root.get_by_role("button", name="Check").click()
    state, text = _feedback(pg, NUMBER)
    assert state == "wrong" and "too high" in text and "1 − prop" in text
    box.fill("about nine thousand")
    box.press("Enter")
    assert _feedback(pg, NUMBER)[0] == "invalid"
    box.fill("9 830")  # a thousands separator is fine
    box.press("Enter")
    state, text = _feedback(pg, NUMBER)
    assert state == "right" and "The answer is 9830.4 pixels" in text
    assert "(1 − 0.4) × 128 × 128" in text
    _clean(pg)


def test_show_the_answer_reveals_the_worked_answer(page):
    pg = page()
    root = pg.locator(f'.self-check[data-question="{NUMBER}"]')
    root.get_by_role("button", name="Show the answer").click()
    state, text = _feedback(pg, NUMBER)
    assert state == "revealed" and "The answer: 9830.4 pixels" in text


def _tab_to(pg, predicate, limit=12):
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate(predicate):
            return
    raise AssertionError(f"Tab never reached {predicate}")


def test_the_questions_work_with_the_keyboard_alone(page):
    pg = page()
    # Tab to the second choice (a wrong one) and press Space
    _tab_to(pg, "document.activeElement.dataset.choice === '1'")
    outline = pg.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline != "none"  # the focus is visible
    pg.keyboard.press("Space")
    assert _feedback(pg, CHOICE)[0] == "wrong"
    # back to the first choice, the right one, and Enter
    pg.keyboard.press("Shift+Tab")
    pg.keyboard.press("Enter")
    assert _feedback(pg, CHOICE)[0] == "right"
    # on to the numeric answer: type, Enter submits
    _tab_to(
        pg, "document.activeElement.classList.contains('self-check-input')"
    )
    pg.keyboard.type("16384")
    pg.keyboard.press("Enter")
    state, text = _feedback(pg, NUMBER)
    assert state == "wrong" and "That is every pixel of the image" in text
    pg.keyboard.press("Control+A")
    pg.keyboard.type("9830")
    pg.keyboard.press("Enter")
    assert _feedback(pg, NUMBER)[0] == "right"
    # the reveal button is reachable too
    _tab_to(
        pg, "document.activeElement.classList.contains('self-check-reveal')"
    )
    pg.keyboard.press("Space")
    assert _feedback(pg, NUMBER)[0] == "revealed"
    _clean(pg)


def _answer_wrong(pg):
    pg.locator(
        f'.self-check[data-question="{CHOICE}"] .self-check-choice'
    ).nth(2).click()
    box = pg.locator(f'.self-check[data-question="{NUMBER}"] input')
    box.fill("6554")
    box.press("Enter")


def _answer_right(pg):
    pg.locator(
        f'.self-check[data-question="{CHOICE}"] .self-check-choice'
    ).nth(0).click()
    box = pg.locator(f'.self-check[data-question="{NUMBER}"] input')
    box.fill("9830")
    box.press("Enter")


@pytest.mark.parametrize("width", [1280, 400])
def test_the_questions_fit_the_screen_and_are_photographed(page, width):
    pg = page(width=width, theme="light")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for answer, name in ((_answer_wrong, "wrong"), (_answer_right, "right")):
        answer(pg)
        pg.screenshot(
            path=str(SHOTS / f"self-check-{name}-{width}.png"), full_page=True
        )
        sizes = pg.evaluate(
            """() => ({page: document.scrollingElement.scrollWidth,
                right: Math.max(...[...document.querySelectorAll('.self-check')]
                  .map(e => e.getBoundingClientRect().right))})"""
        )
        assert sizes["page"] <= width and sizes["right"] <= width, sizes
    _clean(pg)


CONTRAST = """() => {
  const parse = c => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (t, u) => ({r: t.r * t.a + u.r * (1 - t.a), g: t.g * t.a + u.g * (1 - t.a),
                           b: t.b * t.a + u.b * (1 - t.a), a: 1});
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (x, y) => {
    const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  const out = [], seen = new Set();
  for (const root of document.querySelectorAll('.self-check')) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const node = walk.currentNode, el = node.parentElement;
      if (!node.textContent.trim() || seen.has(el) || el.closest('script, style')) continue;
      seen.add(el);
      if (!el.getClientRects().length) continue;
      const bg = background(el), fg = parse(getComputedStyle(el).color);
      out.push({text: node.textContent.trim().slice(0, 40), color: getComputedStyle(el).color,
                ratio: ratio(over(fg, bg), bg)});
    }
    root.querySelectorAll('input').forEach(el => {
      const bg = background(el), fg = parse(getComputedStyle(el).color);
      out.push({text: 'input ' + el.value, ratio: ratio(over(fg, bg), bg)});
    });
  }
  return out;
}"""


@pytest.mark.parametrize("theme", ["dark", "light", None])
def test_every_text_keeps_aa_contrast_in_the_light_and_the_dark_theme(
    page, theme
):
    pg = page(theme=theme)
    _answer_wrong(pg)
    texts = pg.evaluate(CONTRAST)
    joined = " ".join(t["text"] for t in texts)
    for needed in ("Check yourself", "NaN.", "Not quite.", "Show the answer"):
        assert needed in joined, needed
    low = [t for t in texts if t["ratio"] < 4.5]
    assert not low, low
    if theme == "dark":
        # the theme's colours are used, not a light box in a dark page
        color = pg.evaluate(
            "getComputedStyle(document.querySelector('.self-check')).color"
        )
        assert color == "rgb(206, 214, 221)"  # --pst-color-text-base, dark
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "self-check-dark.png"), full_page=True)
    _clean(pg)


def test_a_question_text_cannot_inject_markup(page, tmp_path):
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "demo.yml").write_text(
        "questions:\n  - id: demo-inject\n    kind: choice\n"
        '    prompt: "<img src=x onerror=alert(1)> </script><b>x</b>"\n'
        "    choices:\n      - {text: A, feedback: Because., correct: true}\n"
        '      - {text: B, feedback: "<script>bad()</script>"}\n',
        encoding="utf-8",
    )
    pg = page(body=mh.self_check("demo-inject", folder=folder).html)
    assert pg.locator(".self-check img, .self-check b").count() == 0
    pg.get_by_role("button", name="B").click()
    text = pg.locator(".self-check-feedback").inner_text()
    assert "<script>bad()</script>" in text  # shown as text
    prompt = pg.locator(".self-check-prompt").inner_text()
    assert prompt == "<img src=x onerror=alert(1)> </script><b>x</b>"
    _clean(pg)
