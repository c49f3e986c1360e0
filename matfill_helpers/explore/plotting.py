"""Figures used across the book: image rows, the completion grid and metric curves."""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_int,
    check_list,
    check_positive,
)


def _display_array(img, *, func, name):
    """An image tensor as an (m, n, 3) float32 array for ``imshow`` (NaN kept).

    Float images are taken as values in [0, 1]; uint8 images are divided by 255 and bool images
    show False black, True white. (m, n) and (1, m, n) images are shown in grey.
    """
    if not isinstance(img, torch.Tensor):
        fix = None
        if type(img).__module__ == "numpy":
            fix = "Convert an (m, n, 3) array with torch.from_numpy(a).permute(2, 0, 1)."
        _fail(func, name, "a torch.Tensor", _describe(img), fix, exc=TypeError)
    if img.layout != torch.strided or img.is_meta:
        _fail(
            func,
            name,
            "a dense tensor that holds data",
            _describe(img),
            exc=TypeError,
        )
    x = img.detach()
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    elif x.dtype == torch.bool:
        x = x.float()
    elif not x.is_floating_point() or x.dtype.itemsize < 2:
        _fail(
            func,
            name,
            "a float tensor in [0, 1] (or uint8 in [0, 255], or bool)",
            f"dtype {x.dtype}",
            "Convert with .float() and scale to [0, 1].",
            exc=TypeError,
        )
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] not in (1, 3) or 0 in x.shape:
        shape = tuple(x.shape)
        fix = None
        if len(shape) == 3 and shape[0] == 4:
            fix = "Drop the alpha channel with img[:3]."
        elif len(shape) == 3 and shape[2] in (1, 3):
            fix = "Move the channels first with .permute(2, 0, 1)."
        _fail(
            func,
            name,
            "a non-empty image of shape (3, m, n), (1, m, n) or (m, n)",
            f"shape {tuple(img.shape)}",
            fix,
        )
    x = x.expand(3, -1, -1).to(torch.float32)  # greyscale -> RGB; bfloat16 too
    return x.cpu().permute(1, 2, 0).numpy().copy()  # (m, n, 3), a copy


def _check_color(color, *, func):
    ok = (
        isinstance(color, (tuple, list))
        and len(color) == 3
        and all(
            isinstance(c, numbers.Real) and not isinstance(c, bool)
            for c in color
        )
    )
    if not ok:
        _fail(
            func,
            "missing_color",
            "an (r, g, b) tuple of floats in [0, 1]",
            _describe(color),
            exc=TypeError,
        )
    if not all(0.0 <= c <= 1.0 for c in color):
        _fail(
            func,
            "missing_color",
            "an (r, g, b) tuple of floats in [0, 1]",
            repr(tuple(color)),
        )
    return tuple(float(c) for c in color)


#: Values this far outside [0, 1] (half an 8-bit level: rounding) are clipped silently.
_RANGE_TOLERANCE = 0.5 / 255


def _check_range(arr, *, func, name):
    """Refuse an image with values beyond [0, 1] (+- rounding), which would show clipped."""
    values = arr[~np.isnan(arr)]
    if not values.size:
        return
    if not np.isfinite(values).all():
        _fail(func, name, "finite where not NaN", "inf values")
    low, high = float(values.min()), float(values.max())
    tol = _RANGE_TOLERANCE
    if low < -tol or high > 1.0 + tol:
        _fail(
            func,
            name,
            "a float image in [0, 1] (it would show clipped)",
            f"values in [{low:.3g}, {high:.3g}]",
            "Divide 8-bit data by 255, or pass a uint8 tensor."
            if low >= 0.0 and 2.0 <= high <= 255.0
            else "Rescale it to [0, 1], or clip it with .clamp(0, 1).",
        )


def _rgb(img, *, func, name, missing_color, check_range=False):
    arr = _display_array(img, func=func, name=name)
    if check_range:
        _check_range(arr, func=func, name=name)
    nan = np.isnan(arr).any(axis=2)
    arr = np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)
    arr[nan] = missing_color
    return arr


