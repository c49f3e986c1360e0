import math

import numpy as np
import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.methods.patches import fit_patch_rows, kmeans


def sinusoid_image(h=40, w=48):
    """Every 6 x 6 patch of this image lies in one 3-D affine subspace (cos, sin of one wave)."""
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float32),
        torch.arange(w, dtype=torch.float32),
        indexing="ij",
    )
    wave = torch.cos(
        2 * math.pi * (rows / 5.0 + cols / 7.0)
    )  # period of a few pixels: not smooth
    return torch.stack(
        [0.5 + 0.3 * wave, 0.5 - 0.2 * wave, 0.4 + 0.1 * wave]
    )  # (3, h, w)


def test_smooth_fill_equals_scikit_image_biharmonic_inpainting():
    from skimage.restoration import inpaint_biharmonic

    img = mh.load_image("flower", size=32)
    masked, mask = mh.mask_image(img, 0.4, generator=0)
    ours = mh.smooth_fill(masked, iters=400)
    ref = inpaint_biharmonic(
        img.permute(1, 2, 0).numpy(), mask.numpy(), channel_axis=-1
    )
    ref = (
        torch.from_numpy(np.ascontiguousarray(ref))
        .permute(2, 0, 1)
        .float()
        .clamp(0, 1)
    )
    # the same energy; scikit-image treats image borders slightly differently (a few pixels differ)
    assert (ours - ref).abs().mean() < 1e-3
    psnr_ref = mh.metrics(img, ref, mask=mask)[1]
    assert mh.metrics(img, ours.clamp(0, 1), mask=mask)[1] == pytest.approx(
        psnr_ref, abs=0.05
    )
    assert torch.equal(ours[:, ~mask], img[:, ~mask])


def test_smooth_fill_recovers_a_linear_ramp_exactly():
    ramp = (
        torch.linspace(0, 1, 30)[None, :] * 0.5
        + torch.linspace(0, 1, 20)[:, None] * 0.5
    ).expand(3, 20, 30)
    mask = torch.rand(20, 30, generator=torch.Generator().manual_seed(1)) < 0.6
    mask[:2] = mask[-2:] = (
        False  # away from the borders, where the mirror condition bends a ramp
    )
    mask[:, :2] = mask[:, -2:] = False
    masked = mh.apply_mask(ramp.contiguous(), mask)
    assert (mh.smooth_fill(masked, iters=300) - ramp).abs().max() < 1e-4


def test_patches_recovers_an_image_that_is_low_rank_in_patch_space():
    img = sinusoid_image()
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    recon = mh.reconstruct(
        masked, rank=4, method="patches", generator=0, clusters=2
    )
    psnr = mh.metrics(img, recon, mask=mask)[1]
    smooth = mh.metrics(img, mh.smooth_fill(masked).clamp(0, 1), mask=mask)[1]
    assert psnr > 40.0
    assert (
        psnr > smooth + 15.0
    )  # a smooth fill cannot follow a wave of period 5 pixels


def test_patches_beats_smooth_fill_on_a_natural_image():
    img = mh.load_image("china", size=64)
    masked, mask = mh.mask_image(img, 0.4, generator=0)
    recon = mh.reconstruct(
        masked, rank=30, method="patches", generator=0, clusters=8
    )
    assert (
        mh.metrics(img, recon, mask=mask)[1]
        > mh.metrics(img, mh.smooth_fill(masked).clamp(0, 1), mask=mask)[1]
    )


def test_patches_keeps_observed_pixels_and_is_reproducible(small_img):
    masked, mask = mh.mask_image(small_img, 0.3, generator=0)
    opts = dict(clusters=4, iters=2)
    r1 = mh.reconstruct(masked, rank=10, method="patches", generator=3, **opts)
    r2 = mh.reconstruct(masked, rank=10, method="patches", generator=3, **opts)
    assert torch.equal(r1, r2)
    assert torch.equal(r1[:, ~mask], small_img[:, ~mask])


def naive_fit_patch_rows(Y, M, P, rank, noise):
    """Reference: the same model, one ridge solve per row with explicit loops, in float64."""
    P, Y = P.double(), Y.double()
    mu = P.mean(0)
    lam, V = torch.linalg.eigh((P - mu).T @ (P - mu) / P.shape[0])
    Vs = V[:, -rank:] * lam[-rank:].clamp_min(0).sqrt()
    obs = M.bool().repeat(1, 3)
    out = torch.empty_like(P)
    for i in range(P.shape[0]):
        A = Vs[obs[i]]  # (n_obs, r)
        z = torch.linalg.solve(
            A.T @ A + noise * torch.eye(rank, dtype=torch.float64),
            A.T @ (Y[i] - mu)[obs[i]],
        )
        out[i] = Vs @ z + mu
    return out


