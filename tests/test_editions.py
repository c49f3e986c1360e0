"""The two built editions: every solution in the book, none in the student edition.

Needs both builds: ``make book`` (``_build/html``, or ``MATFILL_HTML``) and ``make book-student``
(``_build/student/_build/html``, or ``MATFILL_STUDENT_HTML``). A missing page is a failure, not
a skip. On every chapter page of the book: at least three numbered exercises, each followed by a
collapsed solution whose title links to it, and no bookkeeping (``glue(``, timing) in sight. In
the student edition: the same exercises with the same numbers, and no trace of any solution:
neither its box nor its label nor its text (its code lines and phrases of its prose).
"""

import html
import os
import pathlib
import re

import pytest

from tests.notebook_exercises import CHAPTERS, ROOT, cells, plain_phrases, read

pytestmark = pytest.mark.book

BUILDS = {
    "book": pathlib.Path(
        os.environ.get("MATFILL_HTML", ROOT / "_build" / "html")
    ),
    "student": pathlib.Path(
        os.environ.get(
            "MATFILL_STUDENT_HTML",
            ROOT / "_build" / "student" / "_build" / "html",
        )
    ),
}
REMOVED = {"remove-cell", "remove-input"}

_EXERCISE = re.compile(
    r'<div class="[^"]*\bexercise\b[^"]*" id="(?P<id>[^"]+)">\s*'
    r'<p class="admonition-title"><span class="caption-number">'
    r"Exercise (?P<number>\d+\.\d+) </span>"
)
_SOLUTION = re.compile(
    r'<div class="(?P<cls>[^"]*\bsolution\b[^"]*)" id="(?P<id>[^"]+)">\s*'
    r'<p class="admonition-title">Solution to<a class="reference internal" '
    r'href="#(?P<target>[^"]+)"> Exercise (?P<number>\d+\.\d+)'
)
_BLOCK_TAGS = re.compile(
    r"</?(p|div|pre|li|br|h[1-6]|section|summary|details|td|th|tr)\b[^>]*>"
)


def page(edition, chapter):
    path = BUILDS[edition] / "book" / f"{chapter}.html"
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: run `make book` and `make book-student` first"
        )
    text = path.read_text(encoding="utf8")
    start, end = text.index("<article"), text.index("</article>")
    return text[start:end]  # the chapter itself, without navigation


def visible_text(fragment):
    """The text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    text = _BLOCK_TAGS.sub("\n", fragment)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def fingerprints(chapter):
    """Text of each solution that appears nowhere else in the notebook.

    For each solution label: the code lines of its shown cells (at least 20 characters) and
    the plain phrases of its prose, minus anything that also occurs outside the solutions.
    """
    _, solutions, _ = read(chapter)
    rest = "\n".join("".join(c["source"]) for c in cells(chapter))
    for sol in solutions:
        for part in sol.prose + [src for src, _ in sol.code]:
            rest = rest.replace(part, "")
    outside = " ".join(rest.split())
    found = {}
    for sol in solutions:
        lines = [
            " ".join(line.split())
            for src, tags in sol.code
            if not set(tags) & REMOVED
            for line in src.splitlines()
            if len(line.strip()) >= 20
        ]
        phrases = [p for text in sol.prose for p in plain_phrases(text)]
        found[sol.label] = [
            text for text in lines + phrases if text not in outside
        ]
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_numbered_exercises_linked_to_collapsed_solutions(
    chapter,
):
    fragment = page("book", chapter)
    exercises = [(m["id"], m["number"]) for m in _EXERCISE.finditer(fragment)]
    labels = [ex.label for ex in read(chapter)[0]]
    assert [label for label, _ in exercises] == labels, chapter
    assert len(exercises) >= 3, f"{chapter}: {len(exercises)} exercises"
    chapter_numbers = {number.split(".")[0] for _, number in exercises}
    assert len(chapter_numbers) == 1, exercises
    assert [number.split(".")[1] for _, number in exercises] == [
        str(i) for i in range(1, len(exercises) + 1)
    ], exercises
    solutions = {m["target"]: m for m in _SOLUTION.finditer(fragment)}
    for label, number in exercises:
        assert label in solutions, f"{chapter}: no solution links to {label}"
        sol = solutions[label]
        assert sol["number"] == number, (label, sol["number"], number)
        assert "dropdown" in sol["cls"].split(), f"{label}: not collapsed"
    assert len(solutions) == len(exercises)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_solution_appears_in_the_book(chapter):
    text = visible_text(page("book", chapter))
    fragment = page("book", chapter)
    for label, prints in fingerprints(chapter).items():
        assert prints, f"{chapter}: nothing identifies solution {label}"
        assert f'id="{label}"' in fragment, f"{chapter}: {label} is missing"
        for p in prints:
            assert p in text, f"{chapter}, {label}: {p!r} is not on the page"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_student_edition_has_the_exercises_and_no_solution(chapter):
    book, student = page("book", chapter), page("student", chapter)
    assert [(m["id"], m["number"]) for m in _EXERCISE.finditer(student)] == [
        (m["id"], m["number"]) for m in _EXERCISE.finditer(book)
    ]
    assert not re.search(r'class="[^"]*\bsolution\b', student), chapter
    assert "Solution to" not in visible_text(student)
    text = visible_text(student)
    for label, prints in fingerprints(chapter).items():
        assert label not in student, f"{chapter}: {label} in the edition"
        for p in prints:
            assert p not in text, f"{chapter}, {label}: {p!r} shows"


@pytest.mark.parametrize("edition", sorted(BUILDS))
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_pages_show_no_bookkeeping(edition, chapter):
    text = visible_text(page(edition, chapter))
    for word in ("glue(", "perf_counter", "import glue"):
        assert word not in text, f"{edition}/{chapter}: {word!r} shows"


def test_visible_text_reads_like_the_page():
    fragment = (
        '<p>It&#8217;s <code><span class="n">mh</span><span class="o">.'
        '</span></code></p><div class="highlight"><pre>a  =\n1</pre></div>'
    )
    assert visible_text(fragment) == "It's mh. a = 1"
