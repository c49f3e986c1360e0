"""Masked alternating least squares (ALS) with a ridge term, batched.

For each matrix ``A[b]`` (NaN = missing) minimise::

    sum over observed (i, j) of (A_ij - w_i . h_j)^2  +  ridge * (||W||^2 + ||H||^2)

With H fixed, each row ``w_i`` solves its own k x k normal equations

    (sum_{j observed in row i} h_j h_j^T + ridge * I) w_i = sum_{j observed in row i} A_ij h_j

and symmetrically for the columns of H. All rows of all matrices are solved at once: the Gram
matrices come from one matmul per matrix (the mask times the products h_p h_q), then one batched
Cholesky solve. The start is the top-k SVD of the matrix with its missing entries filled by
coarse-to-fine averages of their observed neighbours (an image is smooth, so this is a good guess
and ALS needs only a few sweeps from it). Sweeps stop when the objective's relative change
between two sweeps falls below ``tol`` for every matrix (default 0.01; at least two sweeps).

``reconstruct(..., method="als")`` (:func:`reconstruct_als`) centres each matrix first: it
subtracts ``mu``, the mean of the matrix's observed entries, from the observed entries, runs the
start and the sweeps above on the centred matrix, and returns ``W @ H + mu``. The ridge term pulls
the factors, hence ``W @ H``, towards zero, so a row or column with few observed entries is pulled
towards the mean colour instead of towards black: with one observed pixel, or 99 % missing, the
result is (close to) the mean fill, and a fully observed constant image comes back as itself.
Nothing else differs from :func:`factorize_als` (same start, ridge, solves and stopping rule).
``center="biases"`` also removes row and column biases first (:func:`biases`), and
``center="none"`` fits the plain, uncentred rank-k model.

Defaults, for ports of this algorithm: ``ridge=1.0``, ``init="svd"`` (SVD of the pyramid-filled
centred matrix, ``H = sqrt(S_k) * Vh_k``), W solved first, then H, each by Cholesky; stop after
sweep ``s >= 2`` when ``|J_{s-1} - J_s| <= 0.01 * |J_s|`` for every matrix, or after 50 sweeps.
Memory: the Gram matrices of a chunk of rows (about 4 MB) and the products ``h_p h_q`` of a chunk
of columns (at most about 32 MB) at a time, so the peak does not grow with ``n * k^2``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F_

from .gd import init_factors

# Gram matrices per chunk of rows: ~4 MB, or up to ~128 MB when the products of pairs of rows
# of F are recomputed for each chunk (large k), so that their cost stays small
_CHUNK_FLOATS = 2**20
_LARGE_CHUNK_FLOATS = 2**25
# products h_p h_q per chunk of columns: at most ~32 MB, whatever n and k
_COLUMN_FLOATS = 2**23


def products(F):
    """The products ``f_p * f_q`` (p <= q) of pairs of rows of ``F`` (batch, k, n): (batch, n, T).

    ``T = k (k + 1) / 2``, in the order of ``torch.triu_indices(k, k)``.
    """
    iu, ju = torch.triu_indices(F.shape[1], F.shape[1], device=F.device)
    return (F[:, iu, :] * F[:, ju, :]).transpose(
        1, 2
    )  # (B, T, n) -> (B, n, T)


def row_grams(M, F, KR=None):
    """Per-row Gram matrices ``G[b, i] = sum_j M[b, i, j] f_j f_j^T``.

    Parameters
    ----------
    M : (batch, m, n) float, 1 = observed
    F : (batch, k, n), the fixed factor, columns f_j
    KR : optional (batch, n, T), ``products(F)`` when already computed (reused across chunks)

    Returns
    -------
    G : (batch, m, k, k), symmetric

    >>> M = torch.tensor([[[1., 0., 1.]]]); F = torch.arange(6.).view(1, 2, 3)
    >>> row_grams(M, F)[0, 0].tolist()  # f_0 f_0^T + f_2 f_2^T with f_0 = (0, 3), f_2 = (2, 5)
    [[4.0, 10.0], [10.0, 34.0]]
    """
    B, k, n = F.shape
    iu, ju = torch.triu_indices(k, k, device=F.device)
    if KR is not None:
        Gt = (
            M @ KR
        )  # (B, m, n) @ (B, n, T) -> (B, m, T): one matmul per matrix
    else:  # T = k (k + 1) / 2 products h_p h_q, a chunk of columns at a time
        step = max(1, _COLUMN_FLOATS // (B * iu.numel()))
        Gt = 0
        for s in range(0, n, step):
            KR = products(F[:, :, s : s + step])  # (B, c, T)
            Gt = Gt + M[:, :, s : s + step] @ KR  # (B, m, c) @ (B, c, T)
    G = torch.empty(B, M.shape[1], k, k, dtype=F.dtype, device=F.device)
    G[:, :, iu, ju] = Gt
    G[:, :, ju, iu] = Gt
    return G


def solve_rows(M, A0, F, ridge):
    """Solve every row's ridge normal equations at once: returns X of shape (batch, m, k).

    ``M`` (batch, m, n) observed indicator (float), ``A0`` (batch, m, n) with 0 at missing entries,
    ``F`` (batch, k, n) the fixed factor.
    """
    B, m, n = M.shape
    k = F.shape[1]
    rhs = A0 @ F.transpose(1, 2)  # (B, m, n) @ (B, n, k) -> (B, m, k)
    T = k * (k + 1) // 2
    KR = products(F) if B * n * T <= _COLUMN_FLOATS else None  # reused
    eye = torch.eye(k, dtype=F.dtype, device=F.device)
    size = _CHUNK_FLOATS if KR is not None else _LARGE_CHUNK_FLOATS
    chunk = max(8, size // (B * k * k))  # rows per chunk
    out = torch.empty(B, m, k, dtype=F.dtype, device=F.device)
    for s in range(0, m, chunk):  # chunks bound memory; each is batched
        G = row_grams(M[:, s : s + chunk], F, KR) + ridge * eye  # (B, c, k, k)
        L, _ = torch.linalg.cholesky_ex(
            G
        )  # ridge > 0: positive definite; no error check, no sync
        out[:, s : s + chunk] = torch.cholesky_solve(
            rhs[:, s : s + chunk].unsqueeze(-1), L
        ).squeeze(-1)
    return out


def objective(M, A0, W, H, ridge):
    """Per-matrix ALS objective (batch,): squared observed residual + ridge penalty."""
    R = (W @ H - A0) * M  # (B, m, n)
    return R.pow(2).flatten(1).sum(1) + ridge * (
        W.pow(2).flatten(1).sum(1) + H.pow(2).flatten(1).sum(1)
    )


def pyramid_fill(A0, M):
    """Fill the missing entries of each matrix with coarse-to-fine averages of the observed ones.

    ``A0`` (batch, m, n) with anything at missing entries, ``M`` (batch, m, n), 1 = observed.
    Observed entries are kept; a missing entry gets the mean of the observed entries in the
    smallest 2^l x 2^l block around it that has one (bilinearly blended between levels).

    >>> A0 = torch.tensor([[[1., 0., 3.]]]); M = torch.tensor([[[1., 0., 1.]]])
    >>> pyramid_fill(A0, M).tolist()
    [[[1.0, 2.0, 3.0]]]
    """
    num, den = A0 * M, M.expand_as(A0)
    levels = []
    while min(num.shape[-2:]) > 1:
        levels.append((num, den))
        num = F_.avg_pool2d(num[None], 2, ceil_mode=True)[
            0
        ]  # (B, ceil(m/2), ceil(n/2))
        den = F_.avg_pool2d(den[None], 2, ceil_mode=True)[0]
    mean = num.flatten(1).sum(1) / den.flatten(1).sum(1).clamp_min(
        1e-12
    )  # (B,)
    est = torch.where(den > 0, num / den.clamp_min(1e-12), mean[:, None, None])
    for num, den in reversed(levels):
        up = F_.interpolate(
            est[None],
            size=num.shape[-2:],
            mode="bilinear",
            align_corners=False,
        )[0]
        est = torch.where(den > 0, num / den.clamp_min(1e-12), up)
    return torch.where(M.bool(), A0, est)


def svd_init(A0, M, k):
    """Warm start: H (batch, k, n) from the top-k SVD of the matrix filled by ``pyramid_fill``."""
    _, S, Vh = torch.linalg.svd(
        pyramid_fill(A0, M), full_matrices=False
    )  # (B, r), (B, r, n)
    return S[:, :k, None].sqrt() * Vh[:, :k]  # (B, k, n)


def factorize_als(
    A,
    k,
    *,
    generator=None,
    ridge=1.0,
    max_sweeps=50,
    tol=1e-2,
    init="svd",
    init_scale=1.0,
    H0=None,
):
    """Factorize each matrix of ``A`` (batch, m, n), NaN = missing, by masked ALS.

    Parameters
    ----------
    A : torch.Tensor of shape (batch, m, n), NaN at missing entries
    k : int, the rank
    generator : torch.Generator, used by ``init="random"``
    ridge : float > 0, the ridge term (keeps every system positive definite, even for a row with no
        observed entry, and shrinks the noise directions)
    max_sweeps : int, at most this many (W, H) sweeps
    tol : float, stop when the objective's relative change is below ``tol`` for every matrix
    init : ``"svd"`` (top-k SVD of the matrix filled by :func:`pyramid_fill`) or ``"random"``
        (N(0, init_scale^2))
    H0 : optional (batch, k, n) warm start (overrides ``init``)

    Returns
    -------
    W : (batch, m, k), H : (batch, k, n), history : (n_sweeps, batch) objective after each sweep
    """
    B, m, n = A.shape
    M = (~torch.isnan(A)).to(A.dtype)  # (B, m, n), 1 = observed
    A0 = torch.nan_to_num(A, nan=0.0)
    if H0 is not None:
        H = H0.to(A)
    elif init == "svd":
        H = svd_init(A0, M, k)
    else:
        _, H = init_factors(
            B, m, n, k, generator=generator, scale=init_scale, device=A.device
        )
        H = H.to(A.dtype)
    Mt, A0t = M.transpose(1, 2), A0.transpose(1, 2)
    history = []
    for _ in range(max_sweeps):
        W = solve_rows(M, A0, H, ridge)  # (B, m, k)
        H = solve_rows(Mt, A0t, W.transpose(1, 2), ridge).transpose(
            1, 2
        )  # (B, k, n)
        history.append(objective(M, A0, W, H, ridge))
        if len(history) > 1:
            prev, now = history[-2], history[-1]
            if bool(((prev - now).abs() <= tol * now.abs()).all()):
                break
    return W, H, torch.stack(history)


def observed_mean(A):
    """The mean of each matrix's observed (non-NaN) entries: (batch,) from ``A`` (batch, m, n).

    A matrix with no observed entry gets 0.

    >>> observed_mean(torch.tensor([[[1.0, float("nan")], [3.0, 5.0]]])).tolist()
    [3.0]
    """
    M = ~torch.isnan(A)  # (B, m, n)
    total = torch.where(M, A, 0.0).flatten(1).sum(1)  # (B,)
    return total / M.flatten(1).sum(1).clamp_min(1)


def biases(A, *, ridge=1.0, sweeps=10):
    """Fit ``mu + b_i + c_j`` to the observed entries of each matrix of ``A`` (batch, m, n).

    ``mu`` is the observed mean; the row biases ``b`` and column biases ``c`` minimise
    ``sum_observed (A_ij - mu - b_i - c_j)^2 + ridge * (||b||^2 + ||c||^2)`` by alternating exact
    updates (each a mean shrunk by ``ridge``): ``b_i = sum_j (A_ij - mu - c_j) / (n_i + ridge)``
    over the observed ``j`` of row ``i``, then the same for ``c_j``.

    Returns
    -------
    offset : (batch, m, n), ``mu + b_i + c_j`` at every entry (rank at most 2 per matrix)

    >>> A = torch.tensor([[[1.0, 2.0], [3.0, float("nan")]]])  # 1 + row + column, one missing
    >>> biases(A, ridge=1e-9, sweeps=50)[0, 1, 1].round(decimals=3).item()
    4.0
    """
    M = (~torch.isnan(A)).to(A.dtype)  # (B, m, n), 1 = observed
    A0 = torch.nan_to_num(A, nan=0.0)
    mu = observed_mean(A)[:, None, None]  # (B, 1, 1)
    n_rows = M.sum(2, keepdim=True)  # (B, m, 1) observed entries per row
    n_cols = M.sum(1, keepdim=True)  # (B, 1, n) per column
    b = torch.zeros_like(n_rows)
    c = torch.zeros_like(n_cols)
    for _ in range(sweeps):
        b = ((A0 - mu - c) * M).sum(2, keepdim=True) / (n_rows + ridge)
        c = ((A0 - mu - b) * M).sum(1, keepdim=True) / (n_cols + ridge)
    return mu + b + c  # (B, m, 1) + (B, 1, n) -> (B, m, n)


#: What ``reconstruct(method="als")`` subtracts before the factorization (``center=``).
CENTERS = ("mean", "biases", "none")


def center_offset(masked, center="mean", *, ridge=1.0):
    """The offset that ``center`` subtracts before a factorization and adds back after it.

    ``"mean"``: each matrix's observed mean, (batch, 1, 1); ``"biases"``: the mean plus row and
    column biases (:func:`biases`, shrunk by ``ridge``), (batch, m, n); ``"none"``: 0.

    >>> A = torch.tensor([[[1.0, float("nan")], [3.0, 5.0]]])
    >>> center_offset(A).flatten().tolist(), center_offset(A, "none").item()
    ([3.0], 0.0)
    """
    if center == "none":
        return torch.zeros((), dtype=masked.dtype, device=masked.device)
    if center == "biases":
        return biases(masked, ridge=ridge)
    return observed_mean(masked)[:, None, None]  # (B, 1, 1)


def reconstruct_als(masked, *, rank, generator=None, center="mean", **options):
    """Centred ALS: ``W @ H + offset``, ``W, H`` from :func:`factorize_als` of ``masked - offset``.

    Parameters
    ----------
    masked : torch.Tensor of shape (batch, m, n), NaN at missing entries (an RGB image: batch 3)
    rank : int, the rank of ``W @ H``
    generator : torch.Generator, used by ``init="random"``
    center : ``"mean"`` (default: ``offset`` is each matrix's observed mean, so the result has
        rank at most ``rank + 1``), ``"biases"`` (the mean plus row and column biases, see
        :func:`biases`, rank at most ``rank + 2``) or ``"none"`` (``offset = 0``: the plain
        rank-``rank`` model of :func:`factorize_als`)
    **options : passed to :func:`factorize_als`

    Returns
    -------
    recon : (batch, m, n)

    Examples
    --------
    >>> pixel = torch.tensor([0.8, 0.3, 0.6]).view(3, 1, 1)  # a fully observed 1 x 1 image
    >>> reconstruct_als(pixel, rank=1).flatten().tolist()
    [0.800000011920929, 0.30000001192092896, 0.6000000238418579]
    """
    offset = center_offset(masked, center, ridge=options.get("ridge", 1.0))
    W, H, _ = factorize_als(
        masked - offset, rank, generator=generator, **options
    )
    return W @ H + offset  # (B, m, k) @ (B, k, n) -> (B, m, n)
