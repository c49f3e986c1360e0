"""Hiding pixels: a mask is a bool tensor of shape (m, n), True = missing.

A masked image is a copy of the (3, m, n) image with NaN at every missing pixel, in all three
channels. Masks are drawn on the CPU from an explicit generator and moved to the image's device, so
the same seed gives the same mask on every device. Images of any floating dtype (float16, bfloat16,
float32, float64) are masked in their own dtype; the input is never modified.
"""

from __future__ import annotations

import torch

from .._validation import (
    _fail,
    check_generator,
    check_image,
    check_int,
    check_mask,
    check_prop,
)


def apply_mask(img, mask):
    """Return a copy of ``img`` (3, m, n) with NaN where ``mask`` (m, n) is True.

    >>> masked = apply_mask(torch.ones(3, 2, 2), torch.tensor([[True, False], [False, False]]))
    >>> torch.isnan(masked).sum().item()
    3
    """
    img = check_image(img, func="apply_mask", allow_nan=True)
    check_mask(mask, func="apply_mask", shape=img.shape[1:])
    masked = img.clone()
    masked[:, mask.to(img.device)] = float(
        "nan"
    )  # (3, m, n), NaN in every channel
    return masked


def mask_image(img, prop, *, generator=None):
    """Hide each pixel independently with probability ``prop`` (the blog post's masking).

    Parameters
    ----------
    img : torch.Tensor of shape (3, m, n), float in [0, 1], no NaN
    prop : float in [0, 1]
        Probability that a pixel is missing; the missing fraction is ``prop`` on average.
    generator : torch.Generator, int or None

    Returns
    -------
    masked : torch.Tensor of shape (3, m, n), NaN at missing pixels
    mask : torch.Tensor of shape (m, n), bool, True = missing

    Examples
    --------
    >>> img = torch.rand(3, 100, 100, generator=torch.Generator().manual_seed(0))
    >>> masked, mask = mask_image(img, 0.4, generator=0)
    >>> round(mask.float().mean().item(), 2)
    0.4
    """
    img = check_image(img, func="mask_image")
    prop = check_prop(prop, func="mask_image")
    g = check_generator(generator, func="mask_image")
    mask = (
        torch.rand(tuple(img.shape[1:]), generator=g) < prop
    )  # (m, n) on the CPU
    mask = mask.to(img.device)
    return apply_mask(img, mask), mask


def random_mask_image(img, n_pixels=900, *, generator=None):
    """Hide exactly ``n_pixels`` pixels chosen uniformly without replacement.

    Examples
    --------
    >>> masked, mask = random_mask_image(torch.zeros(3, 50, 60), 900, generator=0)
    >>> int(mask.sum())
    900
    """
    img = check_image(img, func="random_mask_image")
    H, W = img.shape[1:]
    n_pixels = check_int(
        n_pixels, func="random_mask_image", name="n_pixels", low=0, high=H * W
    )
    g = check_generator(generator, func="random_mask_image")
    idx = torch.randperm(H * W, generator=g)[:n_pixels]
    mask = torch.zeros(H * W, dtype=torch.bool)
    mask[idx] = True
    mask = mask.view(H, W).to(img.device)
    return apply_mask(img, mask), mask


def block_mask_image(img, *, height=30, width=30, top=None, left=None):
    """Hide one ``height`` x ``width`` rectangle (centred unless ``top``/``left`` are given).

    Examples
    --------
    >>> masked, mask = block_mask_image(torch.zeros(3, 50, 60), height=10, width=20)
    >>> int(mask.sum()), mask.nonzero().min(0).values.tolist()
    (200, [20, 20])
    """
    img = check_image(img, func="block_mask_image")
    H, W = img.shape[1:]
    height = check_int(
        height, func="block_mask_image", name="height", low=1, high=H
    )
    width = check_int(
        width, func="block_mask_image", name="width", low=1, high=W
    )
    top = (
        (H - height) // 2
        if top is None
        else check_int(top, func="block_mask_image", name="top", low=0)
    )
    left = (
        (W - width) // 2
        if left is None
        else check_int(left, func="block_mask_image", name="left", low=0)
    )
    if top + height > H:
        _fail(
            "block_mask_image",
            "top",
            f"at most {H - height} so the block fits the height {H}",
            repr(top),
        )
    if left + width > W:
        _fail(
            "block_mask_image",
            "left",
            f"at most {W - width} so the block fits the width {W}",
            repr(left),
        )
    mask = torch.zeros(H, W, dtype=torch.bool, device=img.device)
    mask[top : top + height, left : left + width] = True
    return apply_mask(img, mask), mask


def missing_mask(masked_img):
    """The (m, n) mask of a masked image: True where any channel is NaN.

    >>> missing_mask(apply_mask(torch.zeros(3, 2, 2), torch.eye(2, dtype=torch.bool))).tolist()
    [[True, False], [False, True]]
    """
    masked_img = check_image(
        masked_img, func="missing_mask", name="masked_img", allow_nan=True
    )
    return torch.isnan(masked_img).any(dim=0)
