"""The blog post's experiment: reconstruct one image over a grid of missing proportions x ranks."""

from __future__ import annotations

import numbers
import time

import torch

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_device,
    check_generator,
    check_image,
    check_list,
)
from ..core.masking import apply_mask
from ..core.metrics import metrics
from ..methods.registry import _RANKLESS, METHODS, _check_options, reconstruct


def _check_props(props, *, func, name="props"):
    """Missing proportions: a non-empty list of floats in [0, 1), no repeats (see check_list)."""
    props = check_list(props, func=func, name=name, what="floats in [0, 1)")
    for p in props:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            _fail(
                func,
                name,
                "a list of floats in [0, 1)",
                f"{_describe(p)} in the list",
                exc=TypeError,
            )
        if not 0.0 <= p < 1.0:  # also refuses NaN
            _fail(
                func,
                name,
                "a list of floats in [0, 1) (at 1 no pixel would be observed)",
                f"{p!r} in the list",
            )
    if len(set(props)) != len(props):
        _fail(func, name, "a list without repeats", repr(props))
    return props


def _check_ranks(ranks, *, func, high, name="ranks"):
    """Ranks: a non-empty list of ints in [1, high] (``None``: no bound), no repeats."""
    ranks = check_list(ranks, func=func, name=name, what="ints")
    expected = f"a list of ints in [1, {'inf' if high is None else high}]"
    for r in ranks:
        if isinstance(r, bool) or not isinstance(r, numbers.Integral):
            _fail(
                func,
                name,
                expected,
                f"{_describe(r)} in the list",
                exc=TypeError,
            )
        if r < 1 or (high is not None and r > high):
            _fail(func, name, expected, f"{r!r} in the list")
    if len(set(ranks)) != len(ranks):
        _fail(func, name, "a list without repeats", repr(ranks))
    return ranks


def run_grid(
    img, *, props, ranks, method="als", generator=None, device=None, **options
):
    """Mask ``img`` at each proportion and reconstruct it at each rank.

    The masks belong to the data, not to the method: one uniform number per pixel is drawn from
    ``generator`` *before* any method runs, and a pixel is missing at proportion ``p`` when its
    number is below ``p``. So for a given seed the masks are the same whatever the method and its
    options, they are nested across proportions (a pixel missing at 40 % is missing at 80 %), each
    is the mask that ``mask_image(img, p, generator=seed)`` draws, and every rank of a proportion
    is scored on the same missing pixels. The methods then draw from the same generator, after the
    masks. Every argument is checked before anything is computed.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float in [0, 1], no NaN (the ground truth)
    props : list of floats in [0, 1), no repeats: the missing proportions (one value: ``[0.2]``)
    ranks : list of ints in [1, min(m, n)], no repeats (any ints >= 1 for a rank-free method)
        Both may also be 1-D NumPy arrays or tensors. The keys of the result hold the values as
        Python numbers: a float stored in fewer than 64 bits becomes the shortest decimal that
        rounds to it (``torch.tensor([0.2])`` and ``np.float32(0.2)`` give the key 0.2), so
        ``results[(0.2, r)]`` finds it.
    method, generator, device, **options : as for :func:`~matfill_helpers.reconstruct`

    Returns
    -------
    dict mapping ``(prop, rank)`` to ``{"recon", "mask", "rmse", "psnr", "rmse_missing",
    "psnr_missing", "seconds"}`` (RMSE/PSNR on all pixels, ``*_missing`` on the missing ones only)

    >>> from matfill_helpers import load_image
    >>> out = run_grid(load_image("china", size=24), props=[0.2], ranks=[2, 4], generator=0)
    >>> sorted(out), round(out[(0.2, 4)]["psnr"]) > 10
    ([(0.2, 2), (0.2, 4)], True)
    >>> from matfill_helpers import mask_image
    >>> _, mask = mask_image(load_image("china", size=24), 0.2, generator=0)
    >>> torch.equal(out[(0.2, 2)]["mask"], mask)
    True
    """
    func = "run_grid"
    img = check_image(img, func=func)
    props = _check_props(props, func=func)
    check_choice(method, set(METHODS), func=func, name="method")
    high = None if method in _RANKLESS else min(img.shape[1:])
    ranks = _check_ranks(ranks, func=func, high=high)
    _check_options(method, options, func)  # H0 is checked per rank below
    device = check_device(device, func=func)
    g = check_generator(generator, func=func)
    # (m, n) on the CPU, drawn first: the masks never depend on the method's random numbers
    uniform = torch.rand(tuple(img.shape[1:]), generator=g)
    results = {}
    for p in props:
        mask = (uniform < p).to(img.device)  # (m, n), True = missing
        masked = apply_mask(img, mask)
        if bool(mask.all()):
            _fail(
                func,
                "props",
                "proportions that leave a pixel observed",
                f"{p!r}, which hid all {mask.numel()} pixels of this image",
                "Use a smaller proportion or a larger image.",
            )
        for r in ranks:
            t0 = time.perf_counter()
            recon = reconstruct(
                masked,
                rank=r,
                method=method,
                generator=g,
                device=device,
                **options,
            )
            seconds = time.perf_counter() - t0
            rmse, psnr = metrics(img, recon)
            rmse_m, psnr_m = (
                metrics(img, recon, mask=mask)
                if bool(mask.any())
                else (0.0, float("inf"))
            )
            results[(p, r)] = dict(
                recon=recon,
                mask=mask,
                rmse=rmse,
                psnr=psnr,
                rmse_missing=rmse_m,
                psnr_missing=psnr_m,
                seconds=seconds,
            )
    return results
