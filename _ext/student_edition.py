"""The student edition: the book without solutions, code ones included.

A Sphinx extension, loaded by ``_config.yml`` (``local_extensions``).
sphinx-exercise's ``hide_solutions`` drops every ``{solution}`` directive,
but of a gated solution (``{solution-start}``, the notebook cells of the
solution, ``{solution-end}``) it drops only the opening directive: the
cells in between would stay on the page, and the closing node has no HTML
writer. With ``hide_solutions`` on, this extension removes everything from
``{solution-start}`` to its ``{solution-end}``; with it off, nothing.

Run as a script, it writes the student edition's configuration:
``_config.yml`` with ``hide_solutions: true`` and the execution cache of
``make book``, so that both editions share one execution of the notebooks::

    python _ext/student_edition.py _config.yml OUT.yml
"""

from __future__ import annotations

import pathlib
import sys

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution(nodes.Element):  # docutils names nodes in lower case
    """Where a hidden gated solution starts (removed before writing)."""


class SolutionStart(SolutionStartDirective):
    """``{solution-start}``, leaving a marker where it hides a solution."""

    def run(self):
        # records the gate, so that sphinx-exercise still checks the pairs
        out = super().run()
        if self.config.hide_solutions:
            return [hidden_solution()]
        return out


class RemoveHiddenSolutions(SphinxTransform):
    """Remove each marked solution: the marker, the cells up to its end."""

    # after sphinx-exercise checks the gates (1), before it merges them
    default_priority = 5

    def apply(self):
        for start in list(self.document.findall(hidden_solution)):
            parent = start.parent
            i = parent.index(start)
            ends = [
                j
                for j in range(i + 1, len(parent))
                if isinstance(parent[j], solution_end_node)
            ]
            if not ends:
                raise ExtensionError(
                    "student_edition: a solution-start in "
                    f"{self.env.docname} has no solution-end at the "
                    "same level of the page."
                )
            for child in parent.children[i : ends[0] + 1]:
                parent.remove(child)


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_directive("solution-start", SolutionStart, override=True)
    app.add_node(hidden_solution)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def student_config(config, *, root):
    """The student edition's configuration from the book's (a dict).

    ``hide_solutions`` is on; the execution cache is the one of
    ``make book`` (``<root>/_build/.jupyter_cache``); the paths of local
    extensions become absolute, since the generated file lives elsewhere;
    the title says which edition it is.

    >>> book = {"title": "T", "sphinx": {"config": {}}}
    >>> cfg = student_config(book, root="/b")
    >>> cfg["title"], cfg["sphinx"]["config"]["hide_solutions"]
    ('T (student edition)', True)
    >>> cfg["execute"]["cache"]
    '/b/_build/.jupyter_cache'
    """
    root = pathlib.Path(root)
    out = dict(config)
    out["title"] = f"{config.get('title', '')} (student edition)".strip()
    execute = dict(config.get("execute") or {})
    execute["cache"] = (root / "_build" / ".jupyter_cache").as_posix()
    out["execute"] = execute
    sphinx = dict(config.get("sphinx") or {})
    sphinx["config"] = dict(sphinx.get("config") or {}, hide_solutions=True)
    if sphinx.get("local_extensions"):
        sphinx["local_extensions"] = {
            name: (root / path).as_posix()
            for name, path in sphinx["local_extensions"].items()
        }
    out["sphinx"] = sphinx
    return out


def main(argv):
    import yaml

    if len(argv) != 2:
        raise SystemExit("usage: python _ext/student_edition.py CONFIG OUT")
    src, dst = (pathlib.Path(a) for a in argv)
    config = yaml.safe_load(src.read_text(encoding="utf8"))
    cfg = student_config(config, root=src.resolve().parent)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf8")


if __name__ == "__main__":
    main(sys.argv[1:])
