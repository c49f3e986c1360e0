"""A student notebook per chapter, written by the build and linked from it.

A Sphinx extension, loaded by ``_config.yml`` (``local_extensions``). For
every page whose source is a notebook, the HTML build writes
``_downloads/student/<name>.ipynb``: the chapter without the solutions to
its exercises (each ``{solution}`` block, and everything from a
``{solution-start}`` to its ``{solution-end}``, code cells included), with
no outputs. The exercises, their stubs (code cells tagged ``stub``) and
the cells that check them stay. Each such page gets a link to its
notebook under its title, in both editions.

Run as a script, it writes one student notebook::

    python _ext/student_notebooks.py book/als.ipynb OUT.ipynb
"""

from __future__ import annotations

import json
import pathlib
import posixpath
import re
import sys

from docutils import nodes

FOLDER = "_downloads/student"
LINK_TEXT = "Download this chapter as a student notebook"

# a fenced directive, ":::{name} argument", its body, ":::" (as the book
# writes exercises and solutions: not nested)
_BLOCK = re.compile(
    r"^:::\{(?P<name>[a-z-]+)\}[^\n]*\n.*?^:::[ \t]*$",
    re.MULTILINE | re.DOTALL,
)

INTRO = (
    "**Student notebook.** This is the chapter with its exercises and "
    "without their solutions. Run the cells from the top. A code "
    "exercise gives you a function to write (a *stub*: its body raises "
    "`NotImplementedError`) and a cell that checks it with "
    "`mh.check`, which tells you what is wrong and on which case. The "
    "solutions are in the book."
)


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def _lines(text):
    return text.splitlines(keepends=True)


def strip_solutions(text, gated):
    """``(text, gated)``: the markdown ``text`` without its solutions.

    ``gated`` says whether a gated solution is open where the text starts;
    the second value says whether one is open where it ends.

    >>> strip_solutions("A\\n:::{solution} ex\\nS\\n:::\\nB", False)
    ('A\\n\\nB', False)
    >>> strip_solutions("A\\n:::{solution-start} ex\\n:::\\nS", False)
    ('A', True)
    >>> strip_solutions("S\\n:::{solution-end}\\n:::\\nB", True)
    ('B', False)
    """
    kept, pos = [], 0
    for m in _BLOCK.finditer(text):
        if not gated:
            kept.append(text[pos : m.start()])
        name = m["name"]
        if name == "solution-start":
            gated = True
        elif name == "solution-end":
            gated = False
        elif name != "solution" and not gated:
            kept.append(m.group(0))
        pos = m.end()
    if not gated:
        kept.append(text[pos:])
    out = re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip()
    return out, gated


def student_notebook(nb):
    """The student notebook of the notebook ``nb`` (a dict; a new dict).

    Solutions removed, outputs cleared, a first cell that says what the
    notebook is; every other cell (stubs and checks included) kept.
    """
    cells, gated = [], False
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type")
        if kind == "markdown":
            text, gated_after = strip_solutions(_text(cell["source"]), gated)
            gated = gated_after
            if text:
                cells.append(dict(cell, source=_lines(text)))
        elif kind == "code":
            if gated:
                continue
            meta = dict(cell.get("metadata", {}))
            meta.pop("execution", None)  # timings of a run
            cells.append(
                dict(cell, outputs=[], execution_count=None, metadata=meta)
            )
        elif not gated:
            cells.append(dict(cell))
    if gated:
        raise ValueError(
            "student_notebook: a solution-start has no solution-end."
        )
    first = {
        "cell_type": "markdown",
        "id": "student-notebook-intro",
        "metadata": {},
        "source": _lines(INTRO),
    }
    return dict(nb, cells=[first, *cells])


def write_student_notebook(src, dst):
    """Read the notebook ``src``, write its student notebook to ``dst``."""
    nb = json.loads(pathlib.Path(src).read_text(encoding="utf8"))
    out = student_notebook(nb)
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(
        json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf8"
    )
    return dst


def _is_notebook(env, docname):
    return str(env.doc2path(docname)).endswith(".ipynb")


def notebook_uri(docname):
    """Where the student notebook of a page goes, relative to the output."""
    return f"{FOLDER}/{posixpath.basename(docname)}.ipynb"


def add_link(app, doctree):
    """Under the page's title: a link to its student notebook."""
    env = app.env
    if not _is_notebook(env, env.docname):
        return
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    href = posixpath.relpath(
        notebook_uri(env.docname), posixpath.dirname(env.docname) or "."
    )
    name = posixpath.basename(href)
    html = (
        '<p class="student-notebook-link">'
        f'<a class="reference download" href="{href}" download="{name}">'
        f"{LINK_TEXT}</a>: the exercises with stubs to fill in and "
        "checks that answer back, without the solutions.</p>\n"
    )
    section = sections[0]
    titles = [i for i, c in enumerate(section) if isinstance(c, nodes.title)]
    at = titles[0] + 1 if titles else 0
    section.insert(at, nodes.raw("", html, format="html"))


def write_all(app, exception):
    """After an HTML build: every notebook page's student notebook."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = pathlib.Path(app.outdir)
    for docname in sorted(app.env.found_docs):
        if _is_notebook(app.env, docname):
            write_student_notebook(
                app.env.doc2path(docname), outdir / notebook_uri(docname)
            )


def setup(app):
    app.connect("doctree-read", add_link)
    app.connect("build-finished", write_all)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(
            "usage: python _ext/student_notebooks.py NOTEBOOK OUT"
        )
    write_student_notebook(*sys.argv[1:])
