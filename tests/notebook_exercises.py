"""Read the exercises and solutions of a chapter notebook (sphinx-exercise directives).

An exercise is a ``:::{exercise}`` block with a ``:label:``. Its solution is either a
``:::{solution} <label>`` block (prose only) or a gated one: ``:::{solution-start} <label>``,
then notebook cells (code and prose), then ``:::{solution-end}``. Shared by the notebook checks
(``test_exercises.py``) and the checks of the built editions (``test_editions.py``).
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(p.stem for p in BOOK.glob("*.ipynb"))

# a fenced directive: ":::{name} argument", option lines ":key: value", content, ":::"
_BLOCK = re.compile(
    r"^:::\{(?P<name>[a-z-]+)\}[ \t]*(?P<arg>[^\n]*)\n(?P<body>.*?)^:::[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_OPTION = re.compile(
    r"^:(?P<key>[a-z-]+):[ \t]*(?P<value>[^\n]*)$", re.MULTILINE
)


@dataclass
class Exercise:
    label: str
    title: str
    text: str
    cell: int  # index of the notebook cell that holds it


@dataclass
class Solution:
    target: str  # the exercise's label
    label: str
    classes: list
    gated: bool
    cell: int
    prose: list = field(default_factory=list)  # markdown text of the solution
    code: list = field(
        default_factory=list
    )  # (source, tags) of its code cells


def cells(chapter):
    path = BOOK / f"{chapter}.ipynb"
    return json.loads(path.read_text(encoding="utf8"))["cells"]


def _options(body):
    opts = {m["key"]: m["value"].strip() for m in _OPTION.finditer(body)}
    text = _OPTION.sub("", body).strip()
    return opts, text


def read(chapter):
    """``(exercises, solutions, problems)`` of one chapter, in the order of the notebook.

    ``problems`` lists what breaks the structure: a gate that is not closed, nested or
    unopened gates.
    """
    exercises, solutions, problems = [], [], []
    gate = None  # the open gated solution
    for i, cell in enumerate(cells(chapter)):
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "code":
            if gate is not None:
                gate.code.append((source, tags))
            continue
        if cell["cell_type"] != "markdown":
            continue
        pos = 0
        for m in _BLOCK.finditer(source):
            outside = source[pos : m.start()].strip()
            if gate is not None and outside:
                gate.prose.append(outside)
            pos = m.end()
            name, arg = m["name"], m["arg"].strip()
            opts, text = _options(m["body"])
            classes = opts.get("class", "").split()
            if name == "exercise":
                exercises.append(Exercise(opts.get("label", ""), arg, text, i))
            elif name in ("solution", "solution-start"):
                if gate is not None:
                    problems.append(f"cell {i}: {name} inside an open gate")
                sol = Solution(
                    arg, opts.get("label", ""), classes, name != "solution", i
                )
                if text:
                    sol.prose.append(text)
                solutions.append(sol)
                gate = sol if name == "solution-start" else None
            elif name == "solution-end":
                if gate is None:
                    problems.append(f"cell {i}: solution-end without a start")
                gate = None
        rest = source[pos:].strip()
        if gate is not None and rest:
            gate.prose.append(rest)
    if gate is not None:
        problems.append(f"the solution to {gate.target} is never closed")
    return exercises, solutions, problems


def plain_phrases(text, *, words=6):
    """Runs of at least ``words`` plain words in ``text`` (markdown or code).

    A phrase holds only letters, digits, spaces, commas and full stops, so that it reads the
    same in the notebook and in the rendered page (no markup, maths or typographic quotes).
    """
    out = []
    for line in text.splitlines():
        line = line.replace(
            "..", "|"
        )  # typography may turn "..." into one character
        for run in re.split(r"[^A-Za-z0-9 ,.]+", line):
            run = " ".join(run.split()).strip(" ,.")
            if len(run.split()) >= words:
                out.append(run)
    return out
