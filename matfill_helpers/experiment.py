"""The blog post's experiment: reconstruct one image over a grid of missing proportions x ranks."""

from __future__ import annotations

import time

from ._validation import check_generator, check_image, check_prop
from .factorization import reconstruct
from .masking import mask_image
from .metrics import metrics


def run_grid(
    img, *, props, ranks, method="als", generator=None, device=None, **options
):
    """Mask ``img`` at each proportion and reconstruct it at each rank.

    One mask per proportion, drawn in order from ``generator`` and shared by every rank, so ranks are
    compared on the same missing pixels.

    Returns
    -------
    dict mapping ``(prop, rank)`` to ``{"recon", "mask", "rmse", "psnr", "rmse_missing",
    "psnr_missing", "seconds"}`` (RMSE/PSNR on all pixels, ``*_missing`` on the missing ones only)

    >>> from matfill_helpers import load_image
    >>> out = run_grid(load_image("china", size=24), props=[0.2], ranks=[2, 4], generator=0)
    >>> sorted(out), round(out[(0.2, 4)]["psnr"]) > 10
    ([(0.2, 2), (0.2, 4)], True)
    """
    check_image(img, func="run_grid")
    g = check_generator(generator, func="run_grid")
    results = {}
    for p in props:
        check_prop(p, func="run_grid", name="props")
        masked, mask = mask_image(img, p, generator=g)
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
