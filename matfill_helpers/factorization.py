"""The public entry points: ``factorize`` one matrix, ``reconstruct`` a masked RGB image.

``reconstruct`` works on all three channels at once (a batch of three matrices), never through a
Python loop over channels, and looks its method up in ``METHODS``.
"""

from __future__ import annotations

import torch

from ._validation import (
    _describe,
    _fail,
    check_choice,
    check_generator,
    check_image,
    check_int,
    check_positive,
    check_tensor,
)
from .als import factorize_als, reconstruct_als
from .gd import factorize_gd
from .rff import reconstruct_rff
from .threads import threads_for

_FACTORIZERS = {"gd": factorize_gd, "als": factorize_als}
_GD_OPTIONS = {
    "lr",
    "steps",
    "init_scale",
    "ridge",
    "loss",
    "tol",
    "check_every",
}
_ALS_OPTIONS = {"ridge", "max_sweeps", "tol", "init", "init_scale", "H0"}
_OPTIONS = {"gd": _GD_OPTIONS, "als": _ALS_OPTIONS}

#: Tuned GD options: small init, the ALS objective (squared error + ridge), early stopping.
#: The defaults of ``method="gd"`` stay the blog post's.
GD_TUNED = {
    "init_scale": 0.1,
    "ridge": 1.0,
    "loss": "sse",
    "lr": 0.02,
    "steps": 1000,
    "tol": 1e-4,
}


def _check_options(method, options, func):
    allowed = _OPTIONS[method]
    unknown = sorted(set(options) - allowed)
    if unknown:
        _fail(
            func,
            unknown[0],
            f"an option of method {method!r}: one of {sorted(allowed)}",
            "an unknown option",
        )
    for name in ("ridge", "lr", "init_scale", "tol"):
        if name in options and options[name] is not None:
            check_positive(
                options[name],
                func=func,
                name=name,
                allow_zero=(name in {"ridge", "tol"}),
            )
    for name in ("steps", "max_sweeps", "check_every"):
        if name in options:
            check_int(options[name], func=func, name=name, low=1)
    if "loss" in options:
        check_choice(
            options["loss"], {"norm", "sse", "mse"}, func=func, name="loss"
        )
    if "init" in options:
        check_choice(
            options["init"], {"svd", "random"}, func=func, name="init"
        )
    if method == "als" and options.get("ridge", 1.0) <= 0:
        _fail(
            func,
            "ridge",
            "> 0 for method 'als' (it keeps every system solvable)",
            repr(options["ridge"]),
        )


def factorize(A, k, *, method="gd", generator=None, **options):
    """Factorize one matrix with missing entries (NaN) as ``W @ H`` of rank ``k``.

    Parameters
    ----------
    A : torch.Tensor of shape (m, n), float, NaN = missing (at least one observed entry)
    k : int in [1, min(m, n)]
    method : ``"gd"`` (Adam; defaults are the blog post's: lr 0.01, 1000 steps, N(0, 1) init,
        norm loss) or ``"als"`` (masked alternating least squares with a ridge term)
    generator : torch.Generator, int or None
    **options : passed to :func:`~matfill_helpers.gd.factorize_gd` (``lr, steps, init_scale,
        ridge, loss, tol``) or :func:`~matfill_helpers.als.factorize_als` (``ridge, max_sweeps,
        tol, init``)

    Returns
    -------
    W : (m, k), H : (k, n), losses : list of float (per step for GD, per sweep for ALS)

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> A = torch.randn(30, 2, generator=g) @ torch.randn(2, 20, generator=g)  # rank 2
    >>> masked = A.clone()
    >>> masked[torch.rand(30, 20, generator=g) < 0.3] = float("nan")
    >>> W, H, losses = factorize(masked, 2, method="als", ridge=1e-6, tol=1e-9,
    ...                         max_sweeps=200, generator=g)
    >>> W.shape, H.shape, bool(torch.allclose(W @ H, A, atol=1e-3))
    (torch.Size([30, 2]), torch.Size([2, 20]), True)
    """
    check_tensor(A, func="factorize", name="A")
    if A.ndim != 2:
        _fail(
            "factorize",
            "A",
            "a 2-D tensor (m, n)",
            f"shape {tuple(A.shape)}",
            "For an RGB image use mh.reconstruct.",
        )
    check_choice(method, set(_FACTORIZERS), func="factorize", name="method")
    k = check_int(k, func="factorize", name="k", low=1, high=min(A.shape))
    if bool(torch.isinf(A).any()):
        _fail("factorize", "A", "finite where observed", "inf values")
    if not bool((~torch.isnan(A)).any()):
        _fail(
            "factorize",
            "A",
            "a matrix with at least one observed (non-NaN) entry",
            "all NaN",
        )
    _check_options(method, options, "factorize")
    g = check_generator(generator, func="factorize")
    with threads_for(A):  # one thread for a small problem (see threads.py)
        W, H, hist = _FACTORIZERS[method](A[None], k, generator=g, **options)
    return W[0], H[0], hist[:, 0].tolist()


