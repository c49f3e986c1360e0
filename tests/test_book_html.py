"""Checks of the built HTML book (``make book`` first): what every chapter page must carry.

- every cell that draws shows its figure (an ``MPLBACKEND=Agg`` in the caller's environment once
  built pages whose figures were all missing, with no warning);
- the Binder, Colab and repository buttons, pointing at the repository of ``_config.yml``;
- no script or style sheet from another site (the pages must work offline), and the math engine is
  served from the book itself.
"""

import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.chromium import HTML
from tests.test_notebooks import NOTEBOOKS
from tools import repository

pytestmark = pytest.mark.book

# a call that draws a matplotlib figure in a notebook cell
DRAWS = re.compile(
    r"plt\.show\(|\bshow_images\(|\bplot_[a-z_]+\(|\.imshow\(|plt\.subplots\("
)


def _page(nb_path):
    path = HTML / "book" / f"{nb_path.stem}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book` first")
    return BeautifulSoup(path.read_text(), "html.parser")


def _cells(nb_path):
    """(source, tags) of each code cell the page shows (``remove-cell`` cells are not built)."""
    cells = json.loads(nb_path.read_text())["cells"]
    shown = []
    for c in cells:
        tags = set(c.get("metadata", {}).get("tags", []))
        if c["cell_type"] == "code" and "remove-cell" not in tags:
            shown.append(("".join(c["source"]), tags))
    return shown


def _html_cells(soup):
    return [
        div
        for div in soup.select("div.cell")
        if not div.find_parent("div", class_="cell")
    ]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_that_draws_shows_a_figure(nb_path):
    cells, divs = _cells(nb_path), _html_cells(_page(nb_path))
    assert len(cells) == len(divs), (
        f"{len(cells)} shown code cells in the notebook, {len(divs)} on the page"
    )
    drawing = 0
    for i, ((source, tags), div) in enumerate(zip(cells, divs)):
        if DRAWS.search(source) and "remove-output" not in tags:
            drawing += 1
            out = div.select_one(".cell_output")
            assert out is not None and out.find("img"), (
                f"{nb_path.stem}: code cell {i} draws but the page shows no image:\n"
                f"{source[:200]}"
            )
    print(f"{nb_path.stem}: {drawing} drawing cells, each with its figure")


def test_the_book_draws_figures():
    """The check above is not vacuous: most chapters have cells that draw."""
    drawing = [
        p for p in NOTEBOOKS if any(DRAWS.search(s) for s, _ in _cells(p))
    ]
    assert len(drawing) >= 7, [p.stem for p in drawing]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_launch_and_repository_buttons(nb_path):
    url, branch = repository.setting()
    owner_name = url.removeprefix("https://github.com/")
    soup = _page(nb_path)
    links = {a.get("href", "") for a in soup.find_all("a")}
    path = f"book/{nb_path.name}"
    binder = f"https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/{path}"
    colab = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{path}"
    assert binder in links, "no Binder button"
    assert colab in links, "no Colab button"
    assert url in links, "no repository button"


@pytest.mark.parametrize(
    "page", sorted(HTML.rglob("*.html")) or [HTML / "index.html"], ids=str
)
def test_no_script_or_style_from_another_site(page):
    if not page.is_file():
        pytest.fail(f"{page} is missing: run `make book` first")
    soup = BeautifulSoup(page.read_text(), "html.parser")
    remote = [
        s.get("src")
        for s in soup.find_all("script")
        if re.match(r"(https?:)?//", s.get("src", ""))
    ]
    remote += [
        link.get("href")
        for link in soup.find_all("link", rel="stylesheet")
        if re.match(r"(https?:)?//", link.get("href", ""))
    ]
    assert remote == []


def test_math_is_served_by_the_book():
    page = (HTML / "book" / "als.html").read_text()
    src = re.search(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page)
    assert src, "no MathJax script on a page with math"
    assert (HTML / "book" / src.group(1).split("?")[0]).resolve().is_file()
