"""The sparse DCT fill: its transform, its thresholding and what it recovers."""

import math

import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.methods.sparse import (
    dct_fill,
    dct_matrix,
    threshold_blocks,
)


def test_dct_matrix_matches_the_textbook_formula():
    D = dct_matrix(8, dtype=torch.float64)
    k, n = 3, 5
    expected = math.sqrt(2 / 8) * math.cos(math.pi * (n + 0.5) * k / 8)
    assert D[k, n].item() == pytest.approx(expected)
    assert D[0, 0].item() == pytest.approx(1 / math.sqrt(8))
    torch.testing.assert_close(D @ D.T, torch.eye(8, dtype=torch.float64))


@pytest.mark.parametrize("shift", [(0, 0), (3, 7), (15, 1)])
def test_thresholding_nothing_gives_the_image_back_at_any_shift(shift):
    x = torch.rand(3, 37, 50, generator=torch.Generator().manual_seed(0))
    out = threshold_blocks(x, 0.0, block=16, shift=shift)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_thresholding_keeps_exactly_the_large_coefficients_of_a_block():
    D = dct_matrix(16)
    coef = torch.zeros(16, 16)
    coef[0, 0], coef[2, 5], coef[7, 1] = 4.0, 0.5, 0.05  # one block
    x = (D.T @ coef @ D)[None]  # (1, 16, 16)
    out = threshold_blocks(x, 0.1, block=16, shift=(0, 0))
    kept = coef.clone()
    kept[7, 1] = 0.0  # below the threshold
    torch.testing.assert_close(out[0], D.T @ kept @ D, atol=1e-5, rtol=0)


def test_dct_fill_keeps_observed_pixels_is_in_range_and_deterministic():
    img = mh.load_image("flower", size=48)
    masked, mask = mh.mask_image(img, 0.7, generator=0)
    a = dct_fill(masked, generator=1)
    b = dct_fill(masked, generator=1)
    assert torch.equal(a, b)
    assert torch.equal(a[:, ~mask], img[:, ~mask])
    assert a.min() >= 0 and a.max() <= 1 and torch.isfinite(a).all()


def test_dct_fill_recovers_a_smooth_image_from_a_third_of_its_pixels():
    y, x = torch.meshgrid(
        torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij"
    )
    base = 0.5 + 0.3 * torch.cos(2 * math.pi * x) * torch.sin(math.pi * y)
    img = torch.stack([base, 0.8 * base, 1 - base])
    masked, mask = mh.mask_image(img, 0.67, generator=0)
    filled = dct_fill(masked, iters=100)
    assert (filled - img)[:, mask].abs().max() < 0.05


def test_dct_fill_improves_on_the_smooth_fill_of_a_photo_at_80_percent():
    img = mh.load_image("china", size=128)
    masked, mask = mh.mask_image(img, 0.8, generator=0)
    smooth = mh.smooth_fill(masked).clamp(0, 1)
    sparse = dct_fill(masked, start=smooth)
    assert (
        mh.metrics(img, sparse, mask=mask)[1]
        > mh.metrics(img, smooth, mask=mask)[1] + 0.5
    )


def test_dct_fill_of_a_tiny_image_is_its_start():
    masked = torch.tensor([[[0.2, float("nan"), 0.4]]]).expand(3, 1, 3)
    filled = dct_fill(masked)
    torch.testing.assert_close(filled[:, 0, 1], torch.full((3,), 0.3))


@pytest.mark.parametrize(
    "options, exc, message",
    [
        (dict(block=1), ValueError, "'block'"),
        (dict(iters=0), ValueError, "'iters'"),
        (dict(shifts=1.5), TypeError, "'shifts'"),
        (dict(tau_min=0.0), ValueError, "'tau_min'"),
        (dict(tau_max=float("nan")), ValueError, "'tau_max'"),
    ],
)
def test_dct_fill_rejects_bad_options_by_name(options, exc, message):
    masked, _ = mh.mask_image(
        mh.load_image("flower", size=16), 0.5, generator=0
    )
    with pytest.raises(exc, match=f"dct_fill: {message}"):
        dct_fill(masked, **options)


def test_patches_start_from_the_sparse_fill_unless_told_not_to():
    img = mh.load_image("china", size=96)  # 1382 observed pixels: > 1024
    masked, mask = mh.mask_image(img, 0.85, generator=0)
    options = dict(rank=10, generator=0, clusters=4, iters=1)
    with_dct = mh.reconstruct(masked, method="patches", **options)
    without = mh.reconstruct(masked, method="patches", dct_iters=0, **options)
    assert not torch.equal(with_dct, without)
    with pytest.raises(ValueError, match="'dct_iters'"):
        mh.reconstruct(masked, method="patches", dct_iters=-1, **options)
