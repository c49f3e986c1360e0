"""An explorer computed in the reader's browser: masked ALS in JavaScript, for any setting.

The published book has no Python kernel. :class:`BrowserExplorer` writes an HTML fragment whose
controls (rank, missing proportion in 1 % steps, seed, the reader's own photo) recompute the
reconstruction in the page, with ``js/als.js``: a line-by-line JavaScript twin of
:func:`~matfill_helpers.methods.als.factorize_als` (same start, same ridge systems solved by
Cholesky, same stopping rule) that draws its masks with torch's own random number generator, so a
seed hides the same pixels as :func:`~matfill_helpers.mask_image`. The page works from ``file://``,
loads nothing and sends nothing: the image's pixels, the two scripts and the setting computed by
Python when the page was built (its first view) are all inline.

The page computes on the image rounded to 8 bits per channel (any image read from a PNG or JPEG
file already is). A reader's photo is fitted to the explorer's size by :func:`fit_image`'s
method, in the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import itertools
import json
import math
import os
from importlib import resources

import numpy as np
import torch

from .._validation import _describe, _fail, check_image, check_int, check_prop
from ..core.images import SAMPLES, _check_size, load_image
from ..methods.als import factorize_als
from ..methods.registry import reconstruct
from .static_explorer import data_uri, explore_setting, save_page

#: The explorer's default size: one update at rank 30 stays well under 0.3 s in the browser.
DEFAULT_SIZE = 96
#: Defaults of :func:`~matfill_helpers.methods.als.factorize_als` that the page's ALS uses
#: (read from its signature, so the page follows the Python helper).
ALS_DEFAULTS = {
    name: inspect.signature(factorize_als).parameters[name].default
    for name in ("ridge", "max_sweeps", "tol")
}
_COUNTER = itertools.count()
_FILES = ("als.js", "explorer.js", "explorer.css")


def js_source(name):
    """The text of one of the files in ``js/``: ``als.js``, ``explorer.js`` or ``explorer.css``.

    >>> "function solveRows" in js_source("als.js")
    True
    """
    if name not in _FILES:
        _fail("js_source", "name", f"one of {list(_FILES)}", repr(name))
    path = resources.files("matfill_helpers.explore").joinpath("js", name)
    return path.read_text(encoding="utf-8")


def _area_weights(size, start, length, out):
    """(out, size): row o averages the source interval [start + o*step, ... + step), by overlap."""
    step = length / out
    R = np.zeros((out, size))
    for o in range(out):
        lo = start + o * step
        hi = lo + step
        for s in range(max(0, math.floor(lo)), min(size, math.ceil(hi))):
            overlap = min(hi, s + 1) - max(lo, s)
            if overlap > 0:
                R[o, s] = overlap / step
    return R


def fit_image(img, size):
    """Centre-crop ``img`` to the shape of ``size`` and scale it to ``size`` by area averaging.

    What the live explorer does to a reader's photo (``fitPixels`` in ``js/als.js``): the image is
    rounded to 8 bits, the largest centred window with the aspect ratio of ``size`` is cut out
    (in fractional pixels), each output pixel averages the source pixels under it weighted by
    their overlap, and the result is rounded to 8 bits again (halves up). Unlike
    :func:`~matfill_helpers.load_image`'s ``size`` (a crop), it keeps the whole field of view.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1]
    size : int or (int, int), the output ``(h, w)`` (or ``(size, size)``)

    Returns
    -------
    torch.Tensor of shape (3, h, w), float32, multiples of 1/255

    Examples
    --------
    >>> img = torch.zeros(3, 4, 6)
    >>> img[:, :, 3:] = 1.0  # right half white
    >>> fit_image(img, 2)[0].tolist()  # the centred 4 x 4 window, 2 x 2 blocks averaged
    [[0.0, 1.0], [0.0, 1.0]]
    """
    check_image(img, func="fit_image")
    h, w = _check_size(size, func="fit_image")
    src = np.floor(
        img.detach().cpu().double().numpy() * 255 + 0.5
    )  # (3, m, n) 8-bit levels
    H, W = src.shape[1:]
    crop_h, crop_w = float(H), float(W)
    if W * h > H * w:  # wider than the target: cut the sides
        crop_w = H * w / h
    else:
        crop_h = W * h / w
    Ry = _area_weights(H, (H - crop_h) / 2, crop_h, h)  # (h, H)
    Rx = _area_weights(W, (W - crop_w) / 2, crop_w, w)  # (w, W)
    out = Ry @ src @ Rx.T  # (h, m) @ (3, m, n) @ (n, w) -> (3, h, w)
    out = np.floor(np.clip(out, 0, 255) + 0.5) / 255
    return torch.from_numpy(out).float()


def _als_centres():
    """Whether ``reconstruct(..., method="als")`` centres each channel (``W @ H + mu``).

    Probed on a fully observed 1 x 1 grey pixel at rank 1: the ridge shrinks an uncentred fit to
    0, while a centred one (whose mean is the pixel) returns the pixel.
    """
    pixel = torch.full((3, 1, 1), 0.8)
    return bool(reconstruct(pixel, rank=1, method="als")[0, 0, 0] > 0.4)


def image_name(name):
    """How the page names an image loaded by ``name`` (a sample or a path), else a tensor.

    >>> image_name("china"), image_name("/photos/cat.png"), image_name(None)
    ('china (scikit-learn sample)', 'cat.png', 'the sample image')
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        return "the sample image"
    if name in SAMPLES:
        return f"{name} (scikit-learn sample)"
    return os.path.basename(name) or name