def _reconstruct_lowrank(method):
    def run(masked, *, rank, generator, **options):
        W, H, _ = _FACTORIZERS[method](
            masked, rank, generator=generator, **options
        )
        return W @ H  # (3, H, k) @ (3, k, W) -> (3, H, W)

    return run


def _reconstruct_rff(masked, *, rank, generator, **options):
    return reconstruct_rff(masked, generator=generator, **options)


#: Every method ``reconstruct`` accepts, mapped to its implementation.
METHODS = {
    "gd": _reconstruct_lowrank("gd"),
    "als": reconstruct_als,  # centred: W @ H + mu (see als.py)
    "rff": _reconstruct_rff,
}

_RANKLESS = {"rff"}
_RFF_OPTIONS = {
    "num_features",
    "sigma",
    "solver",
    "ridge",
    "learning_rate",
    "epochs",
    "threshold",
}


def register_method(name, func, *, options=None, needs_rank=True):
    """Add a reconstruction method.

    ``func(masked, *, rank, generator, **options)`` returns the (3, H, W) reconstruction.
    """
    METHODS[name] = func
    _OPTIONS[name] = set(options or ())
    if not needs_rank:
        _RANKLESS.add(name)


_OPTIONS["rff"] = _RFF_OPTIONS


def reconstruct(
    masked_img,
    *,
    rank=None,
    method="als",
    generator=None,
    device=None,
    keep_observed=False,
    **options,
):
    """Fill the NaN pixels of a masked RGB image; all three channels are solved as one batch.

    Parameters
    ----------
    masked_img : torch.Tensor of shape (3, H, W), float32 in [0, 1], NaN at missing pixels
    rank : int in [1, min(H, W)]; required by the low-rank methods, ignored by ``"rff"``
    method : str, one of ``mh.METHODS``; ``"gd"`` with no options is the blog post's method exactly
    generator : torch.Generator, int or None
    device : torch.device or str, optional
        Where to compute (default: the input's device). The result comes back on the input's
        device.
    keep_observed : bool
        Copy the observed pixels back into the result (default False, as the blog post).
    **options : the method's own options (see :func:`factorize`)

    Returns
    -------
    recon : torch.Tensor of shape (3, H, W), float32, clamped to [0, 1], finite

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image
    >>> img = load_image("china", size=32)
    >>> masked, mask = mask_image(img, 0.3, generator=0)
    >>> recon = reconstruct(masked, rank=5, method="als", generator=0)
    >>> recon.shape, bool(recon.isfinite().all())
    (torch.Size([3, 32, 32]), True)
    """
    check_image(
        masked_img, func="reconstruct", name="masked_img", allow_nan=True
    )
    check_choice(method, set(METHODS), func="reconstruct", name="method")
    _, Hh, Ww = masked_img.shape
    if method not in _RANKLESS:
        if rank is None:
            _fail(
                "reconstruct",
                "rank",
                f"an int in [1, {min(Hh, Ww)}] for method {method!r}",
                "None",
            )
        rank = check_int(
            rank, func="reconstruct", name="rank", low=1, high=min(Hh, Ww)
        )
    if method in _FACTORIZERS:
        _check_options(method, options, "reconstruct")
    else:
        unknown = sorted(set(options) - _OPTIONS.get(method, set()))
        if unknown:
            _fail(
                "reconstruct",
                unknown[0],
                f"an option of method {method!r}: one of "
                f"{sorted(_OPTIONS.get(method, set()))}",
                "an unknown option",
            )
    if not isinstance(keep_observed, bool):
        _fail(
            "reconstruct",
            "keep_observed",
            "a bool",
            _describe(keep_observed),
            exc=TypeError,
        )
    missing = torch.isnan(masked_img)  # (3, H, W)
    if bool(missing.all()):
        _fail(
            "reconstruct",
            "masked_img",
            "an image with at least one observed pixel",
            "every pixel NaN",
        )
    g = check_generator(generator, func="reconstruct")
    home = masked_img.device
    work = masked_img.to(device) if device is not None else masked_img
    grad = torch.no_grad() if method == "als" else torch.enable_grad()
    with grad, threads_for(work):  # one thread for a small problem
        recon = METHODS[method](work, rank=rank, generator=g, **options)
    recon = torch.nan_to_num(
        recon.detach().to(home, torch.float32), nan=0.5
    ).clamp_(0.0, 1.0)
    if keep_observed:
        recon = torch.where(missing, recon, masked_img)
    return recon
