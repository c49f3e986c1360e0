import math

import pytest
import torch

import matfill_helpers as mh


def test_metrics_match_the_formulas_for_a_known_mse():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(3, 20, 30, generator=g) * 0.8 + 0.1
    noise = (torch.rand(3, 20, 30, generator=g) - 0.5) * 0.1
    recon = img + noise
    mse = noise.double().pow(2).mean().item()
    rmse, psnr = mh.metrics(img, recon)
    assert rmse == pytest.approx(math.sqrt(mse), rel=1e-5)
    assert psnr == pytest.approx(10 * math.log10(1.0 / mse), rel=1e-5)


def test_metrics_constant_error_gives_20_db():
    img = torch.full((3, 8, 8), 0.5)
    rmse, psnr = mh.metrics(img, img + 0.1)
    assert rmse == pytest.approx(0.1, rel=1e-5)
    assert psnr == pytest.approx(20.0, abs=1e-4)


def test_metrics_with_mask_scores_only_the_missing_pixels():
    img = torch.full((3, 4, 4), 0.5)
    recon = img.clone()
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[0, :2] = True
    recon[:, 0, :2] += 0.2  # errors only at the two missing pixels
    recon[:, 3, 3] = 1.0  # a big error at an observed pixel, ignored with mask
    rmse, psnr = mh.metrics(img, recon, mask=mask)
    assert rmse == pytest.approx(0.2, rel=1e-5)
    assert psnr == pytest.approx(10 * math.log10(1 / 0.04), rel=1e-5)
    all_mse = (
        6 * 0.04 + 3 * 0.25
    ) / 48  # 6 values off by 0.2, 3 (pixel (3, 3)) off by 0.5
    assert mh.metrics(img, recon)[1] == pytest.approx(
        10 * math.log10(1 / all_mse), rel=1e-5
    )


def test_metrics_use_data_range_one_not_the_inferred_range():
    img = torch.full((3, 4, 4), 0.4)
    img[0, 0, 0] = 0.6  # inferred range would be 0.2
    rmse, psnr = mh.metrics(img, img + 0.01)
    assert psnr == pytest.approx(40.0, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(img=torch.full((3, 4, 4), float("nan"))),
            ValueError,
            r"metrics: 'img' must be free of NaN",
        ),
        (
            dict(recon=torch.zeros(3, 5, 4)),
            ValueError,
            r"metrics: 'recon' must be the same shape as 'img' \(3, 4, 4\); got shape \(3, 5, 4\)",
        ),
        (
            dict(mask=torch.zeros(4, 4, dtype=torch.bool)),
            ValueError,
            r"'mask' must be a mask with at least one missing",
        ),
        (
            dict(mask=torch.ones(4, 4)),
            TypeError,
            r"'mask' must be a bool tensor",
        ),
        (
            dict(recon=torch.full((3, 4, 4), 1.5)),
            ValueError,
            r"'recon' must be in \[0, 1\]",
        ),
    ],
)
def test_metrics_rejects_bad_input(kwargs, exc, match):
    args = dict(img=torch.zeros(3, 4, 4), recon=torch.zeros(3, 4, 4))
    args.update(kwargs)
    mask = args.pop("mask", None)
    with pytest.raises(exc, match=match):
        mh.metrics(args["img"], args["recon"], mask=mask)
