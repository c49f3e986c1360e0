"""SoftImpute and Hard-Impute: fill, take an SVD, shrink or cut the singular values, refill.

SoftImpute (Mazumder, Hastie and Tibshirani, 2010) minimises, for each matrix ``A[b]`` of a
batch (NaN = missing), the convex problem::

    1/2 * sum over observed (i, j) of (A_ij - Z_ij)^2  +  ridge * ||Z||_*

by repeating ``Z <- S_ridge(P_Omega(A) + P_Omega^perp(Z))``: fill the missing entries with the
current ``Z``, take the SVD, and soft-threshold its singular values (subtract ``ridge``, clip at
zero). ``ridge`` is the same lambda as ALS's ridge: ALS's objective is twice this one restricted
to rank at most ``k`` (``||Z||_* = min over W H = Z of (||W||^2 + ||H||^2) / 2``). Hard-Impute
keeps the top ``rank`` singular values unchanged instead (a non-convex rank constraint).

``rank`` caps the SVD; it is not part of SoftImpute's model, and with a cap below the solution's
rank the result is the capped problem's. When the cap is small against a large matrix the top
singular triplets come from a randomized SVD (Halko, Martinsson and Tropp, 2011) whose subspace is
carried from one step to the next (each step starts its power iterations from the previous step's
right singular vectors), so it is as accurate as the full SVD after a few steps and costs a small
fraction of it. Its random start is drawn from a generator seeded with ``SVD_SEED``: the method
is deterministic and never reads torch's global random state.
"""

from __future__ import annotations

import torch

from .als import center_offset

#: Matrices with ``min(m, n)`` at most this size always take the full SVD (it is fast there).
FULL_SVD_SIZE = 256
#: The randomized SVD's extra columns beyond the rank cap, and its power iterations per call.
OVERSAMPLE, POWER_ITERS = 20, 4
#: Seed of the randomized SVD's first random start.
SVD_SEED = 0


def soft_threshold(A, ridge, *, rank=None):
    """Singular-value soft-thresholding ``U (S - ridge)_+ V^T`` of each matrix of ``A`` (B, m, n).

    The proximal step of ``ridge * ||Z||_*``: the minimiser of ``1/2 ||Z - A||_F^2 +
    ridge * ||Z||_*``. ``rank`` keeps at most that many singular values (see :func:`top_svd`).
    Returns ``(Z, S)``: the result (batch, m, n) and its singular values (batch, q),
    thresholded, descending.

    >>> A = torch.diag(torch.tensor([3.0, 1.0, 0.5]))[None]
    >>> Z, S = soft_threshold(A, 0.75)
    >>> S[0].tolist(), torch.diagonal(Z[0]).tolist()
    ([2.25, 0.25, 0.0], [2.25, 0.25, 0.0])
    """
    U, S, Vh, _ = top_svd(A, rank)
    S = (S - ridge).clamp_min(0.0)  # (B, q)
    return (U * S[:, None, :]) @ Vh, S  # (B, m, q) (B, q) (B, q, n)


def top_svd(A, rank=None, *, start=None):
    """The top ``rank`` singular triplets of each matrix of ``A`` (B, m, n): ``U, S, Vh, basis``.

    The full SVD when ``rank`` is None or the matrix is small (``min(m, n) <= FULL_SVD_SIZE``)
    or the cap is not small against it; otherwise a randomized SVD: ``POWER_ITERS`` steps of
    subspace iteration on ``rank + OVERSAMPLE`` columns, from ``start`` (B, n, q) when given
    (the ``basis`` a previous call returned) and else from a Gaussian block drawn with a
    generator seeded with ``SVD_SEED``. ``basis`` (B, n, q) is the right subspace found (None
    for the full SVD): passing it back as ``start`` makes successive calls on slowly changing
    matrices converge like one long subspace iteration.

    >>> A = torch.outer(torch.arange(3.0), torch.arange(4.0))[None]  # rank 1
    >>> U, S, Vh, _ = top_svd(A, 1)
    >>> torch.allclose((U * S[:, None, :]) @ Vh, A, atol=1e-5)
    True
    """
    m, n = A.shape[-2:]
    q = None if rank is None else rank + OVERSAMPLE
    if q is None or min(m, n) <= FULL_SVD_SIZE or 2 * q > min(m, n):
        U, S, Vh = torch.linalg.svd(A, full_matrices=False)
        if rank is not None:
            U, S, Vh = U[..., :rank], S[..., :rank], Vh[..., :rank, :]
        return U, S, Vh, None
    if start is None or start.shape != (A.shape[0], n, q):
        g = torch.Generator(device=A.device).manual_seed(SVD_SEED)
        start = torch.randn(
            A.shape[0], n, q, generator=g, device=A.device, dtype=A.dtype
        )
    At = A.transpose(-1, -2)
    V = start
    for _ in range(POWER_ITERS):  # subspace iteration, orthonormalised
        Q = torch.linalg.qr(A @ V).Q  # (B, m, n) @ (B, n, q) -> (B, m, q)
        V = torch.linalg.qr(At @ Q).Q  # (B, n, m) @ (B, m, q) -> (B, n, q)
    Q = torch.linalg.qr(A @ V).Q  # (B, m, q): the left subspace
    Ub, S, Vh = torch.linalg.svd(
        Q.transpose(-1, -2) @ A, full_matrices=False
    )  # of the small (B, q, n) projection
    U = Q @ Ub  # (B, m, q) @ (B, q, q) -> (B, m, q)
    basis = Vh.transpose(-1, -2)  # (B, n, q)
    return U[..., :rank], S[..., :rank], Vh[..., :rank, :], basis


