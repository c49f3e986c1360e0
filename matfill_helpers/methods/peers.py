"""The field's inpainting methods, with the book's inputs and outputs, on the same masks.

- ``biharmonic``: scikit-image's biharmonic inpainting (Damelin and Hoang 2018);
- ``telea``, ``navier_stokes``: OpenCV's fast-marching (Telea 2004) and Navier-Stokes
  (Bertalmio, Bertozzi and Sapiro 2001) inpainting, on 8-bit images;
- ``fsr``: OpenCV-contrib's frequency-selective reconstruction (Seiler et al. 2015, Genser et
  al. 2018), on 8-bit images;
- ``tv``: total-variation inpainting (Shen and Chan 2002) by the primal-dual algorithm of
  Chambolle and Pock (2011), in torch;
- ``halrtc``: low-rank tensor completion (Liu, Musialski, Wonka and Ye 2013) by ADMM, in torch.

Each takes a (3, m, n) masked image (NaN at missing pixels) and returns a (3, m, n) float32
image in [0, 1], finite, on the input's device, with the observed pixels kept exactly. Each is
registered under its name, so ``mh.reconstruct(masked, method="fsr")`` works (no rank, no
randomness: ``rank`` and ``generator`` are ignored). OpenCV and scikit-image are imported when
a method runs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import (
    _fail,
    check_choice,
    check_image,
    check_int,
    check_positive,
)
from .als import pyramid_fill
from .registry import register_method

_OPENCV = "pip install opencv-contrib-python-headless"


def _check(masked, func):
    """The checked masked image and its (m, n) bool mask of missing pixels."""
    masked = check_image(masked, func=func, name="masked", allow_nan=True)
    missing = torch.isnan(masked).any(0)  # (m, n)
    if bool(missing.all()):
        _fail(
            func,
            "masked",
            "an image with at least one observed pixel",
            "every pixel NaN",
        )
    return masked, missing


def _finish(out, masked, missing):
    """``out`` as float32 in [0, 1] on the input's device, observed pixels copied back."""
    out = out.to(masked.device, torch.float32).clamp_(0.0, 1.0)  # ours
    return torch.where(missing, out, masked.to(torch.float32))


def _cv2(func, *, contrib=False):
    try:
        import cv2
    except ImportError as err:
        raise ImportError(
            f"{func}: needs OpenCV, which is not installed. Install it with `{_OPENCV}`."
        ) from err
    if contrib and not hasattr(cv2, "xphoto"):
        raise ImportError(
            f"{func}: needs OpenCV's contrib module xphoto, which this OpenCV lacks. "
            f"Install `{_OPENCV}` in place of opencv-python."
        )
    return cv2


def _to_u8(masked):
    """(m, n, 3) uint8 RGB: round(255 x), 0 at missing pixels."""
    x = torch.nan_to_num(masked.detach().float(), nan=0.0).cpu()
    x = (x * 255).round().clamp(0, 255).to(torch.uint8)
    return x.permute(1, 2, 0).contiguous().numpy()