def test_batched_patch_fit_equals_naive_per_row_solve():
    g = torch.Generator().manual_seed(0)
    P = torch.rand(40, 3 * 9, generator=g)  # 40 patches of 3 x 3 RGB pixels
    M = (torch.rand(40, 9, generator=g) < 0.6).float()
    M[3] = 0  # a patch with no observed pixel: the ridge term gives the mean
    Y = torch.rand(40, 27, generator=g)
    fast = fit_patch_rows(Y, M, P, rank=5, noise=0.01)
    torch.testing.assert_close(
        fast.double(),
        naive_fit_patch_rows(Y, M, P, 5, 0.01),
        rtol=1e-4,
        atol=1e-4,
    )
    torch.testing.assert_close(fast[3], P.mean(0))


def test_kmeans_separates_two_clusters_and_uses_the_generator():
    g = torch.Generator().manual_seed(0)
    X = torch.cat(
        [
            torch.randn(50, 3, generator=g) * 0.1,
            torch.randn(50, 3, generator=g) * 0.1 + 5,
        ]
    )
    labels, centers = kmeans(X, 2, generator=torch.Generator().manual_seed(1))
    assert (
        len(set(labels[:50].tolist())) == 1
        and len(set(labels[50:].tolist())) == 1
    )
    assert labels[0] != labels[50]
    assert sorted(centers.norm(dim=1).round().tolist()) == [0.0, 9.0]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(patch=1),
            ValueError,
            r"reconstruct: 'patch' must be an int in \[2, inf\]; got 1",
        ),
        (
            dict(patch=6.0),
            TypeError,
            r"reconstruct: 'patch' must be an int; got float",
        ),
        (
            dict(stride=0),
            ValueError,
            r"reconstruct: 'stride' must be an int in \[1, 6\]; got 0",
        ),
        (
            dict(stride=7),
            ValueError,
            r"reconstruct: 'stride' must be an int in \[1, 6\]; got 7",
        ),
        (
            dict(clusters=0),
            ValueError,
            r"reconstruct: 'clusters' must be an int in \[1, inf\]; got 0",
        ),
        (
            dict(iters=0),
            ValueError,
            r"reconstruct: 'iters' must be an int in \[1, inf\]; got 0",
        ),
        (
            dict(noise=0.0),
            ValueError,
            r"reconstruct: 'noise' must be a finite number > 0; got 0.0",
        ),
        (
            dict(noise="big"),
            TypeError,
            r"reconstruct: 'noise' must be a real number; got str",
        ),
        (
            dict(smooth_iters=-1),
            ValueError,
            r"reconstruct: 'smooth_iters' must be an int in \[0, inf\]; got -1",
        ),
        (
            dict(patch=2),
            ValueError,
            r"reconstruct: 'rank' must be an int in \[1, 12\]; got 20",
        ),
        (
            dict(sweeps=3),
            ValueError,
            r"reconstruct: 'sweeps' must be an option of method 'patches'",
        ),
        (
            dict(weight=-0.1),
            ValueError,
            r"reconstruct: 'weight' must be a finite number >= 0; got -0.1",
        ),
        (
            dict(weight=1.5),
            ValueError,
            r"reconstruct: 'weight' must be a number in \[0, 1\]; got 1.5",
        ),
        (
            dict(sample=0),
            ValueError,
            r"reconstruct: 'sample' must be an int in \[1, inf\]; got 0",
        ),
        (
            dict(warm_stride=0),
            ValueError,
            r"reconstruct: 'warm_stride' must be an int in \[1, 6\]; got 0",
        ),
        (
            dict(warm_stride=7),
            ValueError,
            r"reconstruct: 'warm_stride' must be an int in \[1, 6\]; got 7",
        ),
        (
            dict(warm_stride=2.0),
            TypeError,
            r"reconstruct: 'warm_stride' must be an int; got float",
        ),
    ],
)
def test_patches_rejects_bad_arguments(small_img, kwargs, exc, match):
    masked, _ = mh.mask_image(small_img, 0.3, generator=0)
    with pytest.raises(exc, match=match):
        mh.reconstruct(
            masked, rank=20, method="patches", generator=0, **kwargs
        )


def test_patches_rejects_an_image_smaller_than_an_explicit_patch():
    masked, _ = mh.mask_image(
        torch.rand(3, 5, 40, generator=torch.Generator().manual_seed(0)),
        0.3,
        generator=0,
    )
    with pytest.raises(
        ValueError,
        match=r"'masked_img' must be at least 6 x 6 pixels .* got shape \(3, 5, 40\)",
    ):
        mh.reconstruct(masked, rank=2, method="patches", generator=0, patch=6)


