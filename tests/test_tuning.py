"""Validation on held-out observed pixels: mh.holdout and mh.tune."""

import pytest
import torch

import matfill_helpers as mh


@pytest.fixture
def masked():
    img = mh.load_image("china", size=48)
    return mh.mask_image(img, 0.4, generator=0)


def test_holdout_hides_only_observed_pixels_and_the_asked_share(masked):
    masked_img, mask = masked
    train, held_out = mh.holdout(masked_img, 0.2, generator=3)
    n_obs = int((~mask).sum())
    assert not bool((held_out & mask).any())
    assert int(held_out.sum()) == round(0.2 * n_obs)
    # the held-out pixels are NaN in train, everything else is unchanged
    assert bool(torch.isnan(train[:, held_out]).all())
    keep = ~mask & ~held_out
    assert torch.equal(train[:, keep], masked_img[:, keep])
    assert torch.equal(mh.missing_mask(train), mask | held_out)


def test_holdout_with_the_masks_seed_still_holds_out_observed_pixels(masked):
    # a uniform field drawn from the mask's seed would pick only missing pixels
    masked_img, mask = masked
    _, held_out = mh.holdout(masked_img, 0.1, generator=0)
    assert int(held_out.sum()) > 0
    assert not bool((held_out & mask).any())


def test_holdout_is_reproducible_and_does_not_modify_its_input(masked):
    masked_img, _ = masked
    before = masked_img.clone()
    a = mh.holdout(masked_img, 0.1, generator=5)[1]
    b = mh.holdout(masked_img, 0.1, generator=5)[1]
    c = mh.holdout(masked_img, 0.1, generator=6)[1]
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.testing.assert_close(masked_img, before, equal_nan=True)


@pytest.mark.parametrize(
    "fraction, match",
    [
        (0.0, "a float in \\(0, 1\\); got 0.0"),
        (1.0, "a float in \\(0, 1\\); got 1.0"),
        (1e-6, "a share that holds out at least one"),
    ],
)
def test_holdout_rejects_bad_fractions(masked, fraction, match):
    with pytest.raises(
        ValueError, match="holdout: 'fraction' must be " + match
    ):
        mh.holdout(masked[0], fraction, generator=0)


def test_tune_picks_the_true_rank_of_a_low_rank_image():
    # every channel is exactly rank 3 (fitted uncentred): held-out pixels expose rank 1
    g = torch.Generator().manual_seed(0)
    U = torch.rand(3, 40, 3, generator=g)
    V = torch.rand(3, 3, 40, generator=g)
    img = (U @ V / 3).clamp(0, 1)
    masked, _ = mh.mask_image(img, 0.3, generator=1)
    best, table = mh.tune(
        masked, "als", {"rank": [1, 3]}, generator=2, ridge=1e-4, center="none"
    )
    assert best == {"rank": 3}
    by_rank = {row["rank"]: row for row in table}
    assert by_rank[3]["psnr_val"] > by_rank[1]["psnr_val"] + 10


def test_tune_never_reads_the_missing_pixels(masked):
    masked_img, mask = masked
    other = masked_img.clone()
    other[:, mask] = float(
        "nan"
    )  # the same observed pixels; missing values are NaN anyway
    grid = {"ridge": [0.1, 1.0]}
    a = mh.tune(masked_img, "als", grid, generator=0, rank=5)
    b = mh.tune(other, "als", grid, generator=0, rank=5)
    assert a == b


def test_tune_table_has_every_combination_in_grid_order(masked):
    grid = {"rank": [2, 4], "ridge": [0.5, 1.0, 2.0]}
    best, table = mh.tune(masked[0], "als", grid, generator=0, folds=2)
    settings = [(row["rank"], row["ridge"]) for row in table]
    assert settings == [(r, lam) for r in (2, 4) for lam in (0.5, 1.0, 2.0)]
    top = max(table, key=lambda row: row["psnr_val"])
    assert best == {"rank": top["rank"], "ridge": top["ridge"]}


def test_tune_scores_match_a_reconstruction_by_hand(masked):
    masked_img, _ = masked
    best, table = mh.tune(masked_img, "als", {"rank": [4]}, generator=7)
    g = mh._validation.check_generator(7)
    train, held_out = mh.holdout(masked_img, 0.1, generator=g)
    seed = int(torch.randint(2**62, (1,), generator=g))
    recon = mh.reconstruct(train, rank=4, method="als", generator=seed)
    truth = torch.nan_to_num(masked_img)
    rmse, psnr = mh.metrics(truth, recon, mask=held_out)
    assert table[0]["rmse_val"] == pytest.approx(rmse)
    assert table[0]["psnr_val"] == pytest.approx(psnr)


@pytest.mark.parametrize(
    "grid, fixed, exc, match",
    [
        (None, {}, TypeError, "'grid' must be a non-empty dict"),
        ({}, {}, ValueError, "'grid' must be a non-empty dict"),
        ({"rank": 5}, {}, TypeError, "a list of values for 'rank'"),
        ({"rank": []}, {}, ValueError, "at least one value for 'rank'"),
        ({"rank": [2]}, {"rank": 3}, ValueError, "'rank' must be either"),
        ({"bogus": [1]}, {"rank": 3}, ValueError, "'bogus' must be an option"),
    ],
)
def test_tune_rejects_bad_grids(masked, grid, fixed, exc, match):
    with pytest.raises(exc, match=match):
        mh.tune(masked[0], "als", grid, generator=0, **fixed)
