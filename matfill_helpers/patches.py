"""Beyond one low-rank matrix: clustered low-rank models of the image's own patches.

A natural image repeats itself: its small overlapping patches (6 x 6 RGB pixels = 108 numbers)
fall into a few kinds (flat, edge at some angle, texture), and the patches of one kind lie close to
a low-dimensional subspace. ``reconstruct_patches`` fills the missing pixels with that structure:

1. **Smooth start** (:func:`smooth_fill`): the biharmonic fill (minimise the squared Laplacian over
   the missing pixels, observed ones fixed), solved by conjugate gradient.
2. **Repeat** ``iters`` times, each pass on patches at stride ``stride`` shifted by a new offset:
   cut the current estimate into overlapping patches (rows = patch positions, columns = the
   ``3 * patch**2`` pixel values); group similar patches by k-means; fit each group a mean and a
   rank-``rank`` principal subspace (a Gaussian model); refit every patch's ``rank`` coefficients to
   its **observed** pixels only, a ridge problem per row as in ALS, with the prior ``noise / lambda``
   on each principal direction; put the predicted patches back (averaging overlaps) and keep the
   observed pixels.
3. The last ``stride**2`` passes (one per offset) are averaged: every stride-1 patch position is used.

This is a piecewise-linear estimator of patches (Yu, Sapiro and Mallat 2012) with the k-means groups
of the current estimate as its pieces. Everything is torch: it runs on the input's device, with no
data-dependent host synchronisation inside the loops but one per pass (the group sizes).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validation import _fail, check_int, check_positive
from .als import pyramid_fill
from .factorization import register_method

_LAPLACE = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
_CHUNK = (
    16384  # patches solved at once: at most ~160 MB of rank-50 Gram matrices
)


def _laplacian(u):
    """Graph Laplacian of each channel of ``u`` (C, H, W), with mirror (Neumann) borders; symmetric."""
    k = _LAPLACE.to(u)[None, None]  # (1, 1, 3, 3)
    return F.conv2d(F.pad(u[:, None], (1, 1, 1, 1), mode="replicate"), k)[:, 0]


def smooth_fill(masked_img, *, iters=50):
    """Biharmonic inpainting: the smoothest fill of the NaN pixels, by conjugate gradient.

    Minimises ``||Laplacian(u)||^2`` over the missing pixels with the observed ones fixed
    (the classical method of scikit-image's ``inpaint_biharmonic``; Damelin and Hoang 2018), with a
    fixed number of conjugate-gradient steps from a coarse-to-fine average fill
    (:func:`~matfill_helpers.als.pyramid_fill`).

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, H, W), float in [0, 1], NaN at missing pixels
    iters : int >= 0, conjugate-gradient steps

    Returns
    -------
    filled : torch.Tensor of shape (3, H, W), observed pixels unchanged, on the input's device

    Examples
    --------
    >>> ramp = torch.linspace(0, 1, 20).expand(3, 16, 20).clone()  # linear: biharmonic is exact
    >>> masked = ramp.clone(); masked[:, 4:12, 5:15] = float("nan")
    >>> bool((smooth_fill(masked, iters=200) - ramp).abs().max() < 1e-3)
    True
    """
    iters = check_int(iters, func="smooth_fill", name="iters", low=0)
    missing = torch.isnan(masked_img).any(0, keepdim=True)  # (1, H, W)
    u0 = torch.nan_to_num(masked_img.float(), nan=0.0)
    x = pyramid_fill(u0, (~missing).to(u0.dtype))  # (3, H, W), a cheap start
    m = missing.to(u0.dtype)

    def A(
        v,
    ):  # the energy's Hessian restricted to the missing pixels (symmetric, PSD)
        return m * _laplacian(_laplacian(m * v))

    r = -m * _laplacian(
        _laplacian(x)
    )  # (3, H, W) residual of the normal equations
    p = r.clone()
    rs = (r * r).sum((1, 2), keepdim=True)
    for _ in range(iters):  # a fixed number of steps: no host synchronisation
        Ap = A(p)
        alpha = rs / (p * Ap).sum((1, 2), keepdim=True).clamp_min(1e-30)
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = (r * r).sum((1, 2), keepdim=True)
        p = r + (rs_new / rs.clamp_min(1e-30)) * p
        rs = rs_new
    return x


def _unfold(z, patch, stride, oy, ox):
    """Patches (N, C * patch**2) of ``z`` (C, H, W) cropped at (oy, ox), padded to fit the stride."""
    sub = z[:, oy:, ox:]
    ph, pw = (
        (-(sub.shape[1] - patch)) % stride,
        (-(sub.shape[2] - patch)) % stride,
    )
    sub = F.pad(sub[None], (0, pw, 0, ph), mode="replicate")
    return F.unfold(sub, patch, stride=stride)[0].T, sub.shape[
        -2:
    ]  # (C p^2, N) -> (N, C p^2)


def kmeans(X, k, *, generator, iters=10, sample=8192, centers=None):
    """Group the rows of ``X`` (N, d) into ``k`` clusters: labels (N,) and centres (k, d).

    Lloyd's iterations on a random subset of ``sample`` rows (all rows if fewer), then every row is
    assigned to its nearest centre. ``centers`` (k, d) warm-starts the centres.

    >>> X = torch.cat([torch.zeros(5, 2), torch.ones(5, 2)])
    >>> labels, _ = kmeans(X, 2, generator=torch.Generator().manual_seed(0))
    >>> len(set(labels[:5].tolist())), len(set(labels[5:].tolist())), bool(labels[0] != labels[5])
    (1, 1, True)
    """
    n = X.shape[0]
    S = (
        X[torch.randperm(n, generator=generator)[:sample].to(X.device)]
        if n > sample
        else X
    )
    if centers is None:
        centers = S[
            torch.randperm(S.shape[0], generator=generator)[:k].to(X.device)
        ]
        centers = torch.cat(
            [centers, centers[:1].expand(k - centers.shape[0], -1)]
        )  # k > rows
    for _ in range(iters):
        d2 = (
            (S * S).sum(1, keepdim=True)
            - 2 * S @ centers.T
            + (centers * centers).sum(1)
        )  # (n_s, k)
        lab = d2.argmin(1)
        sums = torch.zeros_like(centers).index_add_(0, lab, S)
        count = torch.bincount(lab, minlength=k).to(X.dtype)[:, None]
        centers = torch.where(count > 0, sums / count.clamp_min(1), centers)
    labels = ((centers * centers).sum(1) - 2 * X @ centers.T).argmin(1)  # (N,)
    return labels, centers


def fit_patch_rows(Y, M, P, *, rank, noise, channels=3):
    """Refit patches to their observed pixels under one Gaussian model fitted to ``P``.

    The model: mean ``mu`` and the top-``rank`` principal directions ``V`` (variances ``lambda``)
    of the current patches ``P``. Each row ``i`` gets the coefficients ``z`` minimising
    ``||M_i * (Y_i - mu - V diag(sqrt(lambda)) z)||^2 + noise * ||z||^2`` (ridge normal equations
    solved by batched Cholesky, the Gram matrices by one matmul as in ALS).

    Parameters
    ----------
    Y : (N, C * p2), observed patch values (anything at missing pixels)
    M : (N, p2), 1 = observed pixel (the same for every channel)
    P : (N, C * p2), the current estimate of these patches (fits the model)
    rank : int, noise : float > 0

    Returns
    -------
    (N, C * p2), the predicted patches
    """
    N, d = P.shape
    p2 = d // channels
    mu = P.mean(0)  # (d,)
    Pc = P - mu
    lam, V = torch.linalg.eigh(Pc.T @ Pc / N)  # ascending, (d,), (d, d)
    r = min(rank, d)
    Vs = (
        V[:, -r:] * lam[-r:].clamp_min(0).sqrt()
    )  # (d, r): whitened directions
    Vq = Vs.view(channels, p2, r).permute(
        1, 0, 2
    )  # (p2, C, r): one pixel's rows
    outer = (Vq.transpose(1, 2) @ Vq).reshape(
        p2, r * r
    )  # (p2, r*r): sum over channels of v v^T
    eye = noise * torch.eye(r, dtype=P.dtype, device=P.device)
    Mfull = M.repeat(1, channels)  # (N, d)
    out = torch.empty_like(P)
    for s in range(0, N, _CHUNK):  # chunks bound memory; each is fully batched
        G = (M[s : s + _CHUNK] @ outer).view(
            -1, r, r
        ) + eye  # (c, p2) @ (p2, r*r) -> (c, r, r)
        rhs = (
            (Y[s : s + _CHUNK] - mu) * Mfull[s : s + _CHUNK]
        ) @ Vs  # (c, d) @ (d, r) -> (c, r)
        L, _ = torch.linalg.cholesky_ex(
            G
        )  # no error check: no host synchronisation
        z = torch.cholesky_solve(rhs.unsqueeze(-1), L).squeeze(-1)  # (c, r)
        out[s : s + _CHUNK] = z @ Vs.T + mu
    return out


def _check(
    masked_img, rank, patch, stride, clusters, iters, noise, smooth_iters
):
    func = "reconstruct"
    patch = check_int(patch, func=func, name="patch", low=2)
    stride = check_int(stride, func=func, name="stride", low=1, high=patch)
    clusters = check_int(clusters, func=func, name="clusters", low=1)
    iters = check_int(iters, func=func, name="iters", low=1)
    smooth_iters = check_int(
        smooth_iters, func=func, name="smooth_iters", low=0
    )
    noise = check_positive(noise, func=func, name="noise")
    d = 3 * patch * patch
    rank = check_int(rank, func=func, name="rank", low=1, high=d)
    _, H, W = masked_img.shape
    if min(H, W) < patch:
        _fail(
            func,
            "masked_img",
            f"at least {patch} x {patch} pixels for method 'patches' with "
            f"patch={patch}",
            f"shape {tuple(masked_img.shape)}",
            "Pass a smaller 'patch'.",
        )
    return rank, patch, stride, clusters, iters, noise, smooth_iters


def reconstruct_patches(
    masked_img,
    *,
    rank,
    generator,
    patch=6,
    stride=2,
    clusters=32,
    iters=6,
    noise=3e-4,
    smooth_iters=50,
):
    """Fill a masked (3, H, W) image with clustered low-rank patch models (see the module docstring).

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, H, W), float32 in [0, 1], NaN at missing pixels
    rank : int in [1, 3 * patch**2], the rank of each group's patch model
    generator : torch.Generator (k-means starts and subsets)
    patch : int >= 2, the patch side (default 6: 108 values per RGB patch)
    stride : int in [1, patch], the step between patches of one pass; passes cycle through the
        ``stride**2`` offsets and the last ``stride**2`` of them are averaged
    clusters : int >= 1, the number of k-means groups
    iters : int >= 1, passes
    noise : float > 0, the ridge weight: the variance assumed for an observed pixel around its model
    smooth_iters : int >= 0, conjugate-gradient steps of the biharmonic start

    Returns
    -------
    recon : torch.Tensor of shape (3, H, W) on the input's device, observed pixels unchanged

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image, metrics, reconstruct
    >>> img = load_image("flower", size=48)
    >>> masked, mask = mask_image(img, 0.5, generator=0)
    >>> recon = reconstruct(masked, rank=20, method="patches", generator=0, clusters=4, iters=2)
    >>> recon.shape, bool(torch.equal(recon[:, ~mask], img[:, ~mask]))
    (torch.Size([3, 48, 48]), True)
    """
    rank, patch, stride, clusters, iters, noise, smooth_iters = _check(
        masked_img, rank, patch, stride, clusters, iters, noise, smooth_iters
    )
    C, H, W = masked_img.shape
    p2 = patch * patch
    missing = torch.isnan(masked_img).any(0, keepdim=True)  # (1, H, W)
    observed = (~missing).to(torch.float32)
    u0 = torch.nan_to_num(masked_img.float(), nan=0.0)  # (3, H, W)
    x = smooth_fill(masked_img, iters=smooth_iters)
    offsets = [(a, b) for a in range(stride) for b in range(stride)]
    num, den = (
        torch.zeros_like(u0),
        torch.zeros_like(observed),
    )  # averages of the last passes
    centers = None
    for t in range(iters):
        oy, ox = offsets[t % len(offsets)]
        P, size = _unfold(
            x, patch, stride, oy, ox
        )  # (N, 3 p2) current patches
        Y, _ = _unfold(u0, patch, stride, oy, ox)
        M, _ = _unfold(observed, patch, stride, oy, ox)  # (N, p2)
        flat = P.view(-1, C, p2)
        features = (flat - flat.mean(2, keepdim=True)).flatten(
            1
        )  # the shape of a patch, not its colour
        labels, centers = kmeans(
            features,
            clusters,
            generator=generator,
            iters=10 if centers is None else 3,
            centers=centers,
        )
        order = torch.argsort(labels)
        counts = torch.bincount(
            labels, minlength=clusters
        ).tolist()  # one host sync per pass
        pred = torch.empty_like(P)
        start = 0
        for n in counts:
            if n:
                idx = order[start : start + n]
                pred[idx] = fit_patch_rows(
                    Y[idx], M[idx], P[idx], rank=rank, noise=noise, channels=C
                )
            start += n
        sums = F.fold(pred.T[None], size, patch, stride=stride)[
            0, :, : H - oy, : W - ox
        ]  # (3, H-oy, W-ox)
        cover = F.fold(torch.ones_like(M).T[None], size, patch, stride=stride)[
            0, :, : H - oy, : W - ox
        ]
        est = x.clone()
        est[:, oy:, ox:] = sums / cover
        x = torch.where(missing, est, u0)
        if t >= iters - len(offsets):
            num[:, oy:, ox:] += sums
            den[:, oy:, ox:] += cover
    out = torch.where(den > 0, num / den.clamp_min(1e-12), x)
    return torch.where(missing, out, u0)


register_method(
    "patches",
    reconstruct_patches,
    options=("patch", "stride", "clusters", "iters", "noise", "smooth_iters"),
)