@pytest.mark.parametrize("shape", [(5, 40), (2, 2), (1, 30), (30, 1), (1, 1)])
def test_patches_default_patch_fits_a_small_image(shape):
    img = torch.rand(3, *shape, generator=torch.Generator().manual_seed(0))
    masked, mask = mh.mask_image(img, 0.4, generator=1)
    if bool(mask.all()):  # keep one observed pixel
        mask[0, 0] = False
        masked = mh.apply_mask(img, mask)
    recon = mh.reconstruct(masked, rank=1, method="patches", generator=0)
    assert recon.shape == img.shape and bool(torch.isfinite(recon).all())
    assert torch.equal(recon[:, ~mask], img[:, ~mask])


def test_smooth_fill_rejects_bad_iters():
    with pytest.raises(
        ValueError,
        match=r"smooth_fill: 'iters' must be an int in \[0, inf\]; got -2",
    ):
        mh.smooth_fill(torch.zeros(3, 4, 4), iters=-2)


@pytest.mark.gpu
def test_patches_cuda_matches_cpu(small_img):
    masked, _ = mh.mask_image(small_img, 0.4, generator=0)
    opts = dict(clusters=4, iters=4)
    cpu = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    gpu = mh.reconstruct(
        masked.cuda(), rank=10, method="patches", generator=0, **opts
    )
    assert gpu.device.type == "cuda"
    # k-means ties can break differently on the GPU; the fills must still agree closely
    assert (gpu.cpu() - cpu).abs().mean() < 5e-3
    assert mh.metrics(small_img, gpu.cpu())[1] == pytest.approx(
        mh.metrics(small_img, cpu)[1], abs=0.1
    )


def test_pyramid_fill_keeps_observed_entries_and_fills_a_constant_exactly():
    from matfill_helpers.methods.als import pyramid_fill

    g = torch.Generator().manual_seed(0)
    A = torch.full((2, 30, 20), 0.25)
    A[1] = torch.rand(30, 20, generator=g)
    M = (
        torch.rand(2, 30, 20, generator=g) < 0.2
    ).float()  # 80 % missing, a different mask per matrix
    filled = pyramid_fill(A * M, M)
    torch.testing.assert_close(
        filled[0], A[0]
    )  # averages of a constant are the constant
    assert torch.equal(filled[M.bool()], A[M.bool()])
    assert (
        filled[1].min() >= A[1][M[1].bool()].min()
        and filled[1].max() <= A[1][M[1].bool()].max()
    )


def naive_refit_rows(Y, Wt, mu, Vs, noise):
    """Reference: one weighted ridge solve per row with explicit loops, in float64."""
    Y, mu, Vs = Y.double(), mu.double(), Vs.double()
    w = Wt.double().repeat(1, 3)  # (N, d): a pixel's weight on each channel
    out = torch.empty_like(Y)
    r = Vs.shape[1]
    for i in range(Y.shape[0]):
        A = Vs * w[i, :, None]  # (d, r), rows weighted
        z = torch.linalg.solve(
            Vs.T @ A + noise * torch.eye(r, dtype=torch.float64),
            A.T @ (Y[i] - mu),
        )
        out[i] = Vs @ z + mu
    return out


def test_weighted_refit_equals_naive_per_row_solve():
    from matfill_helpers.methods.patches import patch_model, refit_rows

    g = torch.Generator().manual_seed(0)
    P = torch.rand(50, 27, generator=g)  # 3 x 3 RGB patches
    Y = torch.rand(50, 27, generator=g)
    Wt = torch.where(torch.rand(50, 9, generator=g) < 0.5, 1.0, 0.05)
    Wt[4] = 0.0  # a patch with nothing to fit: the mean patch
    model = patch_model(P, 6)
    fast = refit_rows(Y, Wt, model, noise=0.01)
    ref = naive_refit_rows(Y, Wt, model[0], model[1], 0.01)
    torch.testing.assert_close(fast.double(), ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fast[4], model[0])


def test_patches_bands_and_model_sample_bound_the_work(monkeypatch):
    import matfill_helpers.methods.patches as patches

    img = mh.load_image("china", size=48)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    opts = dict(clusters=4, iters=2)
    whole = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    monkeypatch.setattr(patches, "_BAND_PATCHES", 50)  # bands of 2 patch rows
    monkeypatch.setattr(
        patches, "_SOLVE_FLOATS", 1
    )  # solve chunks of 64 patches
    banded = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    torch.testing.assert_close(banded, whole, rtol=0, atol=1e-5)
    # models fitted on 100 of the 484 patches of each pass: still better than the smooth start
    sampled = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, sample=100, **opts
    )
    smooth = mh.smooth_fill(masked).clamp(0, 1)
    assert (
        mh.metrics(img, sampled, mask=mask)[1]
        > mh.metrics(img, smooth, mask=mask)[1]
    )


