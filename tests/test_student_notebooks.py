"""The student notebooks (_ext/student_notebooks.py) and the stub exercises.

The generator on a small notebook and in a small Sphinx project: solutions
out (plain and gated, code included), outputs cleared, stubs and checks
kept, a link on the page. The chapters: each has a stub exercise laid out so
that the build runs the stub, its check, the solution and an assert on the
check, and its student notebook keeps the stub and the check only. The
built pages (``book`` marker): each chapter links to its student notebook,
which exists, and no student page shows a check that passed.
"""

import copy
import doctest
import importlib
import json
import os
import pathlib
import re
import sys

import pytest
from sphinx.application import Sphinx
from sphinx.util.docutils import docutils_namespace

from tests.notebook_exercises import CHAPTERS, ROOT, cells

EXT = ROOT / "_ext"


def _module():
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    return importlib.import_module("student_notebooks")


def _md(source, cid):
    return {
        "cell_type": "markdown",
        "id": cid,
        "metadata": {},
        "source": source,
    }


def _code(source, cid, tags=()):
    return {
        "cell_type": "code",
        "id": cid,
        "metadata": {"tags": list(tags)} if tags else {},
        "execution_count": 3,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}],
        "source": source,
    }


NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        _md("# Title\n\nBody text.\n", "title"),
        _code("import matfill_helpers as mh\n", "setup"),
        _md(":::{exercise} Write f\n:label: ex-f\n\nWrite f.\n:::\n", "ex-f"),
        _code(
            'def f(x):\n    """Double x."""\n    raise NotImplementedError',
            "stub",
            ["stub"],
        ),
        _code("mh.check.f(f)", "check", ["check"]),
        _md(
            ":::{solution-start} ex-f\n:label: sol-f\n:class: dropdown\n:::\n",
            "start",
        ),
        _code("def f(x):\n    return 2 * x  # SOLUTION_CODE", "sol"),
        _code("assert f(1) == 2", "assert", ["remove-cell"]),
        _md(
            "Gated prose of the solution.\n\n:::{solution-end}\n:::\n\n"
            "Text after the gate.\n",
            "end",
        ),
        _md(
            ":::{exercise} Why\n:label: ex-why\n\nSay why.\n:::\n\n"
            ":::{solution} ex-why\n:label: sol-why\n:class: dropdown\n\n"
            "Plain solution prose.\n:::\n",
            "why",
        ),
    ],
}


def test_student_notebook_removes_solutions_and_keeps_stubs():
    nb = copy.deepcopy(NOTEBOOK)
    out = _module().student_notebook(nb)
    assert nb == NOTEBOOK  # the input is left as it is
    text = json.dumps(out)
    for gone in (
        "SOLUTION_CODE",
        "assert f(1) == 2",
        "Gated prose",
        "Plain solution prose",
        "sol-f",
        "sol-why",
        "solution-start",
        "solution-end",
    ):
        assert gone not in text, gone
    ids = [c["id"] for c in out["cells"]]
    assert ids == [
        "student-notebook-intro",
        "title",
        "setup",
        "ex-f",
        "stub",
        "check",
        "end",
        "why",
    ]
    end = "".join(out["cells"][ids.index("end")]["source"])
    assert end == "Text after the gate."
    why = "".join(out["cells"][ids.index("why")]["source"])
    assert why.startswith(":::{exercise} Why") and why.endswith(":::")
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert out["cells"][ids.index("stub")]["metadata"]["tags"] == ["stub"]


def test_the_modules_examples_run():
    failures, tried = doctest.testmod(_module())
    assert tried and not failures


def test_student_notebook_refuses_an_unclosed_gate():
    nb = copy.deepcopy(NOTEBOOK)
    del nb["cells"][8]  # the end of the gate
    with pytest.raises(ValueError, match="has no solution-end"):
        _module().student_notebook(nb)


def test_the_script_writes_a_notebook(tmp_path):
    src, dst = tmp_path / "ch.ipynb", tmp_path / "out" / "ch.ipynb"
    src.write_text(json.dumps(NOTEBOOK), encoding="utf8")
    _module().write_student_notebook(src, dst)
    out = json.loads(dst.read_text(encoding="utf8"))
    assert [c["id"] for c in out["cells"]][4] == "stub"


def test_the_html_build_links_each_notebook_page_to_its_notebook(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    (src / "part").mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        "extensions = ['myst_nb', 'student_edition', 'student_notebooks']\n"
        "myst_enable_extensions = ['colon_fence']\n"
        "nb_execution_mode = 'off'\n"
        "exclude_patterns = ['out']\n"
    )
    (src / "index.md").write_text(
        "# Index\n\n```{toctree}\npart/chapter\n```\n"
    )
    (src / "part" / "chapter.ipynb").write_text(json.dumps(NOTEBOOK))
    with docutils_namespace():
        app = Sphinx(
            str(src),
            str(src),
            str(out),
            str(out / ".doctrees"),
            "html",
            status=None,
            warning=None,
            freshenv=True,
        )
        app.build()
    page = (out / "part" / "chapter.html").read_text(encoding="utf8")
    assert (
        'href="../_downloads/student/chapter.ipynb" download="chapter.ipynb"'
        in page
    )
    assert "Download this chapter as a student notebook" in page
    assert "SOLUTION_CODE" in page  # the book keeps its solutions
    assert "student notebook" not in (out / "index.html").read_text("utf8")
    nb = json.loads((out / "_downloads/student/chapter.ipynb").read_text())
    text = json.dumps(nb)
    assert "SOLUTION_CODE" not in text and "raise NotImplementedError" in text


