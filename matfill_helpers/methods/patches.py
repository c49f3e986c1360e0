"""Beyond one low-rank matrix: clustered low-rank models of the image's own patches.

A natural image repeats itself: its small overlapping patches (6 x 6 RGB pixels = 108 numbers)
fall into a few kinds (flat, edge at some angle, texture), and the patches of one kind lie close
to a low-dimensional subspace. ``reconstruct_patches`` fills the missing pixels with that
structure:

1. **Smooth start** (:func:`smooth_fill`): the biharmonic fill (minimise the squared Laplacian
   over the missing pixels, observed ones fixed), solved by conjugate gradient. With at most
   1024 observed pixels it is blended with the mean fill, the blend chosen by cross-validation
   (:func:`shrink_to_mean`): a smooth interpolant of a few scattered pixels can overshoot.
   Otherwise ``dct_iters`` steps of the sparse DCT fill (:func:`~.sparse.dct_fill`) start from
   it: edges and textures that a smooth fill blurs come back where the observed pixels support
   them (on a photo of more than 2 megapixels one block grid per step instead of two, see
   :func:`default_dct_shifts`).
2. **Repeat** ``iters`` times, each pass on patches at stride ``stride`` shifted by a new offset
   (the passes before the last ``stride**2`` at ``warm_stride``: on a photo of more than 2
   megapixels twice the stride, see :func:`default_warm_stride`):

   a. *Models.* Cut (a random sample of at most ``sample``) patches of the current estimate;
      group them by k-means on their shapes (a patch minus its mean colour) into ``clusters``
      groups (default 32, up to 96 on large images); fit each group a mean and a rank-``rank``
      principal subspace (a Gaussian model), without the directions whose variance is below
      ``noise`` (the refit would shrink them by more than half).
   b. *Refit.* Give every patch of the image its group's model and refit its ``rank``
      coefficients to its pixels by weighted ridge regression (one small system per patch, as in
      ALS): an observed pixel has weight 1, a missing pixel the weight ``weight`` on the current
      estimate (0 at low missing proportions: observed pixels only), and the prior ``noise /
      lambda`` shrinks each principal direction.
   c. Put the predicted patches back (averaging overlaps) and keep the observed pixels.

3. The last ``stride**2`` passes (one per offset) are averaged: every stride-1 patch position is
   used.

This is a piecewise-linear estimator of patches (Yu, Sapiro and Mallat 2012) with the k-means
groups of the current estimate as its pieces. When most pixels are missing, a 6 x 6 patch holds
one or two observed pixels, too few to place it in its subspace; the small weight on the current
estimate then keeps what the smooth start knows from farther away (the default rises from 0 at
70 % missing to ``0.03`` at 90 % and above), and the refit only adds the detail the models can
support.

Memory and time are bounded on large images: models are fitted on at most ``sample`` patches per
pass, and the refit runs over bands of patch rows, each band's systems solved in cache-sized
chunks. On the CPU the smooth start uses the caller's threads (``torch.get_num_threads()``);
then torch runs with one thread and as many Python threads refit bands side by side.
Everything is torch: it runs on the input's device.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import torch
import torch.nn.functional as F

from .._validation import (
    _describe,
    _fail,
    check_image,
    check_int,
    check_positive,
)
from ..threads import num_threads, one_thread
from .als import pyramid_fill
from .registry import register_method
from .sparse import dct_fill

# at most this many observed pixels: shrink the smooth start (see shrink_to_mean)
_FEW_OBSERVED = 1024
# Gram matrices solved at once: ~2 MB, so a chunk stays in the CPU's cache
_SOLVE_FLOATS = 2**19
# patches refitted per band: bounds memory on any image size
_BAND_PATCHES = 65536


def _laplacian(u):
    """Graph Laplacian of each channel of ``u`` (C, m, n), mirror (Neumann) borders; symmetric."""
    p = F.pad(u[None], (1, 1, 1, 1), mode="replicate")[0]  # (C, H + 2, W + 2)
    # in place after the first sum: a large photo then needs few temporaries
    out = p[:, :-2, 1:-1] + p[:, 2:, 1:-1]
    out += p[:, 1:-1, :-2]
    out += p[:, 1:-1, 2:]
    return out.sub_(u, alpha=4)


def smooth_fill(masked_img, *, iters=50, clamp=True):
    """Biharmonic inpainting: the smoothest fill of the NaN pixels, by conjugate gradient.

    Minimises ``||Laplacian(u)||^2`` over the missing pixels with the observed ones fixed
    (the classical method of scikit-image's ``inpaint_biharmonic``; Damelin and Hoang 2018), with a
    fixed number of conjugate-gradient steps from a coarse-to-fine average fill
    (:func:`~matfill_helpers.methods.als.pyramid_fill`). The fill is clamped to [0, 1] (a
    smooth interpolant can overshoot between pixels), so it is an image like
    :func:`~matfill_helpers.reconstruct`'s; ``clamp=False`` returns the fill itself, the start
    of :func:`reconstruct_patches`.

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels (the
        same pixels in every channel), at least one pixel observed; never modified
    iters : int >= 0, conjugate-gradient steps
    clamp : bool, clamp the fill to [0, 1] (default True)

    Returns
    -------
    filled : torch.Tensor of shape (3, m, n) in [0, 1] (with ``clamp=False``: slightly beyond
        where the fill overshoots), observed pixels unchanged, on the input's device; float64
        for a float64 input, else float32 (float16 and bfloat16 are computed in float32)

    Examples
    --------
    >>> ramp = torch.linspace(0, 1, 20).expand(3, 16, 20).clone()  # linear: biharmonic is exact
    >>> masked = ramp.clone(); masked[:, 4:12, 5:15] = float("nan")
    >>> bool((smooth_fill(masked, iters=200) - ramp).abs().max() < 1e-3)
    True
    """
    func = "smooth_fill"
    masked_img = check_image(
        masked_img, func=func, name="masked_img", allow_nan=True
    )
    iters = check_int(iters, func=func, name="iters", low=0)
    if bool(torch.isnan(masked_img).all()):
        _fail(
            func,
            "masked_img",
            "an image with at least one observed pixel",
            "every pixel NaN",
        )
    if not isinstance(clamp, bool):
        _fail(func, "clamp", "a bool", _describe(clamp), exc=TypeError)
    dtype = torch.float64 if masked_img.dtype == torch.float64 else None
    filled = _smooth_fill(masked_img, iters=iters, dtype=dtype)
    return filled.clamp_(0.0, 1.0) if clamp else filled


def _smooth_fill(masked_img, *, iters=50, dtype=None):
    """:func:`smooth_fill` without its checks and its clamp, in float32 (or ``dtype``):
    the start of :func:`reconstruct_patches`."""
    missing = torch.isnan(masked_img).any(0, keepdim=True)  # (1, m, n)
    u0 = torch.nan_to_num(masked_img.to(dtype or torch.float32), nan=0.0)
    x = pyramid_fill(u0, (~missing).to(u0.dtype))  # (3, m, n), a cheap start
    m = missing.to(u0.dtype)
    # one channel at a time (the channels are independent): on a large photo the arrays of one
    # channel are reused by the allocator, those of three would be fresh memory at every step
    return torch.cat(
        [_biharmonic_cg(x[c : c + 1], m, iters) for c in range(len(x))]
    )


def _biharmonic_cg(x, m, iters):
    """``iters`` conjugate-gradient steps on ``||Laplacian(u)||^2`` from ``x`` (1, m, n), moving
    only the pixels where ``m`` (1, m, n) is 1."""

    def A(v):  # the energy's Hessian on the missing pixels (symmetric, PSD)
        return _laplacian(_laplacian(m * v)).mul_(m)

    def dot(a, b):
        return torch.dot(a.view(-1), b.view(-1))

    x = x.clone()
    r = _laplacian(_laplacian(x)).mul_(m).neg_()  # (1, m, n), the residual
    p = r.clone()
    rs = dot(r, r)
    for _ in range(iters):  # a fixed number of steps: no host synchronisation
        Ap = A(p)
        alpha = rs / dot(p, Ap).clamp_min(1e-30)
        x.addcmul_(p, alpha)  # in place: x += alpha p
        r.addcmul_(Ap, alpha, value=-1)
        rs_new = dot(r, r)
        p.mul_(rs_new / rs.clamp_min(1e-30)).add_(r)
        rs = rs_new
    return x


def shrink_to_mean(masked_img, filled, *, generator, iters=50, folds=10):
    """Blend ``filled`` (a smooth fill) with the mean fill, the blend chosen by cross-validation.

    With very few observed pixels a smooth interpolant overshoots between them and can do worse
    than filling every missing pixel with its channel's observed mean. Hold out each of ``folds``
    random parts of the observed pixels in turn, smooth-fill from the rest, and find the ``alpha``
    in [0, 1] for which ``mean + alpha * (smooth - mean)`` predicts the held-out pixels best
    (least squares); return ``mean + alpha * (filled - mean)``, observed pixels unchanged.

    Parameters
    ----------
    masked_img : (3, m, n), NaN at missing pixels; filled : (3, m, n), its smooth fill
    generator : torch.Generator (the folds); iters : smooth-fill steps; folds : int >= 2

    Returns
    -------
    (3, m, n) and ``alpha`` (float; 0 with fewer than two observed pixels)

    >>> masked = torch.full((3, 4, 4), float("nan")); masked[:, 0, 0] = 0.5
    >>> out, alpha = shrink_to_mean(masked, smooth_fill(masked), generator=torch.Generator())
    >>> alpha, bool((out == 0.5).all())
    (0.0, True)
    """
    missing = torch.isnan(masked_img).any(0)  # (m, n)
    obs = (~missing).flatten().nonzero().flatten()  # (n_obs,) observed pixels
    mean = torch.nanmean(masked_img.flatten(1), 1)[:, None, None]  # (3, 1, 1)
    alpha = 0.0
    if obs.numel() >= 2:
        order = obs[
            torch.randperm(obs.numel(), generator=generator).to(obs.device)
        ]
        num = den = 0.0
        for held in order.tensor_split(min(folds, obs.numel())):
            part = masked_img.flatten(1).clone()
            part[:, held] = float("nan")  # (3, m*n): the fold held out
            part = part.view_as(masked_img)
            mu = torch.nanmean(part.flatten(1), 1)  # (3,)
            a = (
                _smooth_fill(part, iters=iters).flatten(1)[:, held]
                - mu[:, None]
            )
            b = masked_img.flatten(1)[:, held] - mu[:, None]  # the truth there
            num, den = num + (a * b).sum().item(), den + (a * a).sum().item()
        alpha = min(1.0, max(0.0, num / den)) if den > 0 else 0.0
    out = mean + alpha * (filled - mean)
    return torch.where(missing, out, filled), alpha


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
    labels = nearest(X, centers)
    return labels, centers


def nearest(X, centers, allowed=None):
    """The index of the nearest of ``centers`` (k, d) for each row of ``X`` (N, d): (N,).

    ``allowed`` (k,) bool, optional: only these centres are candidates.
    """
    d2 = (centers * centers).sum(1) - 2 * X @ centers.T  # (N, k), up to |x|^2
    if allowed is not None:
        d2 = d2.masked_fill(~allowed, torch.inf)
    return d2.argmin(1)


def patch_model(P, rank, *, channels=3, min_variance=0.0):
    """A Gaussian model of patches ``P`` (N, C * p2): mean and top-``rank`` principal directions.

    Directions whose variance is not above ``min_variance`` are dropped (at least one is kept):
    with ``min_variance = noise`` these are the directions the refit's prior shrinks by more
    than half, which add almost nothing and cost the most time on flat groups.

    Returns ``(mu, Vs, outer)``: ``mu`` (d,) the mean patch, ``Vs`` (d, r) the directions scaled
    by the square roots of their variances ``lambda`` (``r <= min(rank, d)``), and ``outer``
    (p2, r * r), for each pixel the sum over channels of the outer products of its rows of ``Vs``
    (so that the Gram matrix of a patch is its pixel weights times ``outer``).

    >>> mu, Vs, outer = patch_model(torch.rand(50, 12), 3)  # 2 x 2 RGB patches
    >>> mu.shape, Vs.shape, outer.shape
    (torch.Size([12]), torch.Size([12, 3]), torch.Size([4, 9]))
    """
    N, d = P.shape
    p2 = d // channels
    mu = P.mean(0)  # (d,)
    Pc = (
        P - mu
    ).double()  # float64: a flat group has many equal (zero) variances
    cov = Pc.T @ Pc / N + 1e-12 * torch.eye(d, dtype=Pc.dtype, device=P.device)
    lam, V = torch.linalg.eigh(cov)  # ascending, (d,), (d, d)
    r = min(rank, d)
    r = max(1, int((lam[-r:] > min_variance).sum()))  # drop flat directions
    Vs = (V[:, -r:] * lam[-r:].clamp_min(0).sqrt()).to(P.dtype)  # (d, r)
    Vq = Vs.view(channels, p2, r).permute(
        1, 0, 2
    )  # (p2, C, r): a pixel's rows
    outer = (Vq.transpose(1, 2) @ Vq).reshape(p2, r * r)  # (p2, r * r)
    return mu, Vs, outer


def refit_rows(Y, M, model, *, noise):
    """Refit each patch to its weighted pixels under one Gaussian model (see :func:`patch_model`).

    Row ``i`` gets the coefficients ``z`` minimising
    ``sum_p M_ip ||Y_ip - mu_p - (Vs z)_p||^2 + noise * ||z||^2`` (a pixel ``p`` with its
    channels; ``M`` = 1 for an observed pixel, 0 for one to ignore, or a weight in between): ridge
    normal equations solved by batched Cholesky, the Gram matrices by one matmul as in ALS.

    Parameters
    ----------
    Y : (N, C * p2), the patch values (anything where ``M`` is 0)
    M : (N, p2), the weight of each pixel (the same for every channel)
    model : ``(mu, Vs, outer)`` from :func:`patch_model`
    noise : float > 0

    Returns
    -------
    (N, C * p2), the predicted patches ``mu + Vs z``
    """
    mu, Vs, outer = model
    N, d = Y.shape
    p2, r = M.shape[1], Vs.shape[1]
    channels = d // p2
    eye = noise * torch.eye(r, dtype=Y.dtype, device=Y.device)
    out = torch.empty_like(Y)
    chunk = max(64, _SOLVE_FLOATS // (r * r))  # cache-sized chunks
    for s in range(0, N, chunk):
        Mc = M[s : s + chunk]  # (c, p2)
        G = (Mc @ outer).view(
            -1, r, r
        ) + eye  # (c, p2) @ (p2, r*r) -> (c, r, r)
        Yc = (Y[s : s + chunk] - mu).view(-1, channels, p2) * Mc[:, None]
        rhs = Yc.view(-1, d) @ Vs  # (c, d) @ (d, r) -> (c, r)
        L, _ = torch.linalg.cholesky_ex(G)  # no error check: no host sync
        z = torch.cholesky_solve(rhs.unsqueeze(-1), L).squeeze(-1)  # (c, r)
        out[s : s + chunk] = z @ Vs.T + mu
    return out


def fit_patch_rows(Y, M, P, *, rank, noise, channels=3):
    """Refit patches to their observed pixels under one Gaussian model fitted to ``P``.

    The model: mean ``mu`` and the top-``rank`` principal directions ``V`` (variances ``lambda``)
    of the current patches ``P`` (:func:`patch_model`). Each row ``i`` gets the coefficients ``z``
    minimising ``||M_i * (Y_i - mu - V diag(sqrt(lambda)) z)||^2 + noise * ||z||^2``
    (:func:`refit_rows`).

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
    model = patch_model(P, rank, channels=channels)
    return refit_rows(Y, M, model, noise=noise)


def default_weight(missing):
    """The default weight of the current estimate at a missing pixel, from the missing fraction.

    0 up to 70 % missing (observed pixels only), rising linearly to 0.03 at 90 % and above.

    >>> [round(default_weight(q), 3) for q in (0.5, 0.8, 0.95)]
    [0.0, 0.015, 0.03]
    """
    return 0.03 * min(1.0, max(0.0, (missing - 0.7) / 0.2))


def default_clusters(n_patches):
    """The default number of groups: 32, up to 96 on large images (about 2048 patches each).

    A large photo holds more kinds of patches, and enough of each to fit more models.

    >>> default_clusters(63 * 63), default_clusters(511 * 511), default_clusters(10**6)
    (32, 96, 96)
    """
    return min(96, max(32, n_patches // 2048))


#: images with more pixels than this get coarser passes before the averaged ones
LARGE_IMAGE = 2**21


def default_warm_stride(n_pixels, stride, patch):
    """The default stride of the passes before the averaged ones: ``stride``, or on an image of
    more than ``LARGE_IMAGE`` pixels (2 megapixels) twice that (at most ``patch``).

    Those passes only improve the estimate the later models are fitted on; at twice the stride
    they refit a quarter of the patches. They exist only when ``iters`` exceeds ``stride**2``:
    the default 4 passes at stride 2 are all averaged, so the default never uses this.

    >>> default_warm_stride(1024 * 1024, 2, 6), default_warm_stride(2000 * 3000, 2, 6)
    (2, 4)
    """
    return min(patch, 2 * stride) if n_pixels > LARGE_IMAGE else stride


def default_dct_shifts(n_pixels):
    """Block grids averaged in each step of the DCT start: 2, or 1 on an image of more than
    ``LARGE_IMAGE`` pixels (2 megapixels).

    The second grid only smooths the blocks' seams in the start; the patch passes that follow
    smooth them anyway. On the 2000 x 3000 photo mosaic of ``make bench --scale`` at 50 %
    missing (rank 50, 2 threads, fresh process) one grid takes the whole method from 40 s to
    35 s, and it ends at 32.29 dB on the missing pixels against 32.28 dB with two. The book's
    images keep two.

    >>> default_dct_shifts(1024 * 1024), default_dct_shifts(2000 * 3000)
    (2, 1)
    """
    return 1 if n_pixels > LARGE_IMAGE else 2


def _check(
    masked_img, rank, patch, stride, clusters, iters, noise, smooth_iters
):
    func = "reconstruct"
    _, H, W = masked_img.shape
    patch = (
        min(6, H, W)
        if patch is None
        else check_int(patch, func=func, name="patch", low=2)
    )
    stride = check_int(
        stride, func=func, name="stride", low=1, high=max(patch, 1)
    )
    if clusters is not None:
        clusters = check_int(clusters, func=func, name="clusters", low=1)
    if iters is not None:
        iters = check_int(iters, func=func, name="iters", low=1)
    smooth_iters = check_int(
        smooth_iters, func=func, name="smooth_iters", low=0
    )
    noise = check_positive(noise, func=func, name="noise")
    d = 3 * patch * patch
    rank = check_int(rank, func=func, name="rank", low=1, high=max(d, 1))
    if min(H, W) < patch:
        _fail(
            func,
            "masked_img",
            f"at least {patch} x {patch} pixels for method 'patches' with "
            f"patch={patch}",
            f"shape {tuple(masked_img.shape)}",
            "Pass a smaller 'patch', or leave it out.",
        )
    return rank, patch, stride, clusters, iters, noise, smooth_iters


def _grid(z, patch, stride, oy, ox):
    """``z`` (C, m, n) cropped at (oy, ox) and padded so that patches at ``stride`` tile it."""
    sub = z[:, oy:, ox:]
    ph = (-(sub.shape[1] - patch)) % stride
    pw = (-(sub.shape[2] - patch)) % stride
    return F.pad(sub[None], (0, pw, 0, ph), mode="replicate")[0]


def _gather(z, idx, nx, patch, stride):
    """The patches (S, C * patch**2) of ``z`` (C, m, n) at grid positions ``idx`` (S,)."""
    d = torch.arange(patch, device=z.device)
    iy = (idx // nx * stride)[:, None, None] + d[None, :, None]  # (S, p, 1)
    ix = (idx % nx * stride)[:, None, None] + d[None, None, :]  # (S, 1, p)
    return z[:, iy, ix].permute(1, 0, 2, 3).flatten(1)  # (S, C p p)


def _shape(P, channels):
    """k-means features: each patch minus its mean colour (its shape, not its colour)."""
    flat = P.view(P.shape[0], channels, -1)
    return (flat - flat.mean(2, keepdim=True)).flatten(1)


def _start(masked_img, iters, generator, dct_iters=0):
    """Step 1: the smooth fill, shrunk towards the mean fill when few pixels are observed, then
    ``dct_iters`` steps of the sparse DCT fill from it (:func:`~.sparse.dct_fill`, with
    :func:`default_dct_shifts` block grids)."""
    x = _smooth_fill(masked_img, iters=iters)
    n_observed = int((~torch.isnan(masked_img).any(0)).sum())
    if n_observed <= _FEW_OBSERVED:  # then a smooth fill may lose to the mean
        x, _ = shrink_to_mean(masked_img, x, generator=generator, iters=iters)
    elif dct_iters:
        m, n = masked_img.shape[1:]
        x = dct_fill(
            masked_img,
            start=x,
            iters=dct_iters,
            shifts=default_dct_shifts(m * n),
            generator=generator,
        )
    return x


def _refit_band(band, *, z, w, groups, patch, stride, noise):
    """Refit every patch of rows ``band = (a, b)`` of ``z`` (C, m, n) with its group's model.

    ``w`` (1, m, n) the pixel weights, ``groups = (centers, live, models)``. Returns the folded
    predictions (C, b - a, W) and how many patches cover each pixel (1, b - a, W).
    """
    a, b = band
    z, w = z[:, a:b], w[:, a:b]
    centers, live, models = groups
    C = z.shape[0]
    P = F.unfold(z[None], patch, stride=stride)[0].T  # (n, C p2)
    M = F.unfold(w[None], patch, stride=stride)[0].T  # (n, p2)
    labels = nearest(_shape(P, C), centers, live)  # (n,) each patch's group
    order = torch.argsort(labels)
    Ps, Ms = P[order], M[order]  # grouped: each group is one slice
    pred = torch.empty_like(Ps)
    start = 0
    for c, n in enumerate(
        torch.bincount(labels, minlength=len(live)).tolist()
    ):
        if n:
            pred[start : start + n] = refit_rows(
                Ps[start : start + n],
                Ms[start : start + n],
                models[c],
                noise=noise,
            )
        start += n
    P[order] = pred  # back in patch order
    size = tuple(z.shape[1:])
    sums = F.fold(P.T[None], size, patch, stride=stride)[0]  # (C, h, W)
    cover = F.fold(torch.ones_like(M).T[None], size, patch, stride=stride)[0]
    return sums, cover


def _map(fn, items, workers):
    """``map(fn, items)`` in order, by ``workers`` Python threads when more than one.

    Each worker runs torch with one thread (torch's thread setting belongs to each thread): the
    small operations of a band then never wait for one another.
    """
    if workers == 1 or len(items) == 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(
        workers, initializer=torch.set_num_threads, initargs=(1,)
    ) as pool:
        yield from pool.map(fn, items)


def reconstruct_patches(
    masked_img,
    *,
    rank,
    generator,
    patch=None,
    stride=2,
    clusters=None,
    iters=4,
    noise=3e-4,
    smooth_iters=50,
    dct_iters=60,
    weight=None,
    sample=65536,
    warm_stride=None,
):
    """Fill a masked (3, m, n) image with clustered low-rank patch models (see the module doc).

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, m, n), float32 in [0, 1], NaN at missing pixels
    rank : int in [1, 3 * patch**2], the rank of each group's patch model
    generator : torch.Generator (k-means starts and subsets, the model samples)
    patch : int >= 2, the patch side (default 6, or the image's smaller side if that is less; an
        image 1 pixel high or wide gets the smooth fill alone)
    stride : int in [1, patch], the step between patches of one pass; passes cycle through the
        ``stride**2`` offsets and the last ``stride**2`` of them are averaged
    clusters : int >= 1 or None, the number of k-means groups (None: :func:`default_clusters`)
    iters : int >= 1, passes
    noise : float > 0, the ridge weight: the variance assumed for a pixel around its model
    smooth_iters : int >= 0, conjugate-gradient steps of the biharmonic start
    dct_iters : int >= 0, steps of the sparse DCT fill from the biharmonic start (0: none; it is
        skipped when at most 1024 pixels are observed)
    weight : float in [0, 1] or None, the weight of the current estimate at a missing pixel in
        each refit (None: :func:`default_weight` of the missing fraction)
    sample : int >= 1, the most patches the models of one pass are fitted on
    warm_stride : int in [1, patch] or None, the stride of the passes before the averaged ones
        (None: :func:`default_warm_stride`; larger is faster and slightly less exact)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n) on the input's device, observed pixels unchanged

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image, metrics, reconstruct
    >>> img = load_image("flower", size=48)
    >>> masked, mask = mask_image(img, 0.5, generator=0)
    >>> recon = reconstruct(masked, rank=20, method="patches", generator=0, clusters=4, iters=2)
    >>> recon.shape, bool(torch.equal(recon[:, ~mask], img[:, ~mask]))
    (torch.Size([3, 48, 48]), True)
    """
    workers = torch.get_num_threads() if masked_img.device.type == "cpu" else 1
    # small operations: one torch thread, and Python workers for the bands
    with one_thread():
        return _fill(
            masked_img.float(),  # float32 throughout (float64 gains nothing)
            rank=rank,
            generator=generator,
            patch=patch,
            stride=stride,
            clusters=clusters,
            iters=iters,
            noise=noise,
            smooth_iters=smooth_iters,
            dct_iters=dct_iters,
            weight=weight,
            sample=sample,
            warm_stride=warm_stride,
            workers=workers,
        )


def _fill(
    masked_img,
    *,
    rank,
    generator,
    patch,
    stride,
    clusters,
    iters,
    noise,
    smooth_iters,
    dct_iters,
    weight,
    sample,
    warm_stride,
    workers,
):
    """The body of :func:`reconstruct_patches` (whose signature holds the defaults);
    ``workers`` Python threads refit the bands."""
    C, H, W = masked_img.shape
    if min(H, W) < 2 and patch is None:  # no 2-D patch fits
        smooth_iters = check_int(
            smooth_iters, func="reconstruct", name="smooth_iters", low=0
        )
        return _start(masked_img, smooth_iters, generator)  # the start alone
    rank, patch, stride, clusters, iters, noise, smooth_iters = _check(
        masked_img, rank, patch, stride, clusters, iters, noise, smooth_iters
    )
    sample = check_int(sample, func="reconstruct", name="sample", low=1)
    dct_iters = check_int(
        dct_iters, func="reconstruct", name="dct_iters", low=0
    )
    if warm_stride is None:
        warm_stride = default_warm_stride(H * W, stride, patch)
    warm_stride = check_int(
        warm_stride, func="reconstruct", name="warm_stride", low=1, high=patch
    )
    if clusters is None:
        clusters = default_clusters(
            ((H - patch) // stride + 1) * ((W - patch) // stride + 1)
        )
    missing = torch.isnan(masked_img).any(0, keepdim=True)  # (1, m, n)
    if weight is None:
        weight = default_weight(missing.float().mean().item())
    weight = check_positive(
        weight, func="reconstruct", name="weight", allow_zero=True
    )
    if weight > 1:
        _fail("reconstruct", "weight", "a number in [0, 1]", repr(weight))
    u0 = torch.nan_to_num(masked_img.float(), nan=0.0)  # (3, m, n)
    pixel_w = torch.where(missing, weight, 1.0).float()  # (1, m, n)
    with num_threads(workers):  # large arrays: torch's threads help here
        x = _start(masked_img, smooth_iters, generator, dct_iters)
    offsets = [(a, b) for a in range(stride) for b in range(stride)]
    warm_offsets = [
        (a, b) for a in range(warm_stride) for b in range(warm_stride)
    ]
    num = torch.zeros_like(u0)  # sums of the last stride**2 passes
    den = torch.zeros_like(pixel_w)
    centers = None
    for t in range(iters):
        averaged = t >= iters - len(offsets)
        step = stride if averaged else warm_stride
        shifts = offsets if averaged else warm_offsets
        oy, ox = shifts[t % len(shifts)]
        z, w = (
            _grid(x, patch, step, oy, ox),
            _grid(pixel_w, patch, step, oy, ox),
        )
        ny = (z.shape[1] - patch) // step + 1
        nx = (z.shape[2] - patch) // step + 1
        # a. models, from a random sample of this pass's patches
        idx = torch.randperm(ny * nx, generator=generator)[:sample].to(
            z.device
        )
        P = _gather(z, idx, nx, patch, step)  # (S, 3 p2)
        labels, centers = kmeans(
            _shape(P, C),
            clusters,
            generator=generator,
            iters=10 if centers is None else 3,
            centers=centers,
        )
        counts = torch.bincount(labels, minlength=clusters).tolist()
        models = {
            c: patch_model(
                P[labels == c], rank, channels=C, min_variance=noise
            )
            for c in range(clusters)
            if counts[c] > 0
        }
        live = torch.tensor(
            [counts[c] > 0 for c in range(clusters)], device=z.device
        )
        # b. refit every patch, a band of patch rows at a time
        sums, cover = torch.zeros_like(z), torch.zeros_like(w)
        rows = max(1, _BAND_PATCHES // nx)
        bands = [
            (r0 * step, (min(r0 + rows, ny) - 1) * step + patch)
            for r0 in range(0, ny, rows)
        ]

        refit = partial(
            _refit_band,
            z=z,
            w=w,
            groups=(centers, live, models),
            patch=patch,
            stride=step,
            noise=noise,
        )
        for (a, b), (s_, c_) in zip(bands, _map(refit, bands, workers)):
            sums[:, a:b] += s_
            cover[:, a:b] += c_
        # c. put the patches back, keep the observed pixels
        sums, cover = sums[:, : H - oy, : W - ox], cover[:, : H - oy, : W - ox]
        est = x.clone()
        est[:, oy:, ox:] = sums / cover
        x = torch.where(missing, est, u0)
        if averaged:
            num[:, oy:, ox:] += sums
            den[:, oy:, ox:] += cover
    out = torch.where(den > 0, num / den.clamp_min(1e-12), x)
    return torch.where(missing, out, u0)


register_method(
    "patches",
    reconstruct_patches,
    options=(
        "patch",
        "stride",
        "clusters",
        "iters",
        "noise",
        "smooth_iters",
        "dct_iters",
        "weight",
        "sample",
        "warm_stride",
    ),
)
