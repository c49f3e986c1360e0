import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.methods.als import (
    biases,
    factorize_als,
    reconstruct_als,
    row_grams,
    solve_rows,
)


def rel_err_hidden(W, H, A, hide):
    return ((W @ H - A)[hide].norm() / A[hide].norm()).item()


def test_als_recovers_rank2_matrix_from_half_the_entries(rank2):
    A, Am, hide = rank2
    W, H, losses = mh.factorize(
        Am, 2, method="als", ridge=1e-8, tol=1e-12, max_sweeps=300, generator=0
    )
    assert W.shape == (60, 2) and H.shape == (2, 40)
    assert rel_err_hidden(W, H, A, hide) < 1e-3
    assert losses[-1] <= losses[0]


def test_gd_with_sane_settings_recovers_rank2_matrix(rank2):
    A, Am, hide = rank2
    W, H, losses = mh.factorize(
        Am,
        2,
        method="gd",
        init_scale=0.1,
        loss="mse",
        lr=0.01,
        steps=3000,
        generator=0,
    )
    assert len(losses) == 3000
    assert rel_err_hidden(W, H, A, hide) < 1e-3


def blog_factorize(A, k, generator, steps=1000):
    """The blog post's factorize, with its two randn calls given a generator."""
    W = torch.randn(A.shape[0], k, generator=generator).requires_grad_()
    H = torch.randn(k, A.shape[1], generator=generator).requires_grad_()
    optimizer = torch.optim.Adam([W, H], lr=0.01)
    mask = ~torch.isnan(A)
    for _ in range(steps):
        diff_matrix = torch.mm(W, H) - A
        loss = torch.norm(diff_matrix[mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return W.detach(), H.detach(), loss.item()


def test_gd_defaults_are_the_seed_posts_method(rank2):
    _, Am, _ = rank2
    # same init, same updates: identical trajectories up to float summation order
    W, H, losses = mh.factorize(Am, 3, method="gd", generator=5, steps=100)
    Wr, Hr, last = blog_factorize(
        Am, 3, torch.Generator().manual_seed(5), steps=100
    )
    torch.testing.assert_close(W @ H, Wr @ Hr, rtol=1e-4, atol=1e-4)
    assert losses[-1] == pytest.approx(last, rel=1e-5)
    # the full 1000 defaults: near the end Adam at lr 0.01 on a norm loss jitters, so rounding
    # differences grow; the loss reached is the same
    W, H, losses = mh.factorize(Am, 3, method="gd", generator=5)
    Wr, Hr, last = blog_factorize(Am, 3, torch.Generator().manual_seed(5))
    assert len(losses) == 1000
    assert losses[-1] < 1e-3 * losses[0] and last < 1e-3 * losses[0]
    torch.testing.assert_close(W @ H, Wr @ Hr, rtol=0, atol=0.05)


def naive_solve_rows(M, A0, F, ridge):
    """Reference: one k x k solve per row, with explicit loops."""
    B, m, _ = M.shape
    k = F.shape[1]
    out = torch.zeros(B, m, k, dtype=torch.float64)
    for b in range(B):
        for i in range(m):
            obs = M[b, i].bool()
            Fo = F[b][:, obs].double()  # (k, n_obs)
            G = Fo @ Fo.T + ridge * torch.eye(k, dtype=torch.float64)
            out[b, i] = torch.linalg.solve(G, Fo @ A0[b, i, obs].double())
    return out


def test_batched_als_row_solve_equals_naive_per_row_solve():
    g = torch.Generator().manual_seed(0)
    M = (torch.rand(3, 17, 11, generator=g) < 0.6).float()
    M[1, 4] = (
        0  # a row with no observed entry: ridge alone keeps it solvable (-> 0)
    )
    A0 = torch.rand(3, 17, 11, generator=g) * M
    F = torch.randn(3, 4, 11, generator=g)
    fast = solve_rows(M, A0, F, 0.3)
    ref = naive_solve_rows(M, A0, F, 0.3)
    torch.testing.assert_close(fast.double(), ref, rtol=1e-4, atol=1e-5)
    assert fast[1, 4].abs().max() == 0


def test_row_grams_chunking_matches_unchunked(monkeypatch):
    import matfill_helpers.methods.als as als

    g = torch.Generator().manual_seed(1)
    M = (torch.rand(2, 30, 9, generator=g) < 0.5).float()
    A0 = torch.rand(2, 30, 9, generator=g) * M
    F = torch.randn(2, 3, 9, generator=g)
    whole = solve_rows(M, A0, F, 0.1)
    G = row_grams(M, F)
    torch.testing.assert_close(G, G.transpose(-1, -2))
    # rows in chunks of 8 (the smallest chunk), products 4 columns at a time
    monkeypatch.setattr(als, "_CHUNK_FLOATS", 1)
    monkeypatch.setattr(als, "_LARGE_CHUNK_FLOATS", 1)
    monkeypatch.setattr(als, "_COLUMN_FLOATS", 2 * 6 * 4)
    torch.testing.assert_close(solve_rows(M, A0, F, 0.1), whole)
    torch.testing.assert_close(row_grams(M, F), G)


def test_reconstruct_als_centres_each_channel_on_its_observed_mean(small_img):
    from matfill_helpers.methods.als import observed_mean

    masked, mask = mh.mask_image(small_img, 0.99, generator=0)
    recon = mh.reconstruct(masked, rank=10, method="als", generator=0)
    mu = observed_mean(masked)  # (3,)
    # 99 % missing: the ridge keeps W @ H near zero, so the fill stays near each channel's mean
    assert (recon[:, mask].mean(1) - mu).abs().max() < 0.05
    assert (recon[:, mask] - mu[:, None]).abs().max() < 0.3


@pytest.mark.parametrize(
    "method, options",
    [
        ("als", dict(ridge=0.5)),
        ("als", dict(ridge=0.5, init="random")),
        ("gd", dict(steps=60)),
    ],
)
def test_reconstruct_equals_three_single_channel_factorize_calls(
    small_img, method, options
):
    masked, _ = mh.mask_image(small_img, 0.4, generator=0)
    recon = mh.reconstruct(
        masked, rank=5, method=method, generator=11, **options
    )
    g = torch.Generator().manual_seed(11)
    per_channel = []
    for c in range(3):
        W, H, _ = mh.factorize(
            masked[c], 5, method=method, generator=g, **options
        )
        per_channel.append(W @ H)
    expected = torch.stack(per_channel).clamp(0, 1)
    if method == "als":
        # reconstruct centres each channel on its observed mean, factorizes, and adds the mean
        # back; each matrix converges on its own, so run enough sweeps for all to reach one point
        recon = mh.reconstruct(
            masked,
            rank=5,
            method=method,
            generator=11,
            tol=0.0,
            max_sweeps=30,
            **options,
        )
        g = torch.Generator().manual_seed(
            11
        )  # one generator, shared in channel order
        expected = []
        for c in range(3):
            mu = masked[c][~torch.isnan(masked[c])].mean()
            W, H, _ = mh.factorize(
                masked[c] - mu,
                5,
                method=method,
                generator=g,
                tol=0.0,
                max_sweeps=30,
                **options,
            )
            expected.append(W @ H + mu)
        expected = torch.stack(expected).clamp(0, 1)
    torch.testing.assert_close(recon, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("method", ["gd", "als", "rff"])
def test_reconstruct_same_seed_same_result(small_img, method):
    masked, _ = mh.mask_image(small_img, 0.5, generator=0)
    opts = (
        dict(steps=50)
        if method == "gd"
        else dict(num_features=64)
        if method == "rff"
        else {}
    )
    if method == "als":
        opts = dict(init="random")
    r1 = mh.reconstruct(masked, rank=4, method=method, generator=3, **opts)
    r2 = mh.reconstruct(masked, rank=4, method=method, generator=3, **opts)
    r3 = mh.reconstruct(masked, rank=4, method=method, generator=4, **opts)
    assert torch.equal(r1, r2)
    assert not torch.equal(r1, r3)


@pytest.mark.parametrize("method", sorted(mh.METHODS))
def test_reconstruct_at_95_percent_missing_is_finite_in_unit_range(
    small_img, method
):
    masked, _ = mh.mask_image(small_img, 0.95, generator=0)
    opts = {"gd": dict(steps=100), "rff": dict(num_features=64)}.get(
        method, {}
    )
    recon = mh.reconstruct(masked, rank=10, method=method, generator=0, **opts)
    assert recon.shape == small_img.shape and recon.dtype == torch.float32
    assert torch.isfinite(recon).all()
    assert recon.min() >= 0 and recon.max() <= 1


def test_reconstruct_keep_observed_copies_observed_pixels(small_img):
    masked, mask = mh.mask_image(small_img, 0.3, generator=0)
    recon = mh.reconstruct(masked, rank=3, generator=0, keep_observed=True)
    torch.testing.assert_close(recon[:, ~mask], small_img[:, ~mask])
    plain = mh.reconstruct(masked, rank=3, generator=0)
    assert not torch.allclose(plain[:, ~mask], small_img[:, ~mask])


def test_reconstruct_als_beats_blog_gd_at_high_missing_proportion():
    img = mh.load_image("flower", size=64)
    masked, mask = mh.mask_image(img, 0.8, generator=0)
    als = mh.metrics(
        img,
        mh.reconstruct(masked, rank=20, method="als", generator=0),
        mask=mask,
    )[1]
    gd = mh.metrics(
        img,
        mh.reconstruct(masked, rank=20, method="gd", generator=0),
        mask=mask,
    )[1]
    assert als > gd + 3.0
    assert als > 14.0


def test_reconstruct_result_on_input_device(small_img):
    masked, _ = mh.mask_image(small_img, 0.3, generator=0)
    recon = mh.reconstruct(masked, rank=3, generator=0, device="cpu")
    assert recon.device == masked.device


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(rank=0),
            ValueError,
            r"reconstruct: 'rank' must be an int in \[1, 48\]; got 0",
        ),
        (
            dict(rank=49),
            ValueError,
            r"reconstruct: 'rank' must be an int in \[1, 48\]; got 49",
        ),
        (
            dict(rank=None),
            ValueError,
            r"reconstruct: 'rank' must be an int in \[1, 48\] for method 'als'; got None",
        ),
        (dict(rank=2.5), TypeError, r"'rank' must be an int; got float"),
        (
            dict(rank=3, method="svd"),
            ValueError,
            r"reconstruct: 'method' must be one of \[.*'als'.*\]; got 'svd'",
        ),
        (
            dict(rank=3, steps=10),
            ValueError,
            r"reconstruct: 'steps' must be an option of method 'als'",
        ),
        (
            dict(rank=3, ridge=-1.0),
            ValueError,
            r"'ridge' must be a finite number >= 0; got -1.0",
        ),
        (
            dict(rank=3, ridge=0.0),
            ValueError,
            r"'ridge' must be > 0 for method 'als'",
        ),
        (
            dict(rank=3, method="gd", loss="l1"),
            ValueError,
            r"'loss' must be one of",
        ),
        (
            dict(rank=3, keep_observed=1),
            TypeError,
            r"'keep_observed' must be a bool",
        ),
    ],
)
def test_reconstruct_rejects_bad_arguments(small_img, kwargs, exc, match):
    masked, _ = mh.mask_image(small_img, 0.3, generator=0)
    with pytest.raises(exc, match=match):
        mh.reconstruct(masked, generator=0, **kwargs)


