"""Figures used across the book: image rows, the completion grid and metric curves."""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np

from .images import to_hwc


def image_to_rgb(img, *, missing_color=(1.0, 0.0, 1.0)):
    """(3, H, W) tensor -> (H, W, 3) array for ``imshow``; NaN (missing) pixels get ``missing_color``.

    >>> import torch
    >>> arr = image_to_rgb(torch.tensor([[[float("nan")]], [[0.5]], [[0.5]]]))
    >>> arr[0, 0].tolist()
    [1.0, 0.0, 1.0]
    """
    arr = to_hwc(img).astype(np.float32)
    nan = np.isnan(arr).any(axis=2)
    arr = np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0)
    arr[nan] = missing_color
    return arr


def show_images(
    images,
    titles=None,
    *,
    ncols=None,
    size=3.0,
    suptitle=None,
    missing_color=(1.0, 0.0, 1.0),
):
    """Show (3, H, W) images side by side (NaN pixels in ``missing_color``); returns the figure.

    >>> import torch
    >>> fig = show_images([torch.zeros(3, 4, 4), torch.ones(3, 4, 4)], ["black", "white"])
    >>> len(fig.axes)
    2
    """
    images = list(images)
    n = len(images)
    ncols = ncols or n
    nrows = math.ceil(n / ncols)
    if (
        titles is not None
    ):  # wrap long titles to the width of one image so neighbours never collide
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
    for i, (ax, img) in enumerate(zip(axes.flat, images)):
        ax.imshow(
            image_to_rgb(img, missing_color=missing_color),
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None and titles[i]:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_image_completion(results, *, props, ranks, title=None, size=2.4):
    """The blog post's grid: one row per missing proportion, one column per rank.

    Parameters
    ----------
    results : dict mapping ``(prop, rank)`` to a dict with ``"recon"`` (3, H, W) and ``"psnr"``
        (and optionally ``"psnr_missing"``), as returned by :func:`matfill_helpers.run_grid`.
    props, ranks : the row and column values, in order
    """
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
            ax.imshow(image_to_rgb(res["recon"]), interpolation="nearest")
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

    ``results`` may be one grid (as for :func:`plot_image_completion`) or a dict of grids keyed by a
    method name (pass ``labels=True``), drawn with solid, dashed, dotted ... lines. ``scoring`` is
    ``"all"`` (every pixel) or ``"missing"`` (only the missing pixels: the ``*_missing`` scores).
    """
    if scoring not in ("all", "missing"):
        raise ValueError(
            f"plot_metric_curves: 'scoring' must be 'all' or 'missing'; got {scoring!r}."
        )
    suffix = "" if scoring == "all" else "_missing"
    where = "all pixels" if scoring == "all" else "missing pixels"
    grids = results if labels is not None else {None: results}
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
    """Plot named loss histories (dict name -> sequence of floats); returns the figure."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, h in histories.items():
        ax.plot(
            np.arange(1, len(h) + 1), np.asarray(h, dtype=float), label=name
        )
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
