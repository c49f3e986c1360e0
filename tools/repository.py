"""The book's repository: one setting in ``_config.yml``, and the copies that follow it.

``_config.yml`` holds the repository URL and branch (``repository: url, branch``). Jupyter Book
builds the launch buttons (Binder, Colab) and the repository button from it. Three kinds of text
repeat it, because they are read without the book's configuration:

- the setup cell of every chapter notebook, which installs the helpers on Colab or a bare Jupyter
  (``git+<url>@<branch>``);
- the preface's clone instructions (``git clone <url>``, ``cd <name>``).

``python tools/repository.py`` reports every copy that disagrees with ``_config.yml`` (exit 1);
``python tools/repository.py URL [BRANCH]`` (``make repository URL=... BRANCH=...``) points the
whole book at another repository, a fork for example, rewriting the setting and every copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "_config.yml"
PREFACE = "book/preface.ipynb"

_URL = re.compile(r"^https://[A-Za-z0-9.-]+/[\w.-]+/[\w.-]+$")
_BRANCH = re.compile(r"^[\w./-]+$")
_CONFIG_URL = re.compile(r"(?m)^(repository:\n(?:  .*\n)*?  url: )(\S+)$")
_CONFIG_BRANCH = re.compile(
    r"(?m)^(repository:\n(?:  .*\n)*?  branch: )(\S+)$"
)
_SETUP_URL = re.compile(r'(    url = ")([^"]*)(")')
_SETUP_BRANCH = re.compile(r'(git\+\{url\}@)([^"]*)(")')
_CLONE = re.compile(r"(git clone )(\S+)(\ncd )(\S+)")


def check_url(url, branch):
    """Validate a repository URL (``https://host/owner/name``) and branch name."""
    if not isinstance(url, str) or not _URL.match(url):
        raise ValueError(
            "repository: 'url' must look like https://github.com/OWNER/NAME "
            f"(no trailing slash, no .git); got {url!r}."
        )
    if not isinstance(branch, str) or not _BRANCH.match(branch):
        raise ValueError(
            f"repository: 'branch' must be a git branch name; got {branch!r}."
        )
    return url, branch


def setting(root=ROOT):
    """The ``(url, branch)`` that ``_config.yml`` sets."""
    text = (Path(root) / CONFIG).read_text()
    url, branch = _CONFIG_URL.search(text), _CONFIG_BRANCH.search(text)
    if not url or not branch:
        raise ValueError(
            f"repository: {CONFIG} must set repository: url and branch."
        )
    return url.group(2), branch.group(2)


def notebooks(root=ROOT):
    return sorted((Path(root) / "book").glob("*.ipynb"))


def _sources(path):
    """(cell index, source text) of every cell of a notebook."""
    cells = json.loads(path.read_text())["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells)]


def copies(root=ROOT):
    """Every copy of the setting: a list of ``(where, url, branch)``.

    ``branch`` is None where the copy names no branch (the clone instructions).
    """
    root = Path(root)
    found = []
    for path in notebooks(root):
        for i, src in _sources(path):
            u, b = _SETUP_URL.search(src), _SETUP_BRANCH.search(src)
            if u and b:
                where = f"{path.relative_to(root)} cell {i} (setup)"
                found.append((where, u.group(2), b.group(2)))
            for m in _CLONE.finditer(src):
                where = f"{path.relative_to(root)} cell {i} (git clone)"
                found.append((where, m.group(2), None))
                name = m.group(2).rsplit("/", 1)[-1]
                if m.group(4) != name:
                    found.append((f"{where}: cd {m.group(4)}", "?", None))
    return found


def disagreements(root=ROOT):
    """Lines naming each copy that differs from the setting (empty when all agree)."""
    url, branch = setting(root)
    bad = []
    for where, u, b in copies(root):
        if u != url or (b is not None and b != branch):
            shown = u if b is None else f"{u}@{b}"
            bad.append(f"{where}: {shown} (setting: {url}@{branch})")
    return bad


def _rewrite_notebook(path, url, branch):
    """Rewrite the copies in one notebook, keeping the file's JSON layout."""
    nb = json.loads(path.read_text())
    name = url.rsplit("/", 1)[-1]
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        new = _SETUP_URL.sub(lambda m: m.group(1) + url + m.group(3), src)
        new = _SETUP_BRANCH.sub(
            lambda m: m.group(1) + branch + m.group(3), new
        )
        new = _CLONE.sub(lambda m: m.group(1) + url + m.group(3) + name, new)
        if new != src:
            cell["source"] = new.splitlines(keepends=True)
    text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)
    path.write_text(text + "\n")


def set_repository(url, branch="main", root=ROOT):
    """Point the book at ``url`` / ``branch``: the setting and every copy."""
    url, branch = check_url(url, branch)
    root = Path(root)
    config = root / CONFIG
    text = config.read_text()
    text = _CONFIG_URL.sub(lambda m: m.group(1) + url, text)
    text = _CONFIG_BRANCH.sub(lambda m: m.group(1) + branch, text)
    config.write_text(text)
    for path in notebooks(root):
        _rewrite_notebook(path, url, branch)
    return disagreements(root)


def main(argv):
    if len(argv) not in (0, 1, 2):
        sys.exit("usage: python tools/repository.py [URL [BRANCH]]")
    if argv:
        left = set_repository(argv[0], argv[1] if len(argv) > 1 else "main")
        if left:
            sys.exit("\n".join(["copies left behind:", *left]))
        url, branch = setting()
        print(f"The book now points at {url} (branch {branch}).")
        return
    bad = disagreements()
    if bad:
        sys.exit("\n".join(["copies that disagree with _config.yml:", *bad]))
    url, branch = setting()
    print(f"{len(copies())} copies agree with _config.yml: {url}@{branch}")


if __name__ == "__main__":
    main(sys.argv[1:])
