"""Launch paths: a chapter runs where the helpers are not installed, and Binder's environment.

The offline test builds what Colab or a bare Jupyter has (torch, torchmetrics, matplotlib,
scikit-learn, ipykernel, PyYAML, nbclient, ipywidgets; no helpers, no myst-nb) in a fresh virtual
environment, points the chapter's setup cell at a git snapshot of this checkout instead of the
published repository, and executes the chapter with nbclient. pip may not reach any package index
while the chapter runs, so the only thing the setup cell can install is the helpers from the
snapshot. ``MPLBACKEND=Agg`` is set, as on many servers: the figures must still appear.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.test_notebooks import BOOK, ROOT
from tools import repository

pytestmark = pytest.mark.launch

CHAPTER = "masking.ipynb"
# PyYAML (the self-check questions' files) ships with Colab, and with Jupyter (jupyter_events)
BARE = (
    "torch",
    "torchmetrics",
    "matplotlib",
    "scikit-learn",
    "ipykernel",
    "pyyaml",
)
BARE_EXTRA = ("nbclient", "ipywidgets")


def _pins(path):
    """{name: requirement line} of the pinned packages of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*(==|>=|<=|~=|<|>)", line)
        if m:
            pins[m.group(1).lower()] = line
    return pins


def test_binder_pins_what_the_book_pins():
    book = _pins(ROOT / "requirements.txt")
    binder = _pins(ROOT / "binder" / "requirements.txt")
    for name in ("torch", "torchmetrics", "scikit-learn", "matplotlib"):
        assert name in binder, f"binder/requirements.txt does not pin {name}"
    for name, line in binder.items():
        assert book.get(name) == line, (
            f"{name}: binder has {line!r}, requirements.txt {book.get(name)!r}"
        )


def test_binder_installs_the_helpers_from_the_checkout():
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert "-e ." in lines
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"


def _run(cmd, **kw):
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=False, **kw
    )
    assert out.returncode == 0, (
        f"{cmd[:3]} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    )
    return out


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A fresh virtual environment with only what Colab offers (and a current pip)."""
    env = tmp_path_factory.mktemp("bare") / "venv"
    _run([sys.executable, "-m", "venv", str(env)])
    py = env / "bin" / "python"
    pins = _pins(ROOT / "requirements.txt")
    reqs = [pins.get(n, n) for n in BARE + BARE_EXTRA]
    _run([str(py), "-m", "pip", "install", "-q", "-U", "pip"])
    _run([str(py), "-m", "pip", "install", "-q", *reqs])
    return py


@pytest.fixture(scope="module")
def wheelhouse(bare_python, tmp_path_factory):
    """The package's build backend, so pip can build it with no index."""
    where = tmp_path_factory.mktemp("wheels")
    build = ROOT / "pyproject.toml"
    backend = re.search(r"requires = \[(.*)\]", build.read_text()).group(1)
    reqs = [r.strip().strip('"') for r in backend.split(",")]
    _run(
        [
            str(bare_python),
            "-m",
            "pip",
            "download",
            "-q",
            "-d",
            str(where),
            *reqs,
        ]
    )
    return where


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A git repository holding this checkout's files (committed or not)."""
    src = tmp_path_factory.mktemp("repo") / "matfill"
    files = _run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    _, branch = repository.setting()
    git = ["git", "-c", "user.name=matfill", "-c", "user.email=m@localhost"]
    _run([*git, "init", "-q", "-b", branch], cwd=src)
    _run([*git, "add", "-A"], cwd=src)
    _run([*git, "commit", "-q", "-m", "snapshot"], cwd=src)
    return src


def test_bare_environment_lacks_the_helpers_and_myst_nb(bare_python, tmp_path):
    for module in ("matfill_helpers", "myst_nb"):
        out = subprocess.run(
            [str(bare_python), "-c", f"import {module}"],
            capture_output=True,
            check=False,
            cwd=tmp_path,  # not this checkout, where the package would import
        )
        assert out.returncode != 0, f"{module} is importable"


EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
"""


def test_a_chapter_runs_top_to_bottom_where_the_helpers_are_missing(
    bare_python, wheelhouse, snapshot, tmp_path
):
    url, _ = repository.setting()
    nb = json.loads((BOOK / CHAPTER).read_text())
    setup = nb["cells"][1]
    source = "".join(setup["source"])
    assert f'url = "{url}"' in source
    setup["source"] = source.replace(url, snapshot.as_uri())
    (tmp_path / "in.ipynb").write_text(json.dumps(nb))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL")}
    env.update(
        PIP_NO_INDEX="1",  # nothing but the snapshot (and its build backend)
        PIP_FIND_LINKS=str(wheelhouse),
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        PATH=f"{bare_python.parent}:{env['PATH']}",
    )
    _run(
        [
            str(bare_python),
            "-c",
            EXECUTE,
            str(tmp_path / "in.ipynb"),
            str(tmp_path / "out.ipynb"),
            str(tmp_path),
        ],
        env=env,
        timeout=1200,
        cwd=tmp_path,
    )
    out = json.loads((tmp_path / "out.ipynb").read_text())
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    errors = [
        o for c in code for o in c["outputs"] if o["output_type"] == "error"
    ]
    assert not errors
    assert all(c["execution_count"] for c in code), "a cell did not run"
    images = [
        o
        for c in code
        for o in c["outputs"]
        if "image/png" in o.get("data", {})
    ]
    assert images, "no figure was drawn (MPLBACKEND=Agg must not hide them)"
    where = _run(
        [
            str(bare_python),
            "-c",
            "import matfill_helpers; print(matfill_helpers.__file__)",
        ],
        cwd=tmp_path,
    ).stdout
    # installed into the bare environment from the snapshot, not found in this checkout
    assert str(bare_python.parents[1]) in where, where
