"""Static checks of the committed chapter notebooks (the build executes them)."""

import json
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))

# Every chapter opens with this cell (collapsed in the HTML): it imports the helpers and installs
# them from the book's repository only where they are missing (Colab, a bare Jupyter).
SETUP = """\
%matplotlib inline
try:
    import matfill_helpers as mh
except ImportError:  # Colab, a bare Jupyter: install the helpers first
    url = "{url}"
    %pip install -q "matfill-helpers @ git+{{url}}@{branch}"
    import matfill_helpers as mh"""


def repository():
    """The book's repository URL and branch: the one setting in ``_config.yml``."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def setup_cell_source():
    url, branch = repository()
    return SETUP.format(url=url, branch=branch)


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _code(path):
    return [c for c in _cells(path) if c["cell_type"] == "code"]


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
def test_notebook_opens_with_the_guarded_setup_cell(path):
    first = _code(path)[0]
    assert "".join(first["source"]) == setup_cell_source(), (
        f"{path.name}: the first code cell is not the setup cell of "
        "tests/test_notebooks.py for the repository in _config.yml"
    )
    assert "hide-cell" in first["metadata"].get("tags", []), (
        f"{path.name}: the setup cell must be tagged hide-cell"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_installs_nothing_outside_the_setup_cell(path):
    rest = "\n".join("".join(c["source"]) for c in _code(path)[1:])
    for forbidden in ("pip install", "%pip", "!pip", "conda install"):
        assert forbidden not in rest, f"{path.name}: {forbidden!r}"
    for download in (
        "!wget",
        "!curl",
        "urlretrieve",
        "urlopen",
        "requests.get",
    ):
        assert download not in rest, f"{path.name}: {download!r}"
    assert "myst_nb" not in rest, (
        f"{path.name}: chapters use mh.glue, which works without myst-nb"
    )


def test_the_setup_cell_fails_the_check_when_it_disagrees_with_the_config():
    url, branch = repository()
    other = SETUP.format(url=url + "-fork", branch=branch)
    assert other != setup_cell_source()
    assert url in setup_cell_source() and f"@{branch}" in setup_cell_source()
