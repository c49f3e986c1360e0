"""Choosing settings without the answer: hold out observed pixels and score on them.

The missing pixels of a masked image are the answer: a setting (a rank, a ridge, a kernel width)
chosen by its score on them has seen the answer. :func:`holdout` hides a further fraction of the
*observed* pixels; a method runs on what is left and is scored on the held-out pixels, whose true
values are known. :func:`tune` does that for every setting of a grid and keeps the best.
"""

from __future__ import annotations

import itertools

import torch

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_generator,
    check_image,
    check_int,
    check_prop,
)
from ..core.metrics import metrics
from ..methods.registry import METHODS, check_call, reconstruct


def holdout(masked_img, fraction=0.1, *, generator=None):
    """Hide ``round(fraction * n_observed)`` observed pixels, chosen at random, for validation.

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    fraction : float in (0, 1), the share of the observed pixels to hold out
    generator : torch.Generator, int or None

    Returns
    -------
    train : torch.Tensor of shape (3, m, n), ``masked_img`` with the held-out pixels also NaN
    held_out : torch.Tensor of shape (m, n), bool, True = observed in ``masked_img``, hidden in
        ``train``; score a reconstruction of ``train`` on these pixels against ``masked_img``

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image
    >>> masked, mask = mask_image(load_image("china", size=64), 0.4, generator=0)
    >>> train, held_out = holdout(masked, 0.1, generator=1)
    >>> bool((held_out & mask).any()), round(held_out.float().mean().item(), 2)
    (False, 0.06)
    >>> int(held_out.sum()) == round(0.1 * int((~mask).sum()))
    True
    """
    func = "holdout"
    masked_img = check_image(
        masked_img, func=func, name="masked_img", allow_nan=True
    )
    fraction = check_prop(fraction, func=func, name="fraction")
    if not 0.0 < fraction < 1.0:
        _fail(func, "fraction", "a float in (0, 1)", repr(fraction))
    g = check_generator(generator, func=func)
    observed = ~torch.isnan(masked_img).any(dim=0)  # (m, n)
    where = observed.flatten().nonzero().squeeze(1).cpu()  # observed pixels
    n_held = round(fraction * len(where))
    if n_held < 1 or n_held >= len(where):
        _fail(
            func,
            "fraction",
            "a share that holds out at least one observed pixel and keeps one",
            f"{fraction!r} of {len(where)} observed pixels",
            "Use another fraction or a larger image.",
        )
    # a permutation, not a uniform field: the same seed as the mask's gives unrelated pixels
    chosen = where[torch.randperm(len(where), generator=g)[:n_held]]
    held_out = torch.zeros(observed.numel(), dtype=torch.bool)
    held_out[chosen] = True
    held_out = held_out.view(observed.shape).to(observed.device)
    train = masked_img.clone()
    train[:, held_out] = float("nan")  # (3, m, n)
    return train, held_out


def _check_grid(grid, *, func):
    if not isinstance(grid, dict) or not grid:
        _fail(
            func,
            "grid",
            "a non-empty dict option name -> list of values",
            _describe(grid),
            exc=TypeError if not isinstance(grid, dict) else ValueError,
        )
    for name, values in grid.items():
        if not isinstance(name, str):
            _fail(
                func,
                "grid",
                "a dict with str keys (option names)",
                f"key {_describe(name)}",
                exc=TypeError,
            )
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            _fail(
                func,
                "grid",
                f"a list of values for {name!r}",
                _describe(values),
                f"For one value pass [{values!r}].",
                exc=TypeError,
            )
        if len(values) == 0:
            _fail(func, "grid", f"at least one value for {name!r}", "[]")
    return {name: list(values) for name, values in grid.items()}


def tune(
    masked_img,
    method="als",
    grid=None,
    *,
    fraction=0.1,
    folds=1,
    generator=None,
    device=None,
    **fixed,
):
    """Pick the setting of ``grid`` with the smallest error on held-out observed pixels.

    Each of ``folds`` times, :func:`holdout` hides a ``fraction`` of the observed pixels; every
    setting reconstructs what is left and is scored on the held-out pixels. The missing pixels of
    ``masked_img`` are never used. All settings see the same held-out pixels and the same
    method seed, so they differ only in the setting.

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    method : str, one of ``mh.METHODS``
    grid : dict option name -> list of values, e.g. ``{"rank": [5, 10, 20], "ridge": [0.1, 1]}``;
        every combination is tried (``rank`` is an option like the others)
    fraction : float in (0, 1), the share of observed pixels held out in each fold
    folds : int >= 1, independent hold-outs; their squared errors are averaged
    generator : torch.Generator, int or None: draws the hold-outs, then one seed for the method
    device : where to compute (as for :func:`~matfill_helpers.reconstruct`)
    **fixed : options passed unchanged to every reconstruction (e.g. ``rank=50``)

    Returns
    -------
    best : dict, the chosen setting (the keys of ``grid``)
    table : list of dict, one per setting in grid order: its options, ``"rmse_val"`` and
        ``"psnr_val"`` (dB, on the held-out pixels, all folds pooled)

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image
    >>> masked, _ = mask_image(load_image("china", size=32), 0.4, generator=0)
    >>> best, table = tune(masked, "als", {"rank": [1, 8]}, generator=0)
    >>> sorted(best), len(table), sorted(table[0])
    (['rank'], 2, ['psnr_val', 'rank', 'rmse_val'])
    """
    func = "tune"
    masked_img = check_image(
        masked_img, func=func, name="masked_img", allow_nan=True
    )
    check_choice(method, set(METHODS), func=func, name="method")
    grid = _check_grid(grid, func=func)
    clash = sorted(set(grid) & set(fixed))
    if clash:
        _fail(
            func,
            clash[0],
            "either in 'grid' or a fixed option, not both",
            "both",
        )
    folds = check_int(folds, func=func, name="folds", low=1)
    for values in itertools.product(*grid.values()):  # every setting, up front
        options = {**fixed, **dict(zip(grid, values))}
        rank = options.pop("rank", None)
        check_call(tuple(masked_img.shape), rank, method, options, func=func)
    g = check_generator(generator, func=func)
    splits = [holdout(masked_img, fraction, generator=g) for _ in range(folds)]
    method_seed = int(torch.randint(2**62, (1,), generator=g))
    truth = torch.nan_to_num(masked_img, nan=0.0)  # exact on held-out pixels
    names = list(grid)
    table = []
    for values in itertools.product(*(grid[name] for name in names)):
        setting = dict(zip(names, values))
        sq_err, count = 0.0, 0
        for train, held_out in splits:
            recon = reconstruct(
                train,
                method=method,
                generator=method_seed,
                device=device,
                **fixed,
                **setting,
            )
            rmse, _ = metrics(truth, recon, mask=held_out)
            n = 3 * int(held_out.sum())
            sq_err, count = sq_err + rmse**2 * n, count + n
        mse = sq_err / count
        rmse = mse**0.5
        psnr = (
            float("inf")
            if mse == 0
            else -10
            * torch.log10(torch.tensor(mse, dtype=torch.float64)).item()
        )
        table.append(dict(setting, rmse_val=rmse, psnr_val=psnr))
    best_row = min(table, key=lambda row: row["rmse_val"])
    return {name: best_row[name] for name in names}, table
