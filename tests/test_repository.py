"""The repository URL and branch: one setting in _config.yml, every copy follows it."""

import shutil
import subprocess
import sys

import pytest

from tests.test_notebooks import NOTEBOOKS, ROOT, setup_cell_source
from tools import repository


def test_every_copy_agrees_with_the_setting():
    assert repository.disagreements() == []


def test_every_notebook_and_the_preface_carry_a_copy():
    where = [w for w, _, _ in repository.copies()]
    for path in NOTEBOOKS:
        assert any(w.startswith(f"book/{path.name}") for w in where), path
    assert any("preface" in w and "git clone" in w for w in where)


@pytest.fixture
def book_copy(tmp_path):
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / "book" / path.name)
    return tmp_path


def test_a_copy_that_disagrees_is_reported(book_copy):
    nb = book_copy / "book" / "masking.ipynb"
    url, branch = repository.setting(book_copy)
    nb.write_text(nb.read_text().replace(f"@{branch}", "@stale"))
    bad = repository.disagreements(book_copy)
    assert len(bad) == 1 and "masking.ipynb" in bad[0] and "@stale" in bad[0]


def test_set_repository_points_every_copy_at_a_fork(book_copy):
    fork = "https://github.com/someone/matfill-fork"
    assert repository.set_repository(fork, "dev", root=book_copy) == []
    assert repository.setting(book_copy) == (fork, "dev")
    urls = {(u, b) for _, u, b in repository.copies(book_copy)}
    assert urls == {(fork, "dev"), (fork, None)}
    preface = (book_copy / "book" / "preface.ipynb").read_text()
    assert f"git clone {fork}" in preface and "cd matfill-fork" in preface
    # files other than the copies are untouched: a round trip restores them byte for byte
    url, branch = repository.setting()
    repository.set_repository(url, branch, root=book_copy)
    for path in NOTEBOOKS:
        assert (book_copy / "book" / path.name).read_text() == path.read_text()
    assert (book_copy / "_config.yml").read_text() == (
        ROOT / "_config.yml"
    ).read_text()


@pytest.mark.parametrize(
    "url",
    ["github.com/a/b", "https://github.com/a/b/", "https://github.com/a", 5],
)
def test_set_repository_rejects_a_malformed_url(book_copy, url):
    with pytest.raises(ValueError, match="'url'"):
        repository.set_repository(url, root=book_copy)


def test_the_setup_cell_installs_from_the_setting():
    url, branch = repository.setting()
    assert f'url = "{url}"' in setup_cell_source()
    assert f"git+{{url}}@{branch}" in setup_cell_source()


def test_the_command_line_check_passes():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "repository.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "agree" in out.stdout
