"""RMSE and PSNR with torchmetrics, for images with values in [0, 1].

PSNR is computed with ``data_range=1.0``: torchmetrics >= 1.8 requires it, and inferring it from
the data would change the number from image to image. Images of any floating dtype are scored in
float64; the two images may be on different devices.
"""

from __future__ import annotations

from torchmetrics.functional.image import peak_signal_noise_ratio
from torchmetrics.functional.regression import mean_squared_error

from .._validation import _fail, check_image, check_mask


def metrics(img, recon, *, mask=None):
    """RMSE and PSNR (dB) of ``recon`` against the ground truth ``img``.

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1], no NaN
        Ground truth.
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1], no NaN
    mask : torch.Tensor of shape (m, n), bool, optional
        If given, only the pixels where ``mask`` is True (the missing ones) are scored;
        otherwise every pixel is.

    Returns
    -------
    rmse, psnr : float
        ``psnr = 10 * log10(1 / mse)`` with data range 1 (``inf`` for a perfect match).

    Examples
    --------
    >>> import torch
    >>> img = torch.zeros(3, 4, 4)
    >>> rmse, psnr = metrics(img, img + 0.1)
    >>> round(rmse, 4), round(psnr, 2)
    (0.1, 20.0)
    """
    img = check_image(img, func="metrics", name="img")
    recon = check_image(recon, func="metrics", name="recon")
    if recon.shape != img.shape:
        _fail(
            "metrics",
            "recon",
            f"the same shape as 'img' {tuple(img.shape)}",
            f"shape {tuple(recon.shape)}",
        )
    recon = recon.to(img.device)
    if mask is not None:
        check_mask(mask, func="metrics", shape=img.shape[1:])
        mask = mask.to(img.device)
        if not bool(mask.any()):
            _fail(
                "metrics",
                "mask",
                "a mask with at least one missing (True) pixel",
                "an all-False mask",
                "Use mask=None to score all pixels.",
            )
        img, recon = img[:, mask], recon[:, mask]  # (3, n_missing)
    target, preds = img.reshape(-1).double(), recon.reshape(-1).double()
    rmse = mean_squared_error(preds, target, squared=False)
    psnr = peak_signal_noise_ratio(preds, target, data_range=1.0)
    return float(rmse), float(psnr)
