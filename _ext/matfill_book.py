"""Sphinx extension for the matfill book: the same book whatever the caller's environment.

- **Kernels.** Notebook kernels inherit this process's environment, so it is fixed here before
  any kernel starts: no ``MPLBACKEND`` (a caller's ``Agg`` would stop inline figures), one thread
  per kernel (``MATFILL_BUILD_THREADS``, default 1: on a small or busy machine torch's spinning
  threads can make a cell 100x slower, and a page's numbers must not depend on the caller's
  core count), a fixed ``PYTHONHASHSEED``.
- **An execution cache keyed on the helpers.** jupyter-cache keys a notebook's outputs on the
  notebook alone, but the chapters import the helper package. The cache lives in a folder named
  after a digest of every file of the package (``matfill_cache_packages``), and a new digest
  makes Sphinx re-read every chapter: a helper edit is never served from a stale cache.
- **One copy of each page script.** The theme's extensions register some inline scripts twice
  (sphinx-thebe's ``const THEBE_JS_URL``: a redeclaration error on every page).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

DIGEST_PREFIX = "helpers-"


def helpers_digest(root, packages=("matfill_helpers",)):
    """SHA-256 (16 hex characters) of the names and contents of every file of ``packages``.

    ``packages`` are folders under ``root``; ``__pycache__`` folders are skipped.
    """
    h = hashlib.sha256()
    for package in packages:
        base = Path(root) / package
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                name = path.relative_to(root).as_posix()
                h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def kernel_environment(environ):
    """Fix, in place, the variables that change what a kernel computes or draws."""
    environ.pop("MPLBACKEND", None)
    threads = environ.get("MATFILL_BUILD_THREADS", "1")
    if not threads.isdigit() or int(threads) < 1:
        raise ValueError(
            "matfill_book: 'MATFILL_BUILD_THREADS' must be a positive int; "
            f"got {threads!r}."
        )
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environ[name] = threads
    environ["PYTHONHASHSEED"] = "0"
    return environ


def cache_folder(base, digest):
    """The cache folder for ``digest`` under ``base``; other digests' folders are removed."""
    base = Path(base)
    for old in base.glob(DIGEST_PREFIX + "*"):
        if old.name != DIGEST_PREFIX + digest:
            shutil.rmtree(old, ignore_errors=True)
    return base / (DIGEST_PREFIX + digest)


def _config_inited(app, config):
    kernel_environment(os.environ)
    digest = helpers_digest(app.confdir, config.matfill_cache_packages)
    base = config.nb_execution_cache_path
    base = Path(base) if base else Path(app.outdir).parent / ".jupyter_cache"
    if not base.is_absolute():
        base = Path(app.confdir) / base
    config.nb_execution_cache_path = str(cache_folder(base, digest))
    config.matfill_helpers_digest = digest


def _env_get_outdated(app, env, added, changed, removed):
    """Every document is outdated when the helpers changed since the last build."""
    digest = app.config.matfill_helpers_digest
    before = getattr(env, "matfill_helpers_digest", None)
    env.matfill_helpers_digest = digest
    if before is not None and before != digest:
        return sorted(env.found_docs)
    return []


def _one_copy_of_each_script(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",
            attributes.get("body"),
        )
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # in place: handlers after this one add their scripts to the same list
    context["script_files"][:] = kept


def setup(app):
    app.add_config_value("matfill_cache_packages", ["matfill_helpers"], "env")
    app.add_config_value("matfill_helpers_digest", "", "env")
    app.connect("config-inited", _config_inited, priority=400)
    app.connect("env-get-outdated", _env_get_outdated)
    # early: a handler that returns a template name stops the later ones
    app.connect("html-page-context", _one_copy_of_each_script, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
