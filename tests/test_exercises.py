"""The chapters' exercises and what a reader sees of their code (static checks of the notebooks).

Every chapter ends with at least three labelled exercises, each with one solution that is linked
to it and collapsed; solutions with code are gated, so their cells run in the build; code in a
solution box fits its narrower column; bookkeeping (``glue``, timing) sits in removed cells.
The built pages are checked by ``test_editions.py`` and ``test_code_width.py``.
"""

import re

import pytest

from tests.notebook_exercises import CHAPTERS, cells, plain_phrases, read

# A solution box is narrower than the text column: at a 1280 px window it shows 69 characters of
# code (measured in Chromium; the chapters' code is formatted to 75, book/ruff.toml).
SOLUTION_CODE_WIDTH = 69
REMOVED = {"remove-cell", "remove-input"}


def test_the_book_has_chapters():
    assert len(CHAPTERS) >= 9, CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_ends_with_at_least_three_labelled_exercises(chapter):
    exercises, _, problems = read(chapter)
    assert not problems, problems
    assert len(exercises) >= 3, f"{chapter}: {len(exercises)} exercises"
    for ex in exercises:
        assert ex.label.startswith(chapter.split("_")[0]), (
            f"{chapter}: label {ex.label!r} should name its chapter"
        )
        assert ex.title and ex.text, f"{chapter}: {ex.label} is empty"
    headings = [
        (i, line)
        for i, cell in enumerate(cells(chapter))
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if re.match(r"#{1,2} ", line)
    ]
    last_cell, last = headings[-1]
    assert last == "## Exercises", f"{chapter}: last section is {last!r}"
    assert all(ex.cell >= last_cell for ex in exercises), (
        f"{chapter}: an exercise sits before the Exercises section"
    )


def test_exercise_labels_are_unique_across_the_book():
    labels = [ex.label for ch in CHAPTERS for ex in read(ch)[0]]
    labels += [s.label for ch in CHAPTERS for s in read(ch)[1]]
    assert len(labels) == len(set(labels)), sorted(
        label for label in labels if labels.count(label) > 1
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_one_collapsed_solution_right_after_it(chapter):
    exercises, solutions, _ = read(chapter)
    labels = [ex.label for ex in exercises]
    assert sorted(s.target for s in solutions) == sorted(labels), (
        f"{chapter}: exercises {labels}, solutions to "
        f"{[s.target for s in solutions]}"
    )
    for ex, sol in zip(exercises, solutions):
        assert sol.target == ex.label, (
            f"{chapter}: the solution after {ex.label} is to {sol.target}"
        )
        assert sol.label, f"{chapter}: the solution to {ex.label} has no label"
        assert "dropdown" in sol.classes, (
            f"{chapter}: the solution to {ex.label} is not collapsed"
        )
        assert sol.prose or sol.code, f"{chapter}: {sol.label} is empty"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_asks_for_code_and_for_reasoning(chapter):
    """At least one solution runs code (gated), and at least one answers in words."""
    _, solutions, _ = read(chapter)
    shown = [
        s for s in solutions if any(not set(t) & REMOVED for _, t in s.code)
    ]
    assert shown, f"{chapter}: no exercise asks for code"
    explained = [
        s for s in solutions if sum(len(p.split()) for p in s.prose) >= 30
    ]
    assert explained, f"{chapter}: no solution explains its answer in words"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_solutions_run_in_the_build(chapter):
    """Gated code cells are ordinary cells: executed, never skipped or allowed to fail."""
    for sol in read(chapter)[1]:
        assert sol.gated or not sol.code, sol.label
        for source, tags in sol.code:
            assert not {"skip-execution", "raises-exception"} & set(tags), (
                f"{chapter}: {sol.label} has a cell that does not run"
            )
            assert source.strip(), f"{chapter}: {sol.label} has an empty cell"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_code_fits_the_solution_box(chapter):
    for sol in read(chapter)[1]:
        for source, tags in sol.code:
            if set(tags) & REMOVED:
                continue
            for line in source.splitlines():
                assert len(line) <= SOLUTION_CODE_WIDTH, (
                    f"{chapter}, {sol.label}: {len(line)} > "
                    f"{SOLUTION_CODE_WIDTH} characters: {line!r}"
                )


BOOKKEEPING = ("glue(", "perf_counter", "import glue")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_bookkeeping_sits_in_removed_cells(chapter):
    for i, cell in enumerate(cells(chapter)):
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED:
            continue
        source = "".join(cell["source"])
        for word in BOOKKEEPING:
            assert word not in source, f"{chapter}, cell {i}: {word!r} shown"


def test_plain_phrases_skip_markup():
    text = "The rank grows with the crop, as `psnr_by_rank` shows.\n$x$ y"
    assert plain_phrases(text) == ["The rank grows with the crop, as"]
    assert plain_phrases("a b c", words=3) == ["a b c"]