def _from_u8(arr):
    """(m, n, 3) uint8 RGB -> (3, m, n) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1) / 255


def biharmonic(masked):
    """scikit-image's ``inpaint_biharmonic`` (``channel_axis=-1``) on a (3, m, n) masked image.

    Each missing pixel solves the biharmonic equation with the observed pixels as boundary
    values (Damelin and Hoang 2018); runs on the CPU with NumPy in float64.

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device; observed
        pixels kept exactly

    Examples
    --------
    >>> masked = torch.full((3, 4, 4), 0.5); masked[:, 1, 2] = float("nan")
    >>> round(biharmonic(masked)[0, 1, 2].item(), 3)
    0.5
    """
    masked, missing = _check(masked, "biharmonic")
    try:
        from skimage.restoration import inpaint_biharmonic
    except ImportError as err:
        raise ImportError(
            "biharmonic: needs scikit-image, which is not installed. "
            "Install it with `pip install scikit-image`."
        ) from err
    hwc = torch.nan_to_num(masked.double(), nan=0.0).permute(1, 2, 0).cpu()
    out = inpaint_biharmonic(
        hwc.numpy(), missing.cpu().numpy(), channel_axis=-1
    )  # (m, n, 3)
    return _finish(torch.from_numpy(out).permute(2, 0, 1), masked, missing)


def _opencv_inpaint(masked, radius, func, flag_name):
    masked, missing = _check(masked, func)
    radius = check_int(radius, func=func, name="radius", low=1)
    cv2 = _cv2(func)
    holes = missing.cpu().numpy().astype(np.uint8)  # nonzero = MISSING
    out = cv2.inpaint(_to_u8(masked), holes, radius, getattr(cv2, flag_name))
    return _finish(_from_u8(out), masked, missing)


def telea(masked, *, radius=3):
    """OpenCV's fast-marching inpainting (Telea 2004): ``cv2.inpaint(..., cv2.INPAINT_TELEA)``.

    Pixels are filled from the boundary of each hole inwards, each from a weighted average of
    the known pixels within ``radius``. OpenCV takes a 3-channel image only in 8 bits: the image
    goes in as ``round(255 x)``, which costs 0.00 to 0.04 dB (0.015 on average) of PSNR on the
    missing pixels, measured against OpenCV's float32 path (one channel at a time) on
    scikit-image's astronaut, 256 x 256, 50 to 90 % missing, two masks each. OpenCV's mask
    marks the pixels to fill (nonzero = missing). OpenCV's Telea does not fill a constant image
    exactly with its constant under a random mask: its fill strays by up to 3/255 (by 1.5/255
    through its float32 path; measured on 24 x 32, half the pixels missing).

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    radius : int >= 1, the neighbourhood radius in pixels (OpenCV's ``inpaintRadius``)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device, multiples
        of 1/255 at missing pixels; observed pixels kept exactly

    Examples
    --------
    >>> masked = torch.full((3, 8, 8), 0.4); masked[:, 3:5, 3:5] = float("nan")
    >>> recon = telea(masked)
    >>> round(recon[0, 4, 4].item(), 4), bool(recon[:, 0, 0].eq(0.4).all())
    (0.4, True)
    """
    return _opencv_inpaint(masked, radius, "telea", "INPAINT_TELEA")


def navier_stokes(masked, *, radius=3):
    """OpenCV's Navier-Stokes inpainting (Bertalmio, Bertozzi and Sapiro 2001).

    ``cv2.inpaint(..., cv2.INPAINT_NS)``: the image's smoothness is transported into each hole
    along the level lines. As :func:`telea`, the image goes in as ``round(255 x)`` in 8 bits
    (0.00 to 0.03 dB of PSNR, 0.01 on average, measured as there) and OpenCV's mask is nonzero
    at missing pixels.

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    radius : int >= 1, the neighbourhood radius in pixels (OpenCV's ``inpaintRadius``)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device, multiples
        of 1/255 at missing pixels; observed pixels kept exactly

    Examples
    --------
    >>> masked = torch.full((3, 8, 8), 0.4); masked[:, 3:5, 3:5] = float("nan")
    >>> round(navier_stokes(masked)[0, 4, 4].item(), 4)
    0.4
    """
    return _opencv_inpaint(masked, radius, "navier_stokes", "INPAINT_NS")


#: FSR works on blocks of this many pixels a side; the image is padded to a multiple of it.
_FSR_BLOCK = 16


def fsr(masked, *, quality="fast"):
    """OpenCV-contrib's frequency-selective reconstruction: ``cv2.xphoto.inpaint``.

    Each block is extrapolated as a sparse sum of Fourier basis functions fitted to its known
    and already filled pixels, blocks with the most known neighbours first (Seiler et al. 2015;
    Genser et al. 2018), in YCrCb. OpenCV's conventions are the reverse of
    :func:`telea`'s: its mask is nonzero at VALID pixels, the image is BGR, and the result is
    written into a ``dst`` of the source's type and size (a copy of the source). FSR computes
    in 8 bits whatever the input: it converts a float image in [0, 1] to 8 bits itself, and the
    Python binding then leaves ``dst`` unchanged; so the image goes in as ``round(255 x)``. The
    image is padded (mirrored, mask too) to a multiple of 16 pixels a side, since OpenCV leaves
    the pixels of a partial border block unfilled.

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
    quality : ``"fast"`` (``INPAINT_FSR_FAST``: 8 to 9 s for 256 x 256, 50 to 90 % missing, on
        one core) or ``"best"`` (``INPAINT_FSR_BEST``, about 30 times slower: 28 s for 64 x 64)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device, multiples
        of 1/255 at missing pixels; observed pixels kept exactly (OpenCV's own result moves them
        by up to 1/255, through YCrCb)

    Examples
    --------
    >>> masked = torch.full((3, 16, 16), 0.4); masked[:, 5:9, 5:9] = float("nan")
    >>> round(fsr(masked)[0, 6, 6].item(), 4)
    0.4
    """
    masked, missing = _check(masked, "fsr")
    check_choice(quality, {"fast", "best"}, func="fsr", name="quality")
    cv2 = _cv2("fsr", contrib=True)
    flag = {
        "fast": cv2.xphoto.INPAINT_FSR_FAST,
        "best": cv2.xphoto.INPAINT_FSR_BEST,
    }[quality]
    m, n = missing.shape
    pad = ((0, -m % _FSR_BLOCK), (0, -n % _FSR_BLOCK))
    bgr = np.pad(_to_u8(masked)[..., ::-1], pad + ((0, 0),), "symmetric")
    valid = (~missing).cpu().numpy().astype(np.uint8) * 255  # nonzero = VALID
    valid = np.pad(valid, pad, "symmetric")
    dst = bgr.copy()  # FSR writes its result into dst
    cv2.xphoto.inpaint(bgr, valid, dst, flag)
    return _finish(_from_u8(dst[:m, :n, ::-1]), masked, missing)


# ---- total variation, by Chambolle and Pock's primal-dual algorithm ---------------------------

#: Primal and dual steps: tau * sigma * 8 = 0.99 < 1 (8 bounds ||grad||^2 for forward
#: differences). A small tau (a large sigma) converged fastest on photos at 50 to 90 % missing.
_TV_TAU = 0.05
_TV_SIGMA = 0.99 / (8 * _TV_TAU)
_TV_CHECK_EVERY = 10


def _grad(u):
    """Forward differences (dx, dy) of ``u`` (C, m, n), 0 in the last column / row."""
    dx = torch.diff(u, dim=2, append=u[:, :, -1:])  # (C, m, n)
    dy = torch.diff(u, dim=1, append=u[:, -1:, :])
    return dx, dy


def _ascend(px, py, ubar, sigma):
    """``p += sigma grad(ubar)`` in place (one temporary at a time); ``px``'s last column and
    ``py``'s last row stay 0."""
    px[:, :, :-1].add_(ubar[:, :, 1:] - ubar[:, :, :-1], alpha=sigma)
    py[:, :-1].add_(ubar[:, 1:] - ubar[:, :-1], alpha=sigma)


def _div(px, py):
    """The divergence, minus the adjoint of :func:`_grad`, with no temporary.

    >>> u, px, py = torch.rand(3, 3, 5, 4, generator=torch.Generator().manual_seed(0))
    >>> px[:, :, -1] = 0; py[:, -1] = 0
    >>> dx, dy = _grad(u)
    >>> abs(float((dx * px + dy * py).sum() + (u * _div(px, py)).sum())) < 1e-5
    True
    """
    d = px.clone()
    d[:, :, 1:].sub_(px[:, :, :-1])
    d.add_(py)
    d[:, 1:].sub_(py[:, :-1])
    return d


def _total_variation(u):
    """The colour (channel-coupled) isotropic total variation of ``u`` (C, m, n), a float.

    ``sum over pixels of sqrt(sum over channels of dx**2 + dy**2)``, forward differences.

    >>> u = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]]).expand(3, 2, 2)
    >>> round(_total_variation(u), 4)  # 2 pixels, each sqrt(3 * 1**2)
    3.4641
    """
    dx, dy = _grad(u.double())
    return float((dx.square() + dy.square()).sum(0).sqrt().sum())


def tv(masked, *, iters=1000, tol=1e-5):
    """Total-variation inpainting: the fill of least colour total variation.

    Solves ``min_u sum_pixels sqrt(sum_c |grad u_c|^2)  subject to  u = f on the observed
    pixels`` (Shen and Chan 2002; the channels share one gradient magnitude, so edges line up
    across colours), with forward differences, by the primal-dual algorithm of Chambolle and
    Pock (2011): a dual ascent step on ``p`` (projected onto the unit ball, pixel by pixel), a
    primal descent step on ``u`` along the divergence of ``p`` at the missing pixels only (the
    projection onto the constraint), then the extrapolation ``2 u_new - u``; steps
    ``tau = 0.05``, ``sigma = 0.99 / (8 tau)``. It starts from the coarse-to-fine average fill
    (:func:`~matfill_helpers.methods.als.pyramid_fill`). The model has no parameter: ``iters``
    and ``tol`` only say when to stop. Memory: about seven copies of the image at the peak
    (450 MB for 2000 x 3000; 41 s there at 80 % missing on two cores; 0.1 to 0.4 s for
    256 x 256 on one).

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels; computed
        in float64 if it is float64, else in float32, on its device
    iters : int >= 1, the most iterations
    tol : float >= 0, stop when the root-mean-square change of the missing pixels in one
        iteration falls below it (checked every 10 iterations; 0: run ``iters``)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device; observed
        pixels kept exactly

    Examples
    --------
    >>> ramp = torch.linspace(0, 1, 12).expand(3, 10, 12).clone()
    >>> masked = ramp.clone(); masked[:, 4:6, 5:7] = float("nan")
    >>> bool((tv(masked) - ramp).abs().max() < 1e-3)
    True
    """
    masked, missing = _check(masked, "tv")
    iters = check_int(iters, func="tv", name="iters", low=1)
    tol = check_positive(tol, func="tv", name="tol", allow_zero=True)
    dtype = torch.float64 if masked.dtype == torch.float64 else torch.float32
    with torch.no_grad():
        u = torch.nan_to_num(masked.to(dtype), nan=0.0)  # (3, m, n)
        w = (~missing).to(dtype)[None]  # (1, m, n), 1 = observed
        for c in range(3):  # a channel at a time: less memory
            u[c : c + 1] = pyramid_fill(u[c : c + 1], w)  # = f where observed
        del w
        move = missing.to(dtype)[None] * _TV_TAU  # (1, m, n): tau at missing
        count = math.sqrt(3 * max(int(missing.sum()), 1))
        ubar = u.clone()
        px, py = torch.zeros_like(u), torch.zeros_like(u)
        for k in range(iters):
            _ascend(px, py, ubar, _TV_SIGMA)
            norm = torch.zeros_like(px[0])  # (m, n): |p| at each pixel
            for q in (*px, *py):  # channel by channel: no full-size temporary
                norm.addcmul_(q, q)
            norm.sqrt_().clamp_min_(1.0)
            px.div_(norm)
            py.div_(norm)
            del norm
            step = _div(px, py).mul_(move)  # the primal step, 0 where observed
            torch.add(u, step, alpha=2.0, out=ubar)  # 2 u_new - u
            u.add_(step)
            if tol and (k + 1) % _TV_CHECK_EVERY == 0:
                if float(step.norm()) / count < tol:
                    break
            del step
        del px, py, ubar, move  # before the result's copies
    return _finish(u, masked, missing)


# ---- HaLRTC: sum of the nuclear norms of the unfoldings, by ADMM --------------------------------

#: The penalty grows by 5 % a step, as in the authors' released code.
_HALRTC_GROWTH = 1.05
_HALRTC_ALPHA = 1.0 / 3.0


def _unfold(X, mode):
    """Mode-``mode`` unfolding of the (3, m, n) tensor: (X.shape[mode], the rest)."""
    return X.movedim(mode, 0).reshape(X.shape[mode], -1)


def _fold(A, mode, shape):
    rest = [s for i, s in enumerate(shape) if i != mode]
    return A.reshape(shape[mode], *rest).movedim(0, mode)


def _shrink(A, threshold):
    """Singular-value soft-thresholding of ``A``: returns it, the rank kept and the largest
    singular value of ``A``."""
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    top = float(S[0])
    S = (S - threshold).clamp_min(0.0)
    k = int((S > 0).sum())
    return (U[:, :k] * S[:k]) @ Vh[:k], k, top  # (p, k) @ (k, q) -> (p, q)


def halrtc(masked, *, rho=None, iters=60, tol=1e-5):
    """HaLRTC (Liu, Musialski, Wonka and Ye 2013): low-rank completion of the (m, n, 3) tensor.

    Solves ``min_X sum_i alpha_i ||X_(i)||_*  subject to  X = T on the observed pixels``, the
    weighted sum of the nuclear norms of the three unfoldings (rows, columns, channels), with
    ``alpha_i = 1/3``, by the authors' ADMM with one auxiliary tensor ``M_i`` and multiplier
    ``Y_i`` per unfolding: ``M_i = fold(shrink(X_(i) + Y_i(i) / rho, alpha_i / rho))`` (singular
    values soft-thresholded, by ``torch.linalg.svd``), ``X = mean_i(M_i - Y_i / rho)`` at the
    missing pixels, ``Y_i -= rho (M_i - X)``; ``rho`` grows by 5 % a step, as in their code.
    Their code starts from ``rho = 1e-6`` on 8-bit data (2.6e-4 on [0, 1] data) with a weight of
    1e-3 on the colour unfolding; with ``alpha_i = 1/3`` that start thresholds every singular
    value away for some 40 steps (the fill then collapses to 0), so here ``rho`` starts where
    the first threshold is a fifth of the start's norm (about 7e-3 for a 256 x 256 photo), and a
    step that would keep no singular value instead raises ``rho`` to the first penalty that
    keeps one (the step counts towards ``iters``). The start fills each channel with
    its observed mean, as the authors do. One step costs an SVD of each unfolding (0.05 s at
    256 x 256 on one core: about 3 s for 60 steps).

    Parameters
    ----------
    masked : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels; computed
        in float64 if it is float64, else in float32, on its device
    rho : float > 0 or None, the first penalty (None: ``5 alpha / ||X0||_F``)
    iters : int >= 1, the most steps
    tol : float >= 0, stop when ``||X_k - X_{k-1}||_F / ||T_observed||_F`` falls below it (the
        authors' rule; 0: run ``iters``)

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32 in [0, 1] on the input's device; observed
        pixels kept exactly

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> low = torch.rand(3, 1, 1, generator=g) * torch.rand(1, 12, 1, generator=g) * torch.rand(
    ...     1, 1, 10, generator=g)  # rank 1 in every unfolding
    >>> masked = low.clone(); masked[:, 3, 4] = float("nan")
    >>> bool((halrtc(masked, iters=300, tol=0) - low).abs().max() < 1e-3)
    True
    """
    masked, missing = _check(masked, "halrtc")
    if rho is not None:
        rho = check_positive(rho, func="halrtc", name="rho")
    iters = check_int(iters, func="halrtc", name="iters", low=1)
    tol = check_positive(tol, func="halrtc", name="tol", allow_zero=True)
    dtype = torch.float64 if masked.dtype == torch.float64 else torch.float32
    with torch.no_grad():
        T = torch.nan_to_num(masked.to(dtype), nan=0.0)  # (3, m, n)
        observed = (~missing).to(dtype)  # (m, n)
        mean = (T * observed).flatten(1).sum(1) / observed.sum()  # (3,)
        X = torch.where(missing, mean[:, None, None], T)  # (3, m, n)
        scale = float(T.norm()) or 1.0
        if rho is None:
            rho = 5 * _HALRTC_ALPHA / (float(X.norm()) or 1.0)
        Y = [torch.zeros_like(X) for _ in range(3)]
        for _ in range(iters):
            rho *= _HALRTC_GROWTH
            M, kept, top = [], 0, 0.0
            for i in range(3):
                Mi, k, s1 = _shrink(
                    _unfold(X + Y[i] / rho, i), _HALRTC_ALPHA / rho
                )
                M.append(_fold(Mi, i, X.shape))
                kept, top = kept + k, max(top, s1)
            if not kept:  # all thresholded away: raise rho until one is kept
                rho = max(rho, _HALRTC_ALPHA / max(top, 1e-30))
                continue
            new = sum(m - y / rho for m, y in zip(M, Y)) / 3
            new = torch.where(missing, new, T)
            change = float((new - X).norm()) / scale
            X = new
            for i in range(3):
                Y[i].sub_(M[i] - X, alpha=rho)
            if change < tol:
                break
    return _finish(X, masked, missing)


# ---- registration: reconstruct(masked, method=...) ---------------------------------------------


def _registered(func):
    def run(masked, *, rank, generator, **options):  # deterministic, rankless
        return func(masked, **options)

    run.__name__ = run.__qualname__ = f"reconstruct_{func.__name__}"
    run.__doc__ = (
        f"``reconstruct(method={func.__name__!r})``: see {func.__name__}."
    )
    return run


for _func, _options in [
    (biharmonic, ()),
    (telea, ("radius",)),
    (navier_stokes, ("radius",)),
    (fsr, ("quality",)),
    (tv, ("iters", "tol")),
    (halrtc, ("rho", "iters", "tol")),
]:
    register_method(
        _func.__name__,
        _registered(_func),
        options=list(_options),
        needs_rank=False,
    )
del _func, _options
