"""The book build gives the same book whatever the caller's environment (_ext/matfill_book.py).

The unit tests check the pieces; the ``book`` test builds a one-page book twice with Jupyter Book:
a helper edit reaches the page without ``--all`` or a cleaned cache, an unchanged rebuild executes
nothing, and a caller's ``MPLBACKEND=Agg`` and thread count do not reach the kernel.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.test_notebooks import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
import matfill_book  # noqa: E402


def test_the_digest_follows_every_file_of_the_package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "js").mkdir(parents=True)
    (pkg / "__init__.py").write_text("A = 1\n")
    (pkg / "js" / "als.js").write_text("// one\n")
    first = matfill_book.helpers_digest(tmp_path, ["pkg"])
    assert matfill_book.helpers_digest(tmp_path, ["pkg"]) == first
    (pkg / "js" / "als.js").write_text("// two\n")
    second = matfill_book.helpers_digest(tmp_path, ["pkg"])
    assert second != first
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert matfill_book.helpers_digest(tmp_path, ["pkg"]) == second
    (pkg / "js" / "als.js").rename(pkg / "js" / "other.js")
    assert matfill_book.helpers_digest(tmp_path, ["pkg"]) != second


def test_the_real_package_has_a_digest():
    digest = matfill_book.helpers_digest(ROOT)
    assert len(digest) == 16 and int(digest, 16) >= 0


def test_kernel_environment_drops_the_backend_and_pins_threads():
    env = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "8", "PATH": "/bin"}
    matfill_book.kernel_environment(env)
    assert "MPLBACKEND" not in env
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["PYTHONHASHSEED"] == "0" and env["PATH"] == "/bin"
    env = {"MATFILL_BUILD_THREADS": "2"}
    assert matfill_book.kernel_environment(env)["OMP_NUM_THREADS"] == "2"


@pytest.mark.parametrize("bad", ["0", "two", "-1", ""])
def test_kernel_environment_rejects_a_bad_thread_count(bad):
    with pytest.raises(ValueError, match="MATFILL_BUILD_THREADS"):
        matfill_book.kernel_environment({"MATFILL_BUILD_THREADS": bad})


def test_an_old_cache_folder_is_removed(tmp_path):
    (tmp_path / "helpers-old").mkdir()
    (tmp_path / "other").mkdir()
    folder = matfill_book.cache_folder(tmp_path, "new")
    assert folder == tmp_path / "helpers-new"
    assert not (tmp_path / "helpers-old").exists()
    assert (tmp_path / "other").exists()


CONFIG = """\
title: cache test
only_build_toc_files: true
execute:
  execute_notebooks: cache
  timeout: 300
sphinx:
  local_extensions:
    matfill_book: _ext
  config:
    matfill_cache_packages: [stubpkg]
"""

CELL = """\
import os
import matplotlib.pyplot as plt
import stubpkg
print("VALUE=" + stubpkg.VALUE, "THREADS=" + os.environ["OMP_NUM_THREADS"])
plt.plot([0, 1], [0, 1])
plt.show()
"""


def _notebook():
    return {
        "cells": [
            {
                "cell_type": "markdown",
                "id": "t",
                "metadata": {},
                "source": "# Page",
            },
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c",
                "metadata": {},
                "outputs": [],
                "source": CELL,
            },
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _build(book):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="2")
    out = subprocess.run(
        [
            str(ROOT / ".venv/bin/jupyter-book"),
            "build",
            str(book),
            "--builder",
            "html",
            "-W",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout, (book / "_build/html/index.html").read_text()


@pytest.mark.book
def test_a_helper_edit_reaches_the_page_and_the_caller_environment_does_not(
    tmp_path,
):
    book = tmp_path / "book"
    (book / "stubpkg").mkdir(parents=True)
    shutil.copytree(
        ROOT / "_ext",
        book / "_ext",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (book / "_config.yml").write_text(CONFIG)
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    (book / "index.ipynb").write_text(json.dumps(_notebook()))
    (book / "stubpkg" / "__init__.py").write_text('VALUE = "first"\n')

    log, page = _build(book)
    assert "VALUE=first" in page
    assert (
        "THREADS=1" in page
    )  # the caller's OMP_NUM_THREADS=2 does not reach the kernel
    assert (
        "<img" in page
    )  # the caller's MPLBACKEND=Agg does not hide the figure

    log, page = _build(book)  # nothing changed: nothing executes
    assert "Executing notebook" not in log and "VALUE=first" in page

    (book / "stubpkg" / "__init__.py").write_text('VALUE = "second"\n')
    log, page = _build(
        book
    )  # the helper changed: the page is rebuilt from a new execution
    assert "Executing notebook" in log
    assert "VALUE=second" in page and "VALUE=first" not in page
