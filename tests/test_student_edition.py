"""The student edition's Sphinx extension (_ext/student_edition.py) on a small project.

With ``hide_solutions`` a gated solution disappears with everything between its start and its
end; without it, nothing changes. Also the configuration that ``make book-student`` writes.
"""

import doctest
import importlib
import pathlib
import sys

import pytest
import yaml
from sphinx.application import Sphinx
from sphinx.errors import SphinxError
from sphinx.util.docutils import docutils_namespace

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXT = ROOT / "_ext"

PAGE = """\
Title
=====

.. exercise:: Counting
   :label: ex-count

   Count the ones.

.. solution-start:: ex-count
   :label: sol-count
   :class: dropdown

.. code-block:: python

   GATED_CODE = 1

Gated prose of the solution.

.. solution-end::

Between the two exercises.

.. exercise:: Reasoning
   :label: ex-why

   Say why.

.. solution:: ex-why
   :label: sol-why
   :class: dropdown

   Plain solution prose.

After the exercises.
"""


def build(tmp_path, *, hide, page=PAGE):
    src, out = tmp_path / "src", tmp_path / f"out-{hide}"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        "extensions = ['student_edition']\n"
    )
    (src / "index.rst").write_text(page)
    with docutils_namespace():  # a fresh docutils registry per build
        app = Sphinx(
            str(src),
            str(src),
            str(out),
            str(out / ".doctrees"),
            "html",
            confoverrides={"hide_solutions": hide},
            status=None,
            warning=None,
            warningiserror=True,
            freshenv=True,
        )
        app.build()
    return (out / "index.html").read_text(encoding="utf8")


def test_without_hide_solutions_every_solution_is_there(tmp_path):
    html = build(tmp_path, hide=False)
    for text in (
        "GATED_CODE",
        "Gated prose of the solution.",
        "Plain solution prose.",
        'id="sol-count"',
        'id="sol-why"',
        'href="#ex-count"',
    ):
        assert text in html, text
    assert html.count('class="solution dropdown admonition') == 2


def test_hide_solutions_removes_gated_and_plain_solutions(tmp_path):
    html = build(tmp_path, hide=True)
    for text in (
        "GATED_CODE",
        "Gated prose of the solution.",
        "Plain solution prose.",
        "sol-count",
        "sol-why",
        "Solution to",
    ):
        assert text not in html, text
    for text in (
        'id="ex-count"',
        'id="ex-why"',
        "Count the ones.",
        "Between the two exercises.",
        "After the exercises.",
    ):
        assert text in html, text


def test_an_unclosed_gate_fails_the_build(tmp_path):
    page = PAGE.replace(".. solution-end::\n", "")
    with pytest.raises(SphinxError, match="missing a solution-end"):
        build(tmp_path, hide=True, page=page)


def _module():
    # the module Sphinx imports for the builds above (_ext on sys.path)
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    return importlib.import_module("student_edition")


def test_student_config_hides_solutions_and_shares_the_cache():
    module = _module()
    book = {
        "title": "A book",
        "execute": {"execute_notebooks": "cache"},
        "sphinx": {
            "local_extensions": {"student_edition": "_ext"},
            "config": {"bibtex_reference_style": "author_year"},
        },
    }
    cfg = module.student_config(book, root="/repo")
    assert cfg["sphinx"]["config"] == {
        "bibtex_reference_style": "author_year",
        "hide_solutions": True,
    }
    assert cfg["execute"] == {
        "execute_notebooks": "cache",
        "cache": "/repo/_build/.jupyter_cache",
    }
    assert cfg["sphinx"]["local_extensions"] == {
        "student_edition": "/repo/_ext"
    }
    assert cfg["title"] == "A book (student edition)"
    assert book["sphinx"]["config"] == {
        "bibtex_reference_style": "author_year"
    }  # the book's own configuration is left alone


def test_student_config_of_the_book_keeps_everything_else():
    module = _module()
    book = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg = module.student_config(book, root=ROOT)
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert pathlib.Path(cfg["execute"]["cache"]) == (
        ROOT / "_build" / ".jupyter_cache"
    )
    for key in set(book) - {"title", "execute", "sphinx"}:
        assert cfg[key] == book[key], key


def test_docstring_examples_run():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(_module()):
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0 and failed == 0
