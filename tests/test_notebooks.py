"""Static checks of the committed chapter notebooks (the build executes them)."""

import json
import pathlib

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_the_book_has_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], (
                f"{path.name}: cell {i} has outputs"
            )
            assert cell.get("execution_count") is None, (
                f"{path.name}: cell {i} has an execution count"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_the_helpers_and_installs_nothing(path):
    code = "\n".join(
        "".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code"
    )
    assert "import matfill_helpers as mh" in code
    assert (
        "pip install" not in code
        and "!wget" not in code
        and "urlretrieve" not in code
    )