def test_patches_runs_its_bands_on_several_threads_with_the_same_result():
    import matfill_helpers.threads as threads

    img = mh.load_image("flower", size=48)
    masked, _ = mh.mask_image(img, 0.5, generator=0)
    before = torch.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(threads, "SMALL_PROBLEM", 0)  # no one-thread rule
                mp.setattr("matfill_helpers.methods.patches._BAND_PATCHES", 60)
                results.append(
                    mh.reconstruct(
                        masked, rank=8, method="patches", generator=0, iters=2
                    )
                )
            assert torch.get_num_threads() == n  # the caller's setting is back
    finally:
        torch.set_num_threads(before)
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=1e-4)


def test_shrink_to_mean_keeps_a_good_smooth_fill_and_drops_a_bad_one():
    from matfill_helpers.methods.patches import shrink_to_mean

    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0.2, 0.8, 40).expand(3, 30, 40).contiguous()
    masked, _ = mh.mask_image(ramp, 0.9, generator=1)
    _, alpha = shrink_to_mean(masked, mh.smooth_fill(masked), generator=g)
    assert (
        alpha > 0.95
    )  # a ramp: the smooth fill predicts held-out pixels exactly
    noise = torch.rand(3, 30, 40, generator=g)  # no spatial structure at all
    masked, _ = mh.mask_image(noise, 0.9, generator=1)
    _, alpha = shrink_to_mean(masked, mh.smooth_fill(masked), generator=g)
    assert alpha < 0.5  # interpolating noise is worse than its mean


def test_warm_passes_use_warm_stride_and_large_images_default_to_twice(
    monkeypatch,
):
    import matfill_helpers.methods.patches as patches

    img = mh.load_image("china", size=48)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    opts = dict(clusters=4, iters=5, stride=2)  # one warm pass, four averaged
    default = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    same = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, warm_stride=2, **opts
    )
    torch.testing.assert_close(default, same, rtol=0, atol=0)  # small: stride
    coarse = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, warm_stride=4, **opts
    )
    assert not torch.equal(coarse, default)  # the warm pass changed
    smooth = mh.smooth_fill(masked).clamp(0, 1)
    assert (
        mh.metrics(img, coarse, mask=mask)[1]
        > mh.metrics(img, smooth, mask=mask)[1]
    )
    # an image over LARGE_IMAGE pixels gets twice the stride by default
    monkeypatch.setattr(patches, "LARGE_IMAGE", 48 * 48 - 1)
    monkeypatch.setattr(patches, "default_dct_shifts", lambda n: 2)  # below
    large = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    torch.testing.assert_close(large, coarse, rtol=0, atol=0)
    assert patches.default_warm_stride(10**7, 2, 3) == 3  # at most the patch


def test_large_images_start_from_one_dct_grid_per_step(monkeypatch):
    import matfill_helpers.methods.patches as patches

    img = mh.load_image("china", size=48)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    seen = []
    dct_fill = patches.dct_fill

    def spy(*args, **kwargs):
        seen.append(kwargs["shifts"])
        return dct_fill(*args, **kwargs)

    monkeypatch.setattr(patches, "dct_fill", spy)
    opts = dict(clusters=4, iters=1, dct_iters=5)
    small = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    monkeypatch.setattr(patches, "LARGE_IMAGE", 48 * 48 - 1)
    large = mh.reconstruct(
        masked, rank=10, method="patches", generator=0, **opts
    )
    assert seen == [2, 1]
    assert not torch.equal(small, large)
    smooth = mh.smooth_fill(masked).clamp(0, 1)
    assert (
        mh.metrics(img, large, mask=mask)[1]
        > mh.metrics(img, smooth, mask=mask)[1]
    )


def test_patch_model_drops_directions_below_the_minimum_variance():
    from matfill_helpers.methods.patches import patch_model, refit_rows

    g = torch.Generator().manual_seed(0)
    # 2 x 2 RGB patches (12 numbers) on a 2-dimensional subspace, plus tiny noise
    P = torch.randn(400, 2, generator=g) @ torch.randn(2, 12, generator=g)
    P = P + 1e-4 * torch.randn(400, 12, generator=g)
    full = patch_model(P, 10)
    lean = patch_model(P, 10, min_variance=1e-4)
    assert full[1].shape == (12, 10) and lean[1].shape == (12, 2)
    M = (torch.rand(400, 4, generator=g) > 0.5).float()
    torch.testing.assert_close(
        refit_rows(P, M, lean, noise=1e-4),
        refit_rows(P, M, full, noise=1e-4),
        atol=1e-3,
        rtol=0,
    )
    # at least one direction is always kept
    assert patch_model(P, 10, min_variance=1e9)[1].shape == (12, 1)
