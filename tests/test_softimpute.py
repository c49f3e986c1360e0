"""SoftImpute and Hard-Impute: known answers and optimality conditions."""

import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.methods import softimpute as si
from matfill_helpers.methods.softimpute import soft_impute, soft_threshold


def _low_rank(m, n, r, seed):
    g = torch.Generator().manual_seed(seed)
    U = torch.randn(m, r, generator=g, dtype=torch.float64)
    V = torch.randn(r, n, generator=g, dtype=torch.float64)
    return U @ V, g


def test_fully_observed_softimpute_is_the_soft_thresholded_svd():
    X, _ = _low_rank(20, 15, 15, 0)
    lam = 1.5
    U, S, Vh = torch.linalg.svd(X, full_matrices=False)
    expected = (U * (S - lam).clamp_min(0)) @ Vh
    Z, S_out, history = soft_impute(X[None], ridge=lam, max_iters=5)
    torch.testing.assert_close(Z[0], expected)
    torch.testing.assert_close(S_out[0], (S - lam).clamp_min(0))
    assert len(history) <= 2  # a fixed point after one step


def test_soft_threshold_is_the_proximal_step_of_the_nuclear_norm():
    # 1/2 ||Z - A||^2 + lam ||Z||_* is smallest at the thresholded SVD: random moves only raise it
    A, g = _low_rank(8, 6, 6, 1)
    lam = 0.7

    def f(Z):
        return 0.5 * (Z - A).pow(2).sum() + lam * torch.linalg.svdvals(Z).sum()

    Z, _ = soft_threshold(A[None], lam)
    best = f(Z[0])
    for _ in range(20):
        assert (
            f(Z[0] + 1e-3 * torch.randn(8, 6, generator=g, dtype=A.dtype))
            > best
        )


def test_softimpute_solution_satisfies_the_subgradient_conditions():
    # optimality: P_Omega(X - Z) = lam * (U V^T + R), with U^T R = 0, R V = 0, ||R||_2 <= 1
    X, g = _low_rank(30, 24, 3, 2)
    hidden = torch.rand(30, 24, generator=g) < 0.4
    A = X.masked_fill(hidden, float("nan"))
    lam = 0.5
    Z, S, _ = soft_impute(A[None], ridge=lam, max_iters=5000, tol=1e-20)
    Z, S = Z[0], S[0]
    G = (
        torch.where(hidden, 0.0, X - Z) / lam
    )  # must lie in the subdifferential of ||Z||_*
    U, s, Vh = torch.linalg.svd(Z)
    r = int((s > 1e-8 * s[0]).sum())
    U, Vh = U[:, :r], Vh[:r]
    torch.testing.assert_close(
        U.T @ G @ Vh.T, torch.eye(r, dtype=X.dtype), atol=1e-5, rtol=0
    )
    R = G - U @ Vh
    assert torch.linalg.matrix_norm(R, ord=2) <= 1 + 1e-5
    torch.testing.assert_close(
        U.T @ R, torch.zeros_like(U.T @ R), atol=1e-5, rtol=0
    )


def test_softimpute_recovers_an_exact_low_rank_matrix_on_a_lambda_path():
    X, g = _low_rank(60, 50, 3, 3)
    hidden = (
        torch.rand(60, 50, generator=g) < 0.5
    )  # 1500 entries, 3 (60 + 50 - 3) = 321 unknowns
    A = X.masked_fill(hidden, float("nan"))
    Z = None
    for lam in (10.0, 1.0, 0.1, 0.01, 0.001):
        Z, S, _ = soft_impute(
            A[None], ridge=lam, Z0=Z, max_iters=1000, tol=1e-14
        )
    err = (Z[0] - X)[hidden].norm() / X[hidden].norm()
    assert err < 1e-3
    assert int((S[0] > 1e-2).sum()) == 3


def test_hardimpute_keeps_the_top_singular_values_unshrunk_and_recovers_low_rank():
    X, g = _low_rank(40, 30, 2, 4)
    hidden = torch.rand(40, 30, generator=g) < 0.3
    A = X.masked_fill(hidden, float("nan"))
    Z, S, _ = soft_impute(
        A[None], rank=2, hard=True, max_iters=3000, tol=1e-20
    )
    assert S.shape[-1] == 2
    assert (Z[0] - X).abs().max() < 1e-4


def test_softimpute_and_als_reach_the_same_solution_when_als_rank_is_large_enough():
    X, g = _low_rank(30, 25, 2, 5)
    X = X + 0.1 * torch.randn(
        30, 25, generator=g, dtype=X.dtype
    )  # noise: a full-rank matrix
    A = X.masked_fill(torch.rand(30, 25, generator=g) < 0.3, float("nan"))
    lam = 2.0
    Z, S, _ = soft_impute(A[None], ridge=lam, max_iters=20000, tol=1e-24)
    rank = int((S[0] > 1e-6).sum())
    W, H, _ = mh.factorize(
        A, rank + 3, method="als", ridge=lam, tol=1e-14, max_sweeps=5000
    )
    torch.testing.assert_close(W @ H, Z[0], atol=1e-4, rtol=0)
    # with a rank below the solution's, ALS solves another (rank-constrained) problem
    W, H, _ = mh.factorize(
        A, rank - 1, method="als", ridge=lam, tol=1e-14, max_sweeps=5000
    )
    assert (W @ H - Z[0]).abs().max() > 1e-2