def test_reconstruct_rejects_image_with_no_observed_pixel():
    with pytest.raises(
        ValueError,
        match=r"reconstruct: 'masked_img' must be an image with at least one observed",
    ):
        mh.reconstruct(torch.full((3, 8, 8), float("nan")), rank=2)


@pytest.mark.parametrize(
    "A, k, kwargs, exc, match",
    [
        (
            torch.full((5, 4), float("nan")),
            2,
            {},
            ValueError,
            r"factorize: 'A' must be a matrix with at least one observed",
        ),
        (
            torch.zeros(5),
            1,
            {},
            ValueError,
            r"factorize: 'A' must be a 2-D tensor \(m, n\); got shape \(5,\)",
        ),
        (
            torch.zeros(5, 4, dtype=torch.int64),
            1,
            {},
            TypeError,
            r"'A' must be a floating-point tensor",
        ),
        (
            torch.zeros(5, 4),
            5,
            {},
            ValueError,
            r"factorize: 'k' must be an int in \[1, 4\]; got 5",
        ),
        (
            torch.zeros(5, 4),
            2,
            dict(method="nmf"),
            ValueError,
            r"factorize: 'method' must be one of \['als', 'gd', 'hardimpute', 'softimpute'\]; got 'nmf'",
        ),
        (
            torch.zeros(5, 4),
            2,
            dict(method="gd", sweeps=3),
            ValueError,
            r"'sweeps' must be an option of method 'gd'",
        ),
        (
            torch.zeros(5, 4),
            2,
            dict(method="gd", lr=0.0),
            ValueError,
            r"'lr' must be a finite number > 0; got 0.0",
        ),
        (
            torch.tensor([[float("inf"), 1.0]]),
            1,
            {},
            ValueError,
            r"'A' must be finite where observed",
        ),
    ],
)
def test_factorize_rejects_bad_input(A, k, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mh.factorize(A, k, generator=0, **kwargs)


def test_gd_early_stopping_stops_before_max_steps(rank2):
    _, Am, _ = rank2
    _, _, losses = mh.factorize(Am, 2, method="gd", generator=0, **mh.GD_TUNED)
    assert len(losses) < 1000


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["als", "gd"])
def test_cuda_matches_cpu(small_img, method):
    masked, _ = mh.mask_image(small_img, 0.4, generator=0)
    opts = dict(steps=200) if method == "gd" else dict(tol=0.0, max_sweeps=20)
    cpu = mh.reconstruct(masked, rank=5, method=method, generator=0, **opts)
    gpu_in = masked.cuda()
    gpu = mh.reconstruct(gpu_in, rank=5, method=method, generator=0, **opts)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-3, atol=2e-3)
    on_gpu = mh.reconstruct(
        masked, rank=5, method=method, generator=0, device="cuda", **opts
    )
    assert on_gpu.device.type == "cpu"