def image_to_rgb(img, *, missing_color=(1.0, 0.0, 1.0)):
    """(3, m, n) tensor -> (m, n, 3) array for ``imshow``, NaN (missing) in ``missing_color``.

    ``img`` is a float tensor with values in [0, 1] (values outside are clipped, as ``imshow``
    does), a uint8 tensor (0-255) or a bool one; (m, n) and (1, m, n) images come back grey.

    >>> import torch
    >>> arr = image_to_rgb(torch.tensor([[[float("nan")]], [[0.5]], [[0.5]]]))
    >>> arr[0, 0].tolist()
    [1.0, 0.0, 1.0]
    """
    func = "image_to_rgb"
    color = _check_color(missing_color, func=func)
    return _rgb(img, func=func, name="img", missing_color=color)


def show_images(
    images,
    titles=None,
    *,
    ncols=None,
    size=3.0,
    suptitle=None,
    missing_color=(1.0, 0.0, 1.0),
):
    """Show images side by side (NaN pixels in ``missing_color``); returns the figure.

    Parameters
    ----------
    images : sequence of torch.Tensor (a list, tuple, ``dict.values()`` ...), or one tensor
        Each image (3, m, n) float in [0, 1] (NaN = missing), uint8 in [0, 255], bool, or
        greyscale (m, n) / (1, m, n). A single 2-D or 3-D tensor is shown as one image; a 4-D
        tensor (N, 3, m, n) as N images. A float image with values outside [0, 1] (beyond half
        an 8-bit level of rounding) is a ``ValueError``: it would show clipped. Any float dtype
        works (bfloat16 and float16 are shown through float32).
    titles : list of str, optional
        One title per image (an empty string for none); one str is taken as ``[str]``.
    ncols : int >= 1, optional
        Images per row (default: all in one row).
    size : float > 0, inches per image
    suptitle : str, optional
    missing_color : (r, g, b) floats in [0, 1]

    >>> import torch
    >>> fig = show_images([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)], ["black", "white"])
    >>> len(fig.axes)
    2
    """
    func = "show_images"
    if isinstance(images, torch.Tensor):
        if images.ndim in (2, 3):
            images = [images]
        elif images.ndim == 4:
            images = list(images)
        else:
            _fail(
                func,
                "images",
                "a list of (3, m, n) tensors, one image or an (N, 3, m, n) batch",
                f"a tensor of shape {tuple(images.shape)}",
            )
    elif isinstance(images, Iterable) and not isinstance(
        images, (str, bytes, Mapping)
    ):
        images = list(images)  # a list, tuple, dict.values(), generator ...
    else:
        _fail(
            func,
            "images",
            "a list of image tensors (or one tensor)",
            _describe(images),
            "For a dict of images pass list(d.values())."
            if isinstance(images, Mapping)
            else None,
            exc=TypeError,
        )
    n = len(images)
    if n == 0:
        _fail(func, "images", "a non-empty list", "an empty list")
    color = _check_color(missing_color, func=func)
    arrays = [
        _rgb(
            img,
            func=func,
            name=f"images[{i}]",
            missing_color=color,
            check_range=True,
        )
        for i, img in enumerate(images)
    ]
    if titles is not None:
        if isinstance(titles, str):
            titles = [titles]
        titles = check_list(titles, func=func, name="titles", what="str")
        if len(titles) != n:
            _fail(
                func,
                "titles",
                f"one title per image ({n})",
                f"{len(titles)} titles",
            )
    ncols = (
        n
        if ncols is None
        else check_int(ncols, func=func, name="ncols", low=1)
    )
    ncols = min(ncols, n)
    size = check_positive(size, func=func, name="size")
    nrows = math.ceil(n / ncols)
    if titles is not None:
        # wrap long titles to the width of one image so neighbours never collide
        titles = [
            textwrap.fill(
                str(t), width=max(8, int(size * 9)), break_on_hyphens=False
            )
            for t in titles
        ]
    title_lines = (
        max((t.count("\n") + 1 for t in titles if t), default=0)
        if titles
        else 0
    )
    # each row gets room for its images and their titles; constrained layout keeps rows apart
    height = nrows * (size + 0.2 * title_lines) + (0.4 if suptitle else 0)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, height),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.remove()
    for i, (ax, arr) in enumerate(zip(axes.flat, arrays)):
        ax.imshow(arr, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None and titles[i]:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _check_grid(results, props, ranks, *, func, name="results"):
    """``props`` and ``ranks`` as lists; every (prop, rank) must be a key of ``results``."""
    props = check_list(props, func=func, name="props", what="floats")
    ranks = check_list(ranks, func=func, name="ranks", what="ints")
    for p in props:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            _fail(
                func,
                "props",
                "a list of floats",
                f"{_describe(p)} in the list",
                exc=TypeError,
            )
    if not isinstance(results, dict):
        _fail(
            func,
            name,
            "a dict mapping (prop, rank) to a result, as run_grid returns",
            _describe(results),
            exc=TypeError,
        )
    for p in props:
        for r in ranks:
            if (p, r) not in results:
                _fail(
                    func,
                    name,
                    "a grid with an entry for every (prop, rank) of 'props' x 'ranks'",
                    f"no entry for {(p, r)!r}",
                    "Pass the props and ranks given to run_grid.",
                )
    return props, ranks


def _check_scores(res, keys, *, func, name, key):
    """Each of ``keys`` in the result dict ``res`` must be a real number (NaN and inf allowed)."""
    for k in keys:
        v = res[k]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            _fail(
                func,
                name,
                f"a grid whose {k!r} scores are numbers, as run_grid returns",
                f"{_describe(v)} for {k!r} at {key!r}",
                exc=TypeError,
            )


def plot_image_completion(results, *, props, ranks, title=None, size=2.4):
    """The blog post's grid: one row per missing proportion, one column per rank.

    Parameters
    ----------
    results : dict mapping ``(prop, rank)`` to a dict with ``"recon"`` (3, m, n) and ``"psnr"``
        (and optionally ``"psnr_missing"``), as returned by :func:`matfill_helpers.run_grid`.
    props, ranks : lists, the row and column values, in order (each pair a key of ``results``)
    title : str, optional
    size : float > 0, inches per image
    """
    func = "plot_image_completion"
    props, ranks = _check_grid(results, props, ranks, func=func)
    size = check_positive(size, func=func, name="size")
    for key in ((p, r) for p in props for r in ranks):
        res = results[key]
        if not isinstance(res, dict) or not {"recon", "psnr"} <= set(res):
            _fail(
                func,
                "results",
                "a grid of dicts with 'recon' and 'psnr', as run_grid returns",
                f"{_describe(res)} at {key!r}",
                exc=TypeError,
            )
        scores = ["psnr"] + (["psnr_missing"] if "psnr_missing" in res else [])
        _check_scores(res, scores, func=func, name="results", key=key)
    fig, axes = plt.subplots(
        len(props),
        len(ranks),
        figsize=(size * len(ranks), size * len(props) + 0.5),
        squeeze=False,
    )
    for i, p in enumerate(props):
        for j, r in enumerate(ranks):
            ax = axes[i, j]
            res = results[(p, r)]
            rgb = _rgb(
                res["recon"],
                func=func,
                name=f"results[{(p, r)!r}]['recon']",
                missing_color=(1.0, 0.0, 1.0),
                check_range=True,
            )
            ax.imshow(rgb, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            label = f"{res['psnr']:.1f} dB"
            if "psnr_missing" in res:
                label += f" ({res['psnr_missing']:.1f} missing)"
            ax.set_xlabel(label, fontsize=8)
            if i == 0:
                ax.set_title(f"rank {r}", fontsize=10)
            if j == 0:
                ax.set_ylabel(f"{p:.0%} missing", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_metric_curves(
    results, *, props, ranks, labels=None, title=None, scoring="all"
):
    """RMSE and PSNR against rank, one line per missing proportion (the blog post's curves).

    ``results`` may be one grid (as for :func:`plot_image_completion`) or a dict of grids keyed by
    a method name (pass ``labels=True``), drawn with solid, dashed, dotted ... lines. ``scoring``
    is ``"all"`` (every pixel) or ``"missing"`` (only the missing pixels: the ``*_missing``
    scores). Every (prop, rank) of ``props`` x ``ranks`` must be in every grid.
    """
    func = "plot_metric_curves"
    check_choice(scoring, {"all", "missing"}, func=func, name="scoring")
    if labels is not None:
        if not isinstance(results, dict) or not results:
            _fail(
                func,
                "results",
                "a non-empty dict of grids keyed by name (labels=True)",
                _describe(results),
                exc=TypeError,
            )
        grids = results
    else:
        grids = {None: results}
    suffix = "" if scoring == "all" else "_missing"
    for name, grid in grids.items():
        where = "results" if name is None else f"results[{name!r}]"
        props, ranks = _check_grid(grid, props, ranks, func=func, name=where)
        for key in ((p, r) for p in props for r in ranks):
            res = grid[key]
            keys = {"rmse" + suffix, "psnr" + suffix}
            if not isinstance(res, dict) or not keys <= set(res):
                _fail(
                    func,
                    where,
                    f"a grid of dicts with {sorted(keys)}, as run_grid returns",
                    f"{_describe(res)} at {key!r}",
                    exc=TypeError,
                )
            _check_scores(res, sorted(keys), func=func, name=where, key=key)
    where = "all pixels" if scoring == "all" else "missing pixels"
    fig, (ax_rmse, ax_psnr) = plt.subplots(1, 2, figsize=(10, 3.6))
    styles = ["-", "--", ":", "-."]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for s, (name, grid) in enumerate(grids.items()):
        for c, p in enumerate(props):
            lab = f"{p:.0%} missing" + (f", {name}" if name else "")
            kw = dict(
                ls=styles[s % len(styles)],
                color=colors[c % len(colors)],
                marker="o",
                label=lab,
            )
            ax_rmse.plot(
                ranks, [grid[(p, r)]["rmse" + suffix] for r in ranks], **kw
            )
            ax_psnr.plot(
                ranks, [grid[(p, r)]["psnr" + suffix] for r in ranks], **kw
            )
    ax_rmse.set(
        xlabel="rank", ylabel=f"RMSE ({where})", title="RMSE (lower is better)"
    )
    ax_psnr.set(
        xlabel="rank",
        ylabel=f"PSNR (dB, {where})",
        title="PSNR (higher is better)",
    )
    ax_psnr.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(
    histories, *, xlabel="step", ylabel="loss", title=None, logy=True
):
    """Plot named loss histories (dict name -> sequence of floats); returns the figure.

    Each history is a 1-D sequence (list, array or tensor). With ``logy=True`` (the default) every
    finite value must be > 0; NaN and inf values leave gaps.
    """
    func = "plot_loss_curves"
    if not isinstance(histories, dict) or not histories:
        _fail(
            func,
            "histories",
            "a non-empty dict mapping a name to a sequence of floats",
            _describe(histories),
            "For one curve pass {'loss': values}."
            if not isinstance(histories, dict)
            else None,
            exc=TypeError if not isinstance(histories, dict) else ValueError,
        )
    if not isinstance(logy, bool):
        _fail(func, "logy", "a bool", _describe(logy), exc=TypeError)
    curves = {}
    for name, h in histories.items():
        if isinstance(h, torch.Tensor):
            h = h.detach().cpu()
        try:
            y = np.asarray(h, dtype=float)
        except (TypeError, ValueError):
            _fail(
                func,
                "histories",
                "a dict of sequences of floats",
                f"{_describe(h)} for {name!r}",
                exc=TypeError,
            )
        if y.ndim != 1 or y.size == 0:
            _fail(
                func,
                "histories",
                "a dict of non-empty 1-D sequences of floats",
                f"shape {y.shape} for {name!r}",
            )
        if logy and bool((y[np.isfinite(y)] <= 0).any()):
            _fail(
                func,
                "histories",
                "positive for a log axis (logy=True)",
                f"values <= 0 for {name!r}",
                "Pass logy=False.",
            )
        curves[name] = y
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, y in curves.items():
        ax.plot(np.arange(1, len(y) + 1), y, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
