"""The PDF of the whole book (``make pdf``): every chapter, rendered math, figures, bookmarks."""

import json
import re

import pytest

from tests.chromium import ROOT
from tests.test_notebooks import NOTEBOOKS

pytestmark = pytest.mark.book

PDF = ROOT / "_build" / "pdf" / "matfill.pdf"
RAW_TEX = re.compile(
    r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\sum|\\mathbb|\\lambda|\\top"
)


@pytest.fixture(scope="module")
def pdf():
    from pypdf import PdfReader

    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    reader = PdfReader(PDF)
    text = [page.extract_text() or "" for page in reader.pages]
    return reader, text


def _title(nb_path):
    first = "".join(json.loads(nb_path.read_text())["cells"][0]["source"])
    return re.search(r"^# (.+)$", first, re.M).group(1).strip()


def test_the_pdf_has_a_cover_contents_and_every_chapter(pdf):
    reader, text = pdf
    assert "matfill" in text[0] and "CC BY 2.0" in text[0]
    assert text[1].startswith("Contents")
    whole = "\n".join(text)
    for nb_path in NOTEBOOKS:
        title = _title(nb_path)
        assert title in text[1], f"{title!r} is not in the contents"
        assert whole.count(title) >= 2, f"{title!r} is not printed"
    bookmarks = [item.title for item in reader.outline]
    for nb_path in NOTEBOOKS:
        assert _title(nb_path) in bookmarks
    assert len(reader.pages) >= 40


def test_the_pdf_has_no_raw_tex(pdf):
    _, text = pdf
    raw = [
        (i + 1, m.group(0))
        for i, t in enumerate(text)
        for m in RAW_TEX.finditer(t)
    ]
    assert raw == [], f"raw TeX on pages {raw[:10]}"


def test_the_pdf_has_the_figures(pdf):
    reader, _ = pdf
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 30, images


def test_the_pdf_prints_the_solutions_open(pdf):
    from tests.notebook_exercises import CHAPTERS, plain_phrases, read

    _, text = pdf
    whole = " ".join(" ".join(text).split())
    for chapter in CHAPTERS:
        _, solutions, _ = read(chapter)
        phrases = [
            p for s in solutions for t in s.prose for p in plain_phrases(t)
        ]
        assert phrases, f"{chapter}: no solution prose to look for"
        found = [p for p in phrases if p in whole]
        assert len(found) >= len(phrases) // 2, (
            f"{chapter}: {len(found)} of {len(phrases)} solution phrases printed"
        )