def objective(M, A0, Z, S, ridge):
    """SoftImpute's objective per matrix (batch,): ``1/2 * observed SSE + ridge * ||Z||_*``."""
    sse = ((Z - A0) * M).pow(2).flatten(1).sum(1)
    return 0.5 * sse + ridge * S.sum(-1)


def soft_impute(
    A, *, ridge=1.0, rank=None, max_iters=200, tol=1e-5, hard=False, Z0=None
):
    """SoftImpute (or Hard-Impute with ``hard=True``) on each matrix of ``A`` (batch, m, n).

    Parameters
    ----------
    A : torch.Tensor of shape (batch, m, n), NaN at missing entries
    ridge : float >= 0, lambda (SoftImpute; ignored by Hard-Impute)
    rank : int or None, at most this many singular values (required for Hard-Impute)
    max_iters : int, at most this many fill-SVD-threshold steps
    tol : float, stop when ``||Z_t - Z_{t-1}||_F^2 / ||Z_{t-1}||_F^2 < tol`` for every matrix
        (Mazumder et al.'s criterion)
    hard : bool, keep the top ``rank`` singular values unshrunk (Hard-Impute)
    Z0 : optional (batch, m, n) warm start (e.g. the solution at a larger ``ridge``); default 0

    Returns
    -------
    Z : (batch, m, n), S : (batch, q) its singular values, history : (n_iters, batch) objective
    (for Hard-Impute, the observed squared error / 2)

    >>> g = torch.Generator().manual_seed(0)
    >>> X = (torch.randn(30, 2, generator=g) @ torch.randn(2, 20, generator=g))[None]
    >>> A = X.masked_fill(torch.rand(1, 30, 20, generator=g) < 0.3, float("nan"))
    >>> Z = None
    >>> for lam in (1.0, 0.1, 0.01, 0.001):  # a path of lambdas, each started from the last
    ...     Z, S, _ = soft_impute(A, ridge=lam, Z0=Z, max_iters=500, tol=1e-10)
    >>> int((S > 1e-2).sum()), bool(torch.allclose(Z, X, atol=1e-2))
    (2, True)
    """
    M = (~torch.isnan(A)).to(A.dtype)  # (B, m, n), 1 = observed
    A0 = torch.nan_to_num(A, nan=0.0)
    Z = torch.zeros_like(A0) if Z0 is None else Z0.to(A0)
    history, basis = [], None
    for _ in range(max_iters):
        filled = A0 * M + Z * (1 - M)  # P_Omega(A) + P_Omega^perp(Z)
        U, S, Vh, basis = top_svd(filled, rank, start=basis)
        S = S if hard else (S - ridge).clamp_min(0.0)  # (B, q)
        Z_new = (U * S[:, None, :]) @ Vh  # (B, m, q) (B, q) (B, q, n)
        change = (Z_new - Z).pow(2).flatten(1).sum(1)
        size = Z.pow(2).flatten(1).sum(1).clamp_min(1e-30)
        Z = Z_new
        if hard:
            history.append(0.5 * ((Z - A0) * M).pow(2).flatten(1).sum(1))
        else:
            history.append(objective(M, A0, Z, S, ridge))
        if bool((change / size < tol).all()):
            break
    return Z, S, torch.stack(history)


def reconstruct_softimpute(
    masked, *, rank=None, generator=None, center="mean", hard=False, **options
):
    """``reconstruct``'s SoftImpute / Hard-Impute: ``Z + offset``, with the same centring as ALS.

    ``center``: ``"mean"`` (each channel's observed mean), ``"biases"`` or ``"none"``, as for
    ALS; ``generator`` is unused (the method is deterministic). ``options``: ``ridge``,
    ``max_iters``, ``tol``, ``Z0`` (of :func:`soft_impute`).

    >>> pixel = torch.tensor([0.8, 0.3, 0.6]).view(3, 1, 1)  # a fully observed 1 x 1 image
    >>> [round(v, 3) for v in reconstruct_softimpute(pixel).flatten().tolist()]
    [0.8, 0.3, 0.6]
    """
    offset = center_offset(masked, center, ridge=options.get("ridge", 1.0))
    Z, _, _ = soft_impute(masked - offset, rank=rank, hard=hard, **options)
    return Z + offset


def factorize_softimpute(A, k, *, generator=None, hard=False, **options):
    """``factorize``'s SoftImpute: balanced factors ``W = U sqrt(S)``, ``H = sqrt(S) V^T``.

    ``k`` caps the rank. At SoftImpute's solution these factors minimise ALS's objective with the
    same ``ridge`` among all factorizations of ``Z`` (``||W||^2 + ||H||^2 = 2 ||Z||_*``).
    Returns ``W`` (batch, m, k), ``H`` (batch, k, n) and the history (n_iters, batch).
    """
    Z, _, history = soft_impute(A, rank=k, hard=hard, **options)
    U, S, Vh, _ = top_svd(Z, k)  # Z has rank <= k: exact factors
    root = S.clamp_min(0).sqrt()  # (B, k)
    W, H = U * root[:, None, :], root[:, :, None] * Vh  # (B, m, k), (B, k, n)
    return W, H, history