# --- the chapters


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _gated(chapter):
    """For each cell of the chapter: is it inside a gated solution?"""
    module, inside, out = _module(), False, []
    for cell in cells(chapter):
        out.append(inside)
        if cell["cell_type"] == "markdown":
            _, inside = module.strip_solutions("".join(cell["source"]), inside)
    return out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_stub_is_checked_before_its_solution_and_asserted_after(chapter):
    """Stub, its check (outside the solution), then in the solution: the
    function again, its check and an assert on the check (removed)."""
    nb, gated = cells(chapter), _gated(chapter)
    stubs = [i for i, c in enumerate(nb) if "stub" in _tags(c)]
    assert stubs, f"{chapter}: no code exercise written as a stub"
    for i in stubs:
        source = "".join(nb[i]["source"])
        name = re.match(r"def (\w+)\(", source)[1]
        assert source.rstrip().endswith("raise NotImplementedError")
        assert '"""' in source, f"{chapter}: {name} has no docstring"
        assert not gated[i], f"{chapter}: the stub {name} is in a solution"
        check = f"mh.check.{name}({name})"
        after = ["".join(c["source"]).strip() for c in nb[i + 1 :]]
        j = i + 1 + after.index(check)
        assert not gated[j], f"{chapter}: the check of {name} is hidden"
        solution = next(
            k
            for k in range(j + 1, len(nb))
            if "".join(nb[k]["source"]).startswith(f"def {name}(")
        )
        assert gated[solution], f"{chapter}: {name}'s solution is shown"
        asserted = [
            k
            for k in range(solution + 1, len(nb))
            if gated[k]
            and "remove-cell" in _tags(nb[k])
            and f"assert {check}" in "".join(nb[k]["source"])
        ]
        assert asserted, f"{chapter}: nothing asserts that {name} passes"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapters_student_notebook_has_stubs_and_no_solution(chapter):
    nb = {"cells": cells(chapter)}
    out = _module().student_notebook(nb)
    _assert_student_notebook(out, chapter)


def _assert_student_notebook(out, chapter):
    stubs = [c for c in out["cells"] if "stub" in _tags(c)]
    assert stubs, f"{chapter}: no stub"
    sources = ["".join(c["source"]) for c in out["cells"]]
    for stub in stubs:
        name = re.match(r"def (\w+)\(", "".join(stub["source"]))[1]
        assert f"mh.check.{name}({name})" in sources, name
        defs = [s for s in sources if s.startswith(f"def {name}(")]
        assert len(defs) == 1, f"{chapter}: {name}'s solution is there"
    text = "\n".join(sources)
    assert not re.search(r"\{solution(-start|-end)?\}", text), chapter
    assert not re.search(r":label: \S*-sol", text), chapter
    assert all(
        c.get("outputs", []) == [] for c in out["cells"] if "outputs" in c
    )


# --- the built editions


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
_LINK = re.compile(
    r'<a class="reference download" href="(?P<href>[^"]+)"[^>]*>'
    r"Download this chapter as a student notebook</a>"
)


@pytest.mark.book
@pytest.mark.parametrize("edition", sorted(BUILDS))
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_built_page_links_to_its_student_notebook(edition, chapter):
    path = BUILDS[edition] / "book" / f"{chapter}.html"
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: run `make book` and `make book-student`"
        )
    page = path.read_text(encoding="utf8")
    links = _LINK.findall(page)
    assert len(links) == 1, f"{chapter}: {len(links)} links"
    notebook = (path.parent / links[0]).resolve()
    assert notebook.is_file(), f"{chapter}: {notebook} is missing"
    out = json.loads(notebook.read_text(encoding="utf8"))
    _assert_student_notebook(out, chapter)
    article = page[page.index("<article") : page.index("</article>")]
    if edition == "student":  # no output of a solution, passed or not
        assert "code-check-passed" not in article, chapter
    else:
        assert "code-check-passed" in article, chapter
    assert "code-check-failed" in article  # the stub's check, in both


@pytest.mark.slow
def test_a_student_notebook_runs_to_the_end_and_its_check_answers():
    """The completion chapter's student notebook, executed: the stub's
    check says to write the function, and nothing fails."""
    import nbclient
    import nbformat

    path = ROOT / "book" / "completion.ipynb"
    out = _module().student_notebook(json.loads(path.read_text("utf8")))
    nb = nbformat.reads(json.dumps(out), as_version=4)
    nbformat.validate(nb)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {}}
    ).execute()
    checks = [c for c in nb.cells if "check" in _tags(c)]
    shown = checks[0].outputs[0]["data"]["text/plain"]
    assert "dof_count is not written yet" in shown