def load_fitted(img, size, *, func):
    """The explorers' image: ``img`` itself (a tensor), or the sample or file ``img`` names
    (default ``"china"``: a str or path-like) loaded whole and fitted to ``size``.

    Checks ``size`` and ``img`` for the entry point ``func``, before anything is loaded.
    """
    _check_size(size, func=func)
    name = "china" if img is None else img
    if not isinstance(name, (str, os.PathLike)):
        check_image(img, func=func)
        return img
    path = os.fspath(name)
    if path not in SAMPLES and not os.path.isfile(path):
        _fail(
            func,
            "img",
            f"an image tensor, one of {list(SAMPLES)} or the path of an "
            "existing image file",
            repr(name),
        )
    return fit_image(load_image(name), size)


def _check_percent(prop, func):
    prop = check_prop(prop, func=func, low=0.05, high=0.95)
    percent = round(100 * prop)
    if abs(100 * prop - percent) > 1e-9:
        _fail(
            func,
            "prop",
            "a whole percentage (the slider moves in 1 % steps)",
            repr(prop),
            f"Use {percent / 100}.",
        )
    return prop, percent


class BrowserExplorer:
    """A kernel-free explorer whose reconstructions are computed in the reader's browser.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1] (rounded to 8 bits for the page;
        keep it small: the default 96 x 96 updates in about 0.1 s)
    rank : int in [1, max_rank]; prop : float in [0.05, 0.95], a whole percentage; seed : int in
        [0, 2**31 - 1] (the first view, computed here with :func:`explore_setting`)
    max_rank : int, the rank slider's maximum (at most ``min(m, n)``)
    ridge, max_sweeps, tol : the ALS options
        (as :func:`~matfill_helpers.methods.als.factorize_als`)
    title : str, optional, shown above the controls
    image_name : str, how the page names the image (``"the sample image"``)
    display_px : int, the largest width of each of the three images on the page

    Attributes
    ----------
    img : (3, m, n), the image the page computes on (8-bit levels)
    initial : the :func:`explore_setting` result of the first view
    uid : str, the prefix of every element id
    data : dict, the JSON embedded in the page (``height``, ``width``, ``pixels`` (base64 of the
        m x n x 3 bytes), ``rank``, ``percent``, ``seed``, ``maxRank``, ``options``, ``initial``)
    html : str, the HTML fragment

    Examples
    --------
    >>> from matfill_helpers import load_image
    >>> ex = BrowserExplorer(load_image("china", size=24), rank=4, prop=0.3, max_rank=12)
    >>> ex.data["percent"], ex.data["maxRank"], ex.html.count('type="range"')
    (30, 12, 2)
    """

    def __init__(
        self,
        img,
        *,
        rank=10,
        prop=0.4,
        seed=0,
        max_rank=50,
        ridge=ALS_DEFAULTS["ridge"],
        max_sweeps=ALS_DEFAULTS["max_sweeps"],
        tol=ALS_DEFAULTS["tol"],
        title=None,
        image_name="the sample image",
        display_px=192,
    ):
        func = "BrowserExplorer"
        check_image(img, func=func)
        img = torch.floor(img.detach().cpu().float() * 255 + 0.5) / 255
        H, W = img.shape[1:]
        max_rank = min(
            check_int(max_rank, func=func, name="max_rank", low=1), H, W
        )
        rank = check_int(rank, func=func, name="rank", low=1, high=max_rank)
        prop, percent = _check_percent(prop, func)
        seed = check_int(seed, func=func, name="seed", low=0, high=2**31 - 1)
        for name, value in (("title", title), ("image_name", image_name)):
            if value is not None and not isinstance(value, str):
                _fail(func, name, "a str", _describe(value), exc=TypeError)
        self.display_px = check_int(
            display_px, func=func, name="display_px", low=16, high=2048
        )
        options = dict(ridge=ridge, max_sweeps=max_sweeps, tol=tol)
        self.img, self.title = img, title
        self.initial = explore_setting(
            img, prop=prop, rank=rank, method="als", seed=seed, **options
        )  # checks the options too
        pixels = (
            (img * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous()
        )  # (m, n, 3)
        ini = self.initial
        self.data = {
            "height": H,
            "width": W,
            "pixels": base64.b64encode(pixels.numpy().tobytes()).decode(),
            "sampleName": image_name,
            "rank": rank,
            "percent": percent,
            "seed": seed,
            "maxRank": max_rank,
            "options": {
                "ridge": float(ridge),
                "maxSweeps": int(max_sweeps),
                "tol": float(tol),
                "centre": _als_centres(),
            },
            "initial": {
                "rmse": ini["rmse"],
                "psnr": ini["psnr"],
                "rmseMissing": _finite(ini["rmse_missing"]),
                "psnrMissing": _finite(ini["psnr_missing"]),
                "seconds": ini["seconds"],
                "sweeps": None,
            },
        }
        payload = json.dumps(self.data, separators=(",", ":"))
        digest = hashlib.sha1(payload.encode()).hexdigest()[:8]
        self.uid = f"mfl-{digest}-{next(_COUNTER)}"
        self.html = _render(self, payload)

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        d = self.data
        return (
            f"BrowserExplorer(rank={d['rank']}, prop={d['percent'] / 100}, seed={d['seed']}, "
            f"size={(d['height'], d['width'])}, {len(self.html)} bytes of HTML)"
        )

    def save(self, path):
        """Write a standalone HTML page with this explorer (opens from ``file://``, no network)."""
        return save_page(
            path,
            self.title,
            self.html,
            viewport=True,
            func="BrowserExplorer.save",
        )


def _finite(x):
    return float(x) if math.isfinite(x) else None


def _render(ex, payload):
    uid, d, esc = ex.uid, ex.data, html.escape
    ini = d["initial"]
    safe = payload.replace(
        "</", "<\\/"
    )  # keep the JSON from closing its <script>
    scripts = {name: js_source(name) for name in ("als.js", "explorer.js")}
    for name, text in scripts.items():
        if (
            "</script" in text.lower()
        ):  # pragma: no cover - a packaging mistake
            raise RuntimeError(f"js/{name} must not contain '</script'")
    H, W = d["height"], d["width"]
    style = js_source("explorer.css").replace("#UID", f"#{uid}")
    title = f'<div class="mfx-title">{esc(ex.title)}</div>' if ex.title else ""
    masked = data_uri(ex.initial["masked"], fmt="png")
    recon = data_uri(ex.initial["recon"], fmt="png")
    original = data_uri(ex.img, fmt="png")

    def figure(name, caption, src):
        return (
            f'<figure><img id="{uid}-{name}" src="{src}" alt="{caption}" width="{W}" '
            f'height="{H}"><figcaption>{caption}</figcaption></figure>'
        )

    def score(name, value, digits, suffix=""):
        text = "n/a" if value is None else f"{value:.{digits}f}{suffix}"
        return f'<span id="{uid}-{name}">{text}</span>'

    return (
        f'<div class="matfill-explorer mfx-live" id="{uid}" data-state="precomputed" '
        f'style="--mfx-px: {ex.display_px}px">'
        f"<style>{style}</style>{title}"
        '<div class="mfx-controls">'
        f'<div><label for="{uid}-rank">Rank: <output id="{uid}-rank-value">{d["rank"]}'
        f'</output></label><input type="range" id="{uid}-rank" min="1" '
        f'max="{d["maxRank"]}" step="1" value="{d["rank"]}"></div>'
        f'<div><label for="{uid}-prop">Missing pixels: <output id="{uid}-prop-value">'
        f'{d["percent"]} %</output></label><input type="range" id="{uid}-prop" min="5" '
        f'max="95" step="1" value="{d["percent"]}" '
        f'aria-valuetext="{d["percent"]} percent"></div></div>'
        '<div class="mfx-images">'
        f"{figure('original', 'original', original)}"
        f"{figure('masked', 'masked (missing in magenta)', masked)}"
        f"{figure('recon', 'reconstruction', recon)}</div>"
        f'<div class="mfx-status" role="status" aria-live="polite">'
        f'<progress id="{uid}-progress" hidden>computing</progress>'
        f'<span id="{uid}-status">Computed by the Python helpers when this page was built.'
        "</span></div>"
        '<div class="mfx-scores">All pixels: RMSE '
        f"{score('rmse', ini['rmse'], 4)}, PSNR {score('psnr', ini['psnr'], 2, ' dB')}. "
        "Missing pixels only: RMSE "
        f"{score('rmse-missing', ini['rmseMissing'], 4)}, PSNR "
        f"{score('psnr-missing', ini['psnrMissing'], 2, ' dB')}.</div>"
        '<div class="mfx-options">'
        f'<span><label for="{uid}-seed">Seed of the mask: </label><input type="number" '
        f'id="{uid}-seed" min="0" max="{2**31 - 1}" step="1" value="{d["seed"]}" '
        'inputmode="numeric"></span>'
        f'<input type="file" id="{uid}-file" class="mfx-file" accept="image/*">'
        f'<label for="{uid}-file" class="mfx-button">Use your own photo\u2026</label>'
        f'<button type="button" id="{uid}-reset" class="mfx-button" disabled>'
        "Back to the sample</button>"
        f'<span id="{uid}-source" class="mfx-muted">Image: {esc(d["sampleName"])}.</span>'
        '<span class="mfx-muted">Or drop a photo on the explorer; it stays on your '
        "computer.</span></div>"
        f'<script type="application/json" id="{uid}-data">{safe}</script>'
        f'<script id="{uid}-als">{scripts["als.js"]}</script>'
        f'<script id="{uid}-ui">{scripts["explorer.js"]}</script>'
        f'<script>MatfillExplorer.start("{uid}");</script>'
        "</div>"
    )


def browser_explorer(
    img=None,
    *,
    size=DEFAULT_SIZE,
    rank=10,
    prop=0.4,
    seed=0,
    max_rank=50,
    title=None,
    display_px=192,
    **options,
):
    """A :class:`BrowserExplorer` of ``img``, or of a bundled sample fitted to ``size``.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n) in [0, 1], or a sample name or path (a str or
        ``pathlib.Path``; default ``"china"``), then loaded whole and fitted to ``size`` with
        :func:`fit_image`
    size : int or (int, int), the size of a loaded image (default 96)
    rank, prop, seed, max_rank, title, display_px : as :class:`BrowserExplorer`
    **options : ``ridge``, ``max_sweeps``, ``tol`` of the ALS

    Examples
    --------
    >>> ex = browser_explorer(size=24, rank=3, max_rank=8)
    >>> ex.img.shape, ex.data["sampleName"]
    (torch.Size([3, 24, 24]), 'china (scikit-learn sample)')
    """
    name = "china" if img is None else img
    img = load_fitted(img, size, func="browser_explorer")
    unknown = sorted(set(options) - set(ALS_DEFAULTS))
    if unknown:
        _fail(
            "browser_explorer",
            unknown[0],
            f"one of the ALS options {sorted(ALS_DEFAULTS)}",
            "an unknown option",
        )
    try:
        return BrowserExplorer(
            img,
            rank=rank,
            prop=prop,
            seed=seed,
            max_rank=max_rank,
            title=title,
            display_px=display_px,
            image_name=image_name(name),
            **options,
        )
    except (
        TypeError,
        ValueError,
    ) as err:  # the class checks; name the function called
        msg = str(err)
        if not msg.startswith("BrowserExplorer: "):
            raise
        raise type(err)("browser_explorer: " + msg.split(": ", 1)[1]) from None
