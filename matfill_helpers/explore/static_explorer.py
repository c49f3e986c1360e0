"""A kernel-free explorer: reconstructions precomputed on a grid, two HTML sliders to browse them.

The page needs no kernel, no network and no library: the images are embedded as base64 data URIs,
the scores as JSON, and a few lines of inline JavaScript swap them when a slider (a plain
``<input type="range">``) moves. It works from ``file://``, in the published book and in a
notebook. Every element id starts with the explorer's own ``uid``, so several explorers can share
one page.

One setting (image, missing proportion, rank, method, seed) is computed by :func:`explore_setting`,
the same function the live explorer (:mod:`matfill_helpers.explore.widgets`) calls, so both show
the same numbers for the same setting.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import os
import time

import numpy as np
import torch

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_image,
    check_int,
    check_list,
    check_prop,
)
from ..core.masking import mask_image
from ..core.metrics import metrics
from ..evaluation.experiment import _check_props, _check_ranks
from ..methods.registry import (
    _RANKLESS,
    METHODS,
    _check_options,
    check_call,
    reconstruct,
)
from .plotting import image_to_rgb

_FORMATS = {"png": "PNG", "jpeg": "JPEG"}
_COUNTER = itertools.count()


def explore_setting(img, *, prop, rank, method="als", seed=0, **options):
    """Mask ``img`` with seed ``seed``, reconstruct it and score it: one explorer setting.

    The mask is drawn from ``seed`` and the reconstruction from a second generator seeded with
    ``seed``, so a setting gives the same result whatever was computed before it.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1]
    prop : float in [0, 1), the probability that a pixel is missing
    rank : int, passed to :func:`~matfill_helpers.reconstruct` (ignored by rank-free methods)
    method : str, one of ``mh.METHODS``
    seed : int >= 0
    **options : the method's options

    Returns
    -------
    dict with ``masked`` (3, m, n) (NaN at missing pixels), ``mask`` (m, n) bool,
    ``recon`` (3, m, n),
    ``rmse``, ``psnr`` (all pixels), ``rmse_missing``, ``psnr_missing`` (missing pixels only; NaN
    when no pixel is missing) and ``seconds`` (the reconstruction's wall time)

    Examples
    --------
    >>> from matfill_helpers import load_image
    >>> out = explore_setting(load_image("china", size=32), prop=0.3, rank=4, seed=0)
    >>> out["recon"].shape, out["psnr"] > out["psnr_missing"]
    (torch.Size([3, 32, 32]), True)
    """
    prop = check_prop(prop, func="explore_setting")
    if prop >= 1.0:
        _fail(
            "explore_setting",
            "prop",
            "a float in [0, 1) (at least one pixel must stay observed)",
            repr(prop),
        )
    seed = check_int(seed, func="explore_setting", name="seed", low=0)
    img = check_image(img, func="explore_setting")
    check_call(tuple(img.shape), rank, method, options, func="explore_setting")
    masked, mask = mask_image(img, prop, generator=seed)
    t0 = time.perf_counter()
    recon = reconstruct(
        masked, rank=rank, method=method, generator=seed, **options
    )
    seconds = time.perf_counter() - t0
    rmse, psnr = metrics(img, recon)
    rmse_m, psnr_m = (
        metrics(img, recon, mask=mask)
        if bool(mask.any())
        else (math.nan, math.nan)
    )
    return dict(
        masked=masked,
        mask=mask,
        recon=recon,
        rmse=rmse,
        psnr=psnr,
        rmse_missing=rmse_m,
        psnr_missing=psnr_m,
        seconds=seconds,
    )


def encode_image(img, *, fmt="png", quality=90, scale=1):
    """Encode a (3, m, n) image as PNG or JPEG bytes (NaN pixels in magenta).

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), values in [0, 1], NaN = missing
    fmt : ``"png"`` (lossless) or ``"jpeg"`` (smaller)
    quality : int in [1, 95], JPEG quality
    scale : int >= 1, enlarge each pixel to ``scale`` x ``scale`` (nearest neighbour)

    Returns
    -------
    bytes

    Examples
    --------
    >>> import torch
    >>> encode_image(torch.zeros(3, 4, 4))[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    check_image(img, func="encode_image", allow_nan="any")
    check_choice(fmt, set(_FORMATS), func="encode_image", name="fmt")
    quality = check_int(
        quality, func="encode_image", name="quality", low=1, high=95
    )
    scale = check_int(scale, func="encode_image", name="scale", low=1, high=32)
    arr = np.round(image_to_rgb(img) * 255).astype(np.uint8)  # (m, n, 3)
    if scale > 1:
        arr = arr.repeat(scale, axis=0).repeat(
            scale, axis=1
        )  # (H * scale, W * scale, 3)
    buf = io.BytesIO()
    kw = {"quality": quality} if fmt == "jpeg" else {}
    Image.fromarray(arr).save(buf, format=_FORMATS[fmt], **kw)
    return buf.getvalue()


def data_uri(img, *, fmt="png", quality=90):
    """A (3, m, n) image as a ``data:image/...;base64,...`` URI for an ``<img src>``.

    >>> import torch
    >>> data_uri(torch.ones(3, 2, 2))[:22]
    'data:image/png;base64,'
    """
    raw = encode_image(img, fmt=fmt, quality=quality)
    return f"data:image/{fmt};base64," + base64.b64encode(raw).decode("ascii")


def _num(x, digits):
    """A JSON-safe rounded float (None for NaN or inf)."""
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def _check_grid(values, *, name, kind):
    values = check_list(values, func="StaticExplorer", name=name, what=kind)
    if len(set(values)) != len(values):
        _fail(
            "StaticExplorer",
            name,
            "a list without repeated values",
            repr(values),
        )
    return values


def _check_start(value, values, *, name, func):
    """The setting shown first: ``None`` (the middle of ``values``) or one of ``values``."""
    if value is None:
        return len(values) // 2
    if value not in values:
        plural = "props" if name == "prop" else "ranks"
        _fail(
            func,
            name,
            f"None or one of the slider values {plural}={values}",
            repr(value),
            f"Add it to '{plural}', or leave '{name}' out (the middle value).",
        )
    return values.index(value)


def _check_result(img, key, res):
    """One grid entry must be a result for ``img``: shapes, and its RMSE against ``img``."""
    func = "StaticExplorer"
    shape = tuple(img.shape)
    if not isinstance(res, dict) or "recon" not in res or "mask" not in res:
        _fail(
            func,
            "results",
            "a grid of dicts with 'recon' and 'mask', as run_grid returns",
            f"{_describe(res)} at {key!r}",
            exc=TypeError,
        )
    for part, want in (("recon", shape), ("mask", shape[1:])):
        x = res[part]
        if not isinstance(x, torch.Tensor) or tuple(x.shape) != want:
            _fail(
                func,
                "results",
                f"results for 'img' (a {part!r} of shape {want})",
                f"{_describe(x)} as the {part!r} at {key!r}",
                "Pass the image the results were computed for.",
            )
    rmse = res.get("rmse")
    if rmse is None:
        return
    recon = check_image(res["recon"], func=func, name=f"results[{key!r}]")
    actual, _ = metrics(img, recon)
    if not math.isclose(float(rmse), actual, rel_tol=1e-4, abs_tol=1e-6):
        _fail(
            func,
            "results",
            "results computed for 'img' (each 'rmse' is its 'recon' "
            "against 'img')",
            f"'rmse' {float(rmse):.4g} at {key!r}, where its 'recon' is "
            f"{actual:.4g} from 'img'",
            "Pass the image the results were computed for.",
        )


class StaticExplorer:
    """A kernel-free explorer of precomputed reconstructions: sliders for rank and proportion.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1], the original image
    results : dict mapping ``(prop, rank)`` to a dict with ``recon`` (3, m, n), ``mask`` (m, n),
        ``rmse``, ``psnr`` and optionally ``rmse_missing``, ``psnr_missing`` (the format of
        :func:`~matfill_helpers.run_grid` and of :func:`explore_setting`)
    props, ranks : the slider values, each a non-empty list; every ``(prop, rank)`` must be in
        ``results``, computed for ``img`` (its ``recon`` of the image's shape, its ``rmse``
        that of ``recon`` against ``img``)
    prop, rank : the setting shown first, one of ``props`` and one of ``ranks`` (default: the
        middle of each list)
    title : str, optional, shown above the sliders
    fmt : ``"png"`` or ``"jpeg"`` for the original and the reconstructions (masked images are
        always PNG,
        so the missing pixels stay exact)
    quality : int, JPEG quality
    display_px : int, the width at which each image is shown (pixels enlarged without smoothing)

    Attributes
    ----------
    uid : str, the prefix of every element id (``uid``, ``uid-rank``, ``uid-prop``,
        ``uid-recon``, ...)
    data : dict, the JSON embedded in the page: ``ranks``, ``props``, ``original``, ``masked[i]``,
        ``recon[i][j]``, ``rmse[i][j]``, ``psnr[i][j]``, ``rmse_missing[i][j]``,
        ``psnr_missing[i][j]``
        (``i`` indexes ``props``, ``j`` indexes ``ranks``; scores rounded to 4 and 2 decimals)
    html : str, the HTML fragment

    Examples
    --------
    >>> from matfill_helpers import load_image, run_grid
    >>> img = load_image("china", size=16)
    >>> res = run_grid(img, props=[0.2, 0.5], ranks=[2, 4], generator=0)
    >>> ex = StaticExplorer(img, res, props=[0.2, 0.5], ranks=[2, 4])
    >>> len(ex.data["recon"]), len(ex.data["recon"][0]), 'type="range"' in ex.html
    (2, 2, True)
    """

    def __init__(
        self,
        img,
        results,
        *,
        props,
        ranks,
        prop=None,
        rank=None,
        title=None,
        fmt="png",
        quality=90,
        display_px=192,
    ):
        check_image(img, func="StaticExplorer")
        props = _check_grid(props, name="props", kind="floats in [0, 1]")
        ranks = _check_grid(ranks, name="ranks", kind="ints")
        for p in props:
            check_prop(p, func="StaticExplorer", name="props")
        for r in ranks:
            check_int(r, func="StaticExplorer", name="ranks", low=1)
        i0 = _check_start(prop, props, name="prop", func="StaticExplorer")
        j0 = _check_start(rank, ranks, name="rank", func="StaticExplorer")
        if not isinstance(results, dict):
            _fail(
                "StaticExplorer",
                "results",
                "a dict mapping (prop, rank) to a result dict",
                _describe(results),
                exc=TypeError,
            )
        missing = [
            (p, r) for p in props for r in ranks if (p, r) not in results
        ]
        if missing:
            _fail(
                "StaticExplorer",
                "results",
                "a result for every (prop, rank) of the grid",
                f"no entry for {missing[0]!r}",
            )
        for key in ((p, r) for p in props for r in ranks):
            _check_result(img, key, results[key])
        check_choice(fmt, set(_FORMATS), func="StaticExplorer", name="fmt")
        check_int(
            quality, func="StaticExplorer", name="quality", low=1, high=95
        )
        self.display_px = check_int(
            display_px,
            func="StaticExplorer",
            name="display_px",
            low=16,
            high=2048,
        )
        if title is not None and not isinstance(title, str):
            _fail(
                "StaticExplorer",
                "title",
                "a str or None",
                _describe(title),
                exc=TypeError,
            )
        self.props, self.ranks, self.title, self.start = (
            props,
            ranks,
            title,
            (i0, j0),
        )

        def grid(key, digits):
            return [
                [
                    _num(results[(p, r)].get(key, math.nan), digits)
                    for r in ranks
                ]
                for p in props
            ]

        from ..core.masking import apply_mask

        self.data = {
            "ranks": [int(r) for r in ranks],
            "props": [float(p) for p in props],
            "original": data_uri(img, fmt=fmt, quality=quality),
            "masked": [
                data_uri(
                    apply_mask(img, results[(p, ranks[0])]["mask"].cpu()),
                    fmt="png",
                )
                for p in props
            ],
            "recon": [
                [
                    data_uri(
                        results[(p, r)]["recon"], fmt=fmt, quality=quality
                    )
                    for r in ranks
                ]
                for p in props
            ],
            "rmse": grid("rmse", 4),
            "psnr": grid("psnr", 2),
            "rmse_missing": grid("rmse_missing", 4),
            "psnr_missing": grid("psnr_missing", 2),
        }
        payload = json.dumps(self.data, separators=(",", ":"))
        digest = hashlib.sha1(payload.encode()).hexdigest()[:8]
        self.uid = f"mfx-{digest}-{next(_COUNTER)}"
        self.html = _render(self, payload)

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return (
            f"StaticExplorer(props={self.props}, ranks={self.ranks}, uid={self.uid!r}, "
            f"{len(self.html)} bytes of HTML)"
        )

    def save(self, path):
        """Write a standalone HTML page with this explorer (opens from ``file://``, no network)."""
        return save_page(
            path, self.title, self.html, func="StaticExplorer.save"
        )


def save_page(path, title, body, *, viewport=False, func="save"):
    """Write ``body`` (HTML) as a standalone page titled ``title`` (default "matfill explorer").

    ``path``: a ``str`` or ``os.PathLike`` (a file descriptor is refused). ``viewport``: add the
    mobile viewport tag (the page lays itself out for narrow screens). Returns ``path``. A file
    that cannot be written is a ``ValueError`` naming the path and the reason.
    """
    if not isinstance(path, (str, os.PathLike)):
        _fail(
            func,
            "path",
            "a file path (str or os.PathLike)",
            _describe(path),
            exc=TypeError,
        )
    title = html.escape(title or "matfill explorer")
    meta = (
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        if viewport
        else ""
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"{meta}<title>{title}</title></head><body>\n{body}\n</body></html>\n"
    )
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as err:
        reason = err.strerror or str(err)
        _fail(
            func,
            "path",
            "a file path whose folder exists and can be written",
            f"{os.fspath(path)!r} ({reason})",
        )
    return path


def _fmt(x, digits, suffix=""):
    return "n/a" if x is None else f"{x:.{digits}f}{suffix}"


# The slider script: looks its elements up by id (uid-...), reads the JSON and swaps images and
# scores. It marks the explorer data-ready="true" once wired up, and reports its own failures as
# "matfill explorer".
_SCRIPT = """
(function () {
  var uid = "%(uid)s", data = null;
  function el(name) { return document.getElementById(uid + "-" + name); }
  function report(err) { console.error("matfill explorer " + uid + ": " + err); }
  function fmt(x, digits, suffix) {
    return x === null ? "n/a" : x.toFixed(digits) + (suffix || "");
  }
  function show() {
    try {
      var i = parseInt(el("prop").value, 10), j = parseInt(el("rank").value, 10);
      el("prop-value").textContent = Math.round(100 * data.props[i]) + "%%";
      el("rank-value").textContent = String(data.ranks[j]);
      el("masked").src = data.masked[i];
      el("recon").src = data.recon[i][j];
      el("rmse").textContent = fmt(data.rmse[i][j], 4);
      el("psnr").textContent = fmt(data.psnr[i][j], 2, " dB");
      el("rmse-missing").textContent = fmt(data.rmse_missing[i][j], 4);
      el("psnr-missing").textContent = fmt(data.psnr_missing[i][j], 2, " dB");
      document.getElementById(uid).setAttribute("data-setting", i + "," + j);
    } catch (err) { report(err); }
  }
  try {
    data = JSON.parse(el("data").textContent);
    ["prop", "rank"].forEach(function (name) {
      el(name).addEventListener("input", show);
      el(name).addEventListener("change", show);
    });
    show();
    document.getElementById(uid).setAttribute("data-ready", "true");
  } catch (err) { report(err); }
})();
"""

_STYLE = """
#%(uid)s { font-family: inherit; margin: 0.5em 0 1em 0; }
#%(uid)s .mfx-controls { display: flex; flex-wrap: wrap; gap: 0.4em 2em; align-items: center;
  margin: 0.4em 0; }
#%(uid)s .mfx-controls label { min-width: 9em; }
#%(uid)s .mfx-controls input[type=range] { width: 12em; vertical-align: middle; }
#%(uid)s .mfx-images { display: flex; flex-wrap: wrap; gap: 0.6em; }
#%(uid)s figure { margin: 0; text-align: center; }
#%(uid)s figure img { width: %(px)dpx; max-width: 100%%; height: auto;
  image-rendering: pixelated; }
#%(uid)s figcaption { font-size: 0.85em; }
#%(uid)s .mfx-scores { margin-top: 0.4em; font-variant-numeric: tabular-nums; }
"""


def _render(ex, payload):
    uid, (i, j) = ex.uid, ex.start
    d = ex.data
    esc = html.escape
    title = (
        f'<div class="mfx-title"><strong>{esc(ex.title)}</strong></div>'
        if ex.title
        else ""
    )
    safe = payload.replace(
        "</", "<\\/"
    )  # keep the JSON from closing its <script>
    px = ex.display_px
    percent = f"{math.floor(100 * d['props'][i] + 0.5)}%"  # as the script's Math.round

    def slider(name, label, n, k, text):
        return (
            f'<label for="{uid}-{name}">{label}: '
            f'<output id="{uid}-{name}-value">{text}</output></label>'
            f'<input type="range" id="{uid}-{name}" name="{name}" min="0" max="{n - 1}" step="1" '
            f'value="{k}" aria-label="{label}">'
        )

    def figure(name, caption, src):
        return (
            f'<figure><img id="{uid}-{name}" src="{src}" alt="{caption}" width="{px}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    return (
        f'<div class="matfill-explorer" id="{uid}" data-setting="{i},{j}">'
        f"<style>{_STYLE % {'uid': uid, 'px': px}}</style>{title}"
        f'<div class="mfx-controls">'
        f"<span>{slider('rank', 'rank', len(d['ranks']), j, d['ranks'][j])}</span>"
        f"<span>{slider('prop', 'missing', len(d['props']), i, percent)}</span>"
        f"</div>"
        f'<div class="mfx-images">{figure("original", "original", d["original"])}'
        f"{figure('masked', 'masked (missing in magenta)', d['masked'][i])}"
        f"{figure('recon', 'reconstruction', d['recon'][i][j])}</div>"
        f'<div class="mfx-scores">All pixels: RMSE '
        f'<span id="{uid}-rmse">{_fmt(d["rmse"][i][j], 4)}</span>, '
        f'PSNR <span id="{uid}-psnr">{_fmt(d["psnr"][i][j], 2, " dB")}</span>. '
        f'Missing pixels only: RMSE <span id="{uid}-rmse-missing">'
        f"{_fmt(d['rmse_missing'][i][j], 4)}</span>, "
        f'PSNR <span id="{uid}-psnr-missing">'
        f"{_fmt(d['psnr_missing'][i][j], 2, ' dB')}</span>.</div>"
        f'<script type="application/json" id="{uid}-data">{safe}</script>'
        f"<script>{_SCRIPT % {'uid': uid}}</script>"
        f"</div>"
    )


def static_explorer(
    img,
    *,
    props=(0.1, 0.2, 0.4, 0.6, 0.8),
    ranks=(2, 5, 10, 25, 50),
    method="als",
    seed=0,
    prop=None,
    rank=None,
    title=None,
    fmt="jpeg",
    quality=90,
    display_px=192,
    **options,
):
    """Compute every (prop, rank) setting with :func:`explore_setting`; a :class:`StaticExplorer`.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1] (keep it small: 25 settings are
        computed and embedded; at 128 x 128 in JPEG the page grows by a few hundred kB)
    props, ranks : the slider values (lists; one value as ``[0.2]``); every rank at most
        ``min(m, n)`` for a low-rank method. Every argument is checked before the first
        setting is computed.
    method, seed, **options : as for :func:`explore_setting`
    prop, rank, title, fmt, quality, display_px : as for :class:`StaticExplorer`

    Examples
    --------
    >>> from matfill_helpers import load_image
    >>> ex = static_explorer(load_image("china", size=24), props=[0.2, 0.6], ranks=[2, 5])
    >>> ex.data["ranks"], len(ex.data["masked"])
    ([2, 5], 2)
    """
    func = "static_explorer"
    check_image(img, func=func)
    check_choice(method, set(METHODS), func=func, name="method")
    # every argument is checked here, before the first of the settings is computed
    high = None if method in _RANKLESS else min(img.shape[1:])
    props = _check_props(props, func=func)
    ranks = _check_ranks(ranks, func=func, high=high)
    _check_start(prop, props, name="prop", func=func)
    _check_start(rank, ranks, name="rank", func=func)
    check_int(seed, func=func, name="seed", low=0)
    _check_options(method, options, func)
    check_choice(fmt, set(_FORMATS), func=func, name="fmt")
    check_int(quality, func=func, name="quality", low=1, high=95)
    check_int(display_px, func=func, name="display_px", low=16, high=2048)
    if title is not None and not isinstance(title, str):
        _fail(func, "title", "a str or None", _describe(title), exc=TypeError)
    results = {
        (p, r): explore_setting(
            img, prop=p, rank=r, method=method, seed=seed, **options
        )
        for p in props
        for r in ranks
    }
    return StaticExplorer(
        img,
        results,
        props=props,
        ranks=ranks,
        prop=prop,
        rank=rank,
        title=title,
        fmt=fmt,
        quality=quality,
        display_px=display_px,
    )