def test_reconstruct_runs_softimpute_and_hardimpute_with_checked_options():
    img = mh.load_image("china", size=32)
    masked, mask = mh.mask_image(img, 0.4, generator=0)
    soft = mh.reconstruct(masked, method="softimpute", ridge=1.0)
    capped = mh.reconstruct(masked, method="softimpute", rank=5, ridge=1.0)
    hard = mh.reconstruct(masked, method="hardimpute", rank=5)
    for recon in (soft, capped, hard):
        assert recon.shape == img.shape and bool(recon.isfinite().all())
        assert mh.metrics(img, recon, mask=mask)[1] > 15
    with pytest.raises(ValueError, match="reconstruct: 'rank' must be an int"):
        mh.reconstruct(masked, method="hardimpute")
    with pytest.raises(ValueError, match="'ridge' must be"):
        mh.reconstruct(masked, method="softimpute", ridge=-1.0)
    with pytest.raises(
        ValueError, match="'ridge' must be an option of method 'hardimpute'"
    ):
        mh.reconstruct(masked, method="hardimpute", rank=5, ridge=1.0)
    with pytest.raises(ValueError, match="'Z0' must be of the data's shape"):
        mh.reconstruct(masked, method="softimpute", Z0=torch.zeros(3, 4, 4))


def test_factorize_softimpute_returns_balanced_factors():
    X, g = _low_rank(20, 16, 2, 6)
    A = X.masked_fill(torch.rand(20, 16, generator=g) < 0.3, float("nan"))
    W, H, history = mh.factorize(A, 4, method="softimpute", ridge=0.5)
    assert W.shape == (20, 4) and H.shape == (4, 16)
    torch.testing.assert_close(
        W.T @ W, H @ H.T, atol=1e-4, rtol=1e-4
    )  # balanced
    nuclear = torch.linalg.svdvals(W @ H).sum()
    torch.testing.assert_close(
        W.pow(2).sum() + H.pow(2).sum(), 2 * nuclear, atol=1e-4, rtol=1e-4
    )
    assert len(history) >= 1


@pytest.fixture(scope="module")
def photo_channels():
    # a 320 x 320 photo, half its pixels missing, each channel centred: large enough for the
    # randomized SVD (min(m, n) > FULL_SVD_SIZE) at a small rank cap
    img = mh.load_image("china", size=320)
    masked, _ = mh.mask_image(img, 0.5, generator=0)
    return masked - torch.nanmean(masked.flatten(1), 1)[:, None, None]


def _full_svd_run(monkeypatch, A, **options):
    with monkeypatch.context() as mp:
        mp.setattr(si, "FULL_SVD_SIZE", 10**9)  # every SVD the full one
        return si.soft_impute(A, **options)


def test_randomized_svd_softimpute_agrees_with_the_full_svd(
    monkeypatch, photo_channels
):
    options = dict(ridge=2.0, rank=40, max_iters=40, tol=0)
    Z_full, S_full, h_full = _full_svd_run(
        monkeypatch, photo_channels, **options
    )
    Z, S, h = si.soft_impute(photo_channels, **options)
    assert (Z - Z_full).abs().max() < 5e-3
    assert (Z - Z_full).abs().mean() < 1e-4
    torch.testing.assert_close(h[-1], h_full[-1], rtol=1e-5, atol=0)


def test_randomized_svd_hardimpute_reaches_the_same_objective(
    monkeypatch, photo_channels
):
    # Hard-Impute's iterates depend on near-equal singular values (a non-convex problem), so
    # the two runs may differ at a few pixels; the objective they reach must agree
    options = dict(hard=True, rank=10, max_iters=30, tol=0)
    Z_full, _, h_full = _full_svd_run(monkeypatch, photo_channels, **options)
    Z, _, h = si.soft_impute(photo_channels, **options)
    torch.testing.assert_close(h[-1], h_full[-1], rtol=1e-3, atol=0)
    assert (Z - Z_full).abs().mean() < 5e-3


def test_top_svd_is_exact_on_a_low_rank_matrix_and_returns_its_basis():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(2, 300, 5, generator=g) @ torch.randn(
        2, 5, 280, generator=g
    )
    U, S, Vh, basis = si.top_svd(X, 5)
    assert basis is not None and basis.shape == (2, 280, 5 + si.OVERSAMPLE)
    torch.testing.assert_close((U * S[:, None, :]) @ Vh, X, atol=1e-3, rtol=0)
    U2, S2, Vh2, _ = si.top_svd(X, 5, start=basis)  # a warm start
    torch.testing.assert_close(S2, S, rtol=1e-5, atol=0)


def test_softimpute_never_touches_torch_global_random_state(photo_channels):
    # the randomized SVD draws from its own seeded generator: the result does not depend on
    # torch's global seed, and the global state is left as it was
    results = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        state = torch.get_rng_state()
        Z, _, _ = si.soft_impute(
            photo_channels, ridge=2.0, rank=20, max_iters=5
        )
        assert torch.equal(torch.get_rng_state(), state)
        results.append(Z)
    assert torch.equal(results[0], results[1])
