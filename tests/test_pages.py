"""Every page of the built book, offline in headless Chromium: math renders, nothing fails to load,
nothing logs an error. Screenshots of one chapter in light, dark and at 400 px land under
``_build/screenshots/``.
"""

import pytest
import yaml

from tests.chromium import HTML, ROOT, SHOTS, open_offline

pytestmark = pytest.mark.browser


def pages():
    """The built page of every entry of the table of contents."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    return [HTML / f"{f}.html" for f in files]


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


MATH_READY = """async () => {
    if (!document.querySelector('.math')) return 'no math';
    if (!window.MathJax || !MathJax.startup) return 'no MathJax';
    await MathJax.startup.promise;
    return 'typeset';
}"""

MATH_STATE = """() => {
    const spans = [...document.querySelectorAll('span.math, div.math')];
    return {
        math: spans.length,
        rendered: spans.filter(s => s.querySelector('mjx-container')).length,
        containers: document.querySelectorAll('mjx-container').length,
        raw: spans.filter(s => !s.querySelector('mjx-container')
                               && /\\\\\\(|\\\\\\[|\\$\\$/.test(s.textContent))
                  .map(s => s.textContent.slice(0, 60)),
    };
}"""


@pytest.mark.parametrize("path", pages(), ids=lambda p: p.stem)
def test_page_is_complete_offline(context, path):
    page = open_offline(context, path)
    state = page.evaluate(MATH_READY)
    assert state != "no MathJax", "the page has math but MathJax did not load"
    math = page.evaluate(MATH_STATE)
    if math["math"]:
        assert math["containers"] > 0, (
            "no mjx-container: math shows as raw TeX"
        )
        assert math["rendered"] == math["math"], math["raw"]
    page.wait_for_load_state("networkidle")
    assert page.blocked == [], f"requests to the network: {page.blocked}"
    assert page.failed == [], f"failed requests: {page.failed}"
    assert page.errors == [], f"console errors: {page.errors}"
    print(
        f"{path.stem}: {math['math']} formulas rendered, 0 requests refused or failed"
    )


def test_the_book_has_math_pages():
    """The offline math check above is not vacuous: the book has pages with formulas."""
    with_math = [p for p in pages() if 'class="math' in p.read_text()]
    assert len(with_math) >= 5, [p.stem for p in with_math]


@pytest.mark.parametrize(
    "name, viewport, scheme",
    [
        ("light", {"width": 1280, "height": 900}, "light"),
        ("dark", {"width": 1280, "height": 900}, "dark"),
        ("mobile", {"width": 400, "height": 860}, "light"),
    ],
)
def test_chapter_screenshots(browser, name, viewport, scheme):
    ctx = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = open_offline(
        ctx, HTML / "book" / "gradient_descent.html", color_scheme=scheme
    )
    page.evaluate(MATH_READY)
    theme = page.evaluate("document.documentElement.dataset.theme")
    assert theme == scheme, (
        f"the theme did not follow the system's {scheme} mode"
    )
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"chapter-{name}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert page.errors == [], page.errors
    ctx.close()


def test_figures_open_full_size_on_a_phone(browser):
    ctx = browser.new_context(viewport={"width": 400, "height": 860})
    page = open_offline(ctx, HTML / "book" / "experiment.html")
    links = page.evaluate(
        """() => [...document.querySelectorAll('.cell_output a.matfill-zoom')]
            .map(a => [a.getAttribute('href'), a.querySelector('img').naturalWidth,
                       a.querySelector('img').getBoundingClientRect().width])"""
    )
    assert links, "no figure can be opened full size"
    for href, _, shown in links:
        assert (HTML / "book" / href).resolve().is_file(), href
        assert shown <= 400
    assert any(natural > shown for _, natural, shown in links), (
        "no figure is shrunk on a phone: nothing to open full size"
    )
    assert page.errors == [], page.errors
    ctx.close()


CONTRAST = """() => {
    const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = el => {
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const out = [];
    const root = '.cell_output .output.text_html, .cell_output .text_html, .matfill-explorer';
    for (const scope of document.querySelectorAll(root)) {
        for (const el of scope.querySelectorAll('*')) {
            const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (!own || el.closest('script, style') || !el.getClientRects().length) continue;
            const style = getComputedStyle(el);
            if (style.visibility === 'hidden' || style.display === 'none') continue;
            let fg = parse(style.color);
            const bg = background(el);
            if (fg.length === 4) fg = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
            const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
            out.push({text: el.textContent.trim().slice(0, 30), ratio: (a + 0.05) / (b + 0.05),
                      fg: style.color, bg: bg.join(',')});
        }
    }
    return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", pages(), ids=lambda p: p.stem)
def test_text_the_book_styles_is_readable_in_both_themes(
    browser, path, scheme
):
    """WCAG AA: at least 4.5:1 for the text of the book's own HTML outputs (tables, explorer)."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=scheme
    )
    page = open_offline(ctx, path, color_scheme=scheme)
    assert page.evaluate("document.documentElement.dataset.theme") == scheme
    items = page.evaluate(CONTRAST)
    low = [i for i in items if i["ratio"] < 4.5]
    assert low == [], low[:5]
    print(
        f"{path.stem} {scheme}: {len(items)} text elements, lowest ratio "
        f"{min((i['ratio'] for i in items), default=float('nan')):.2f}"
    )
    ctx.close()