def test_als_center_none_is_the_plain_factorization():
    g = torch.Generator().manual_seed(0)
    masked = torch.rand(3, 20, 16, generator=g)
    masked[:, torch.rand(20, 16, generator=g) < 0.3] = float("nan")
    W, H, _ = factorize_als(masked, 4)
    recon = mh.reconstruct(masked, rank=4, method="als", center="none")
    torch.testing.assert_close(recon, (W @ H).clamp(0, 1))


def test_als_center_none_on_a_full_image_is_the_truncated_svd_and_mean_adds_a_rank():
    img = mh.load_image("china", size=48)
    U, S, Vh = torch.linalg.svd(img.double(), full_matrices=False)
    best = ((U[..., :5] * S[:, None, :5]) @ Vh[:, :5]).float()  # (3, 48, 48)
    plain = reconstruct_als(img, rank=5, ridge=1e-6, center="none", tol=1e-9)
    torch.testing.assert_close(plain, best, atol=2e-3, rtol=0)
    centred = reconstruct_als(img, rank=5, ridge=1e-6)
    assert [int(torch.linalg.matrix_rank(c, rtol=1e-5)) for c in centred] == [
        6,
        6,
        6,
    ]


def test_als_biases_recover_an_additive_image_exactly():
    # mu + b_i + c_j with nothing else: the biases alone fill every missing pixel
    g = torch.Generator().manual_seed(1)
    rows = torch.rand(3, 30, 1, generator=g) * 0.4
    cols = torch.rand(3, 1, 24, generator=g) * 0.4
    img = 0.1 + rows + cols  # (3, 30, 24)
    masked, mask = mh.mask_image(img, 0.5, generator=2)
    offset = biases(masked, ridge=1e-9, sweeps=200)
    torch.testing.assert_close(offset, img, atol=1e-4, rtol=0)
    recon = mh.reconstruct(
        masked, rank=1, method="als", center="biases", ridge=1e-6
    )
    assert mh.metrics(img, recon, mask=mask)[1] > 60


def test_factorize_refuses_center_and_reconstruct_checks_its_value():
    A = torch.rand(6, 5)
    with pytest.raises(
        ValueError, match="factorize: 'center' must be left out"
    ):
        mh.factorize(A, 2, method="als", center="mean")
    with pytest.raises(
        ValueError, match="reconstruct: 'center' must be one of"
    ):
        mh.reconstruct(
            torch.rand(3, 6, 5), rank=2, method="als", center="median"
        )
