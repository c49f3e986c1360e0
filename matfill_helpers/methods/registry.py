"""The public entry points: ``factorize`` one matrix, ``reconstruct`` a masked RGB image.

``reconstruct`` works on all three channels at once (a batch of three matrices), never through a
Python loop over channels, and looks its method up in ``METHODS``.
"""

from __future__ import annotations

import functools
import sys

import torch

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_device,
    check_generator,
    check_image,
    check_int,
    check_positive,
    check_tensor,
)
from ..threads import threads_for
from .als import CENTERS, factorize_als, reconstruct_als
from .gd import factorize_gd, zero_fit_loss
from .rff import RFF_OPTIONS, check_rff_options, reconstruct_rff
from .softimpute import factorize_softimpute, reconstruct_softimpute

_FACTORIZERS = {
    "gd": factorize_gd,
    "als": factorize_als,
    "softimpute": factorize_softimpute,
    "hardimpute": lambda A, k, **o: factorize_softimpute(A, k, hard=True, **o),
}
_GD_OPTIONS = {
    "lr",
    "steps",
    "init_scale",
    "ridge",
    "loss",
    "tol",
    "check_every",
}
_ALS_OPTIONS = {
    "ridge",
    "max_sweeps",
    "tol",
    "init",
    "init_scale",
    "H0",
    "center",
}
_SOFT_OPTIONS = {"ridge", "max_iters", "tol", "center", "Z0"}
_OPTIONS = {
    "gd": _GD_OPTIONS,
    "als": _ALS_OPTIONS,
    "softimpute": _SOFT_OPTIONS,
    "hardimpute": _SOFT_OPTIONS - {"ridge"},
}
_IMPUTERS = {"softimpute", "hardimpute"}

#: Tuned GD options: small init, the ALS objective (squared error + ridge), a stopping rule on the
#: training loss (``tol``) and a learning rate of 0.02.
#: The defaults of ``method="gd"`` stay the blog post's.
GD_TUNED = {
    "init_scale": 0.1,
    "ridge": 1.0,
    "loss": "sse",
    "lr": 0.02,
    "steps": 1000,
    "tol": 1e-4,
}


def _check_options(method, options, func, *, h0_shape=None):
    """Check a method's options up front; returns them (``H0`` detached) as a new dict.

    ``h0_shape`` is the shape ``H0`` must have (``None``: do not check it here).
    """
    allowed = _OPTIONS[method]
    unknown = sorted(set(options) - allowed)
    if unknown:
        _fail(
            func,
            unknown[0],
            f"an option of method {method!r}: one of {sorted(allowed)}",
            "an unknown option",
        )
    if method == "rff":
        return check_rff_options(options, func=func)
    if method not in _FACTORIZERS and method not in _IMPUTERS:
        return dict(options)  # registered methods check their own values
    out = dict(options)
    for name in ("ridge", "lr", "init_scale"):
        if name in options:
            check_positive(
                options[name], func=func, name=name, allow_zero=name == "ridge"
            )
    if "tol" in options and not (method == "gd" and options["tol"] is None):
        check_positive(options["tol"], func=func, name="tol", allow_zero=True)
    for name in ("steps", "max_sweeps", "check_every", "max_iters"):
        if name in options:
            check_int(options[name], func=func, name=name, low=1)
    if "loss" in options:
        check_choice(
            options["loss"], {"norm", "sse", "mse"}, func=func, name="loss"
        )
    if "center" in options:
        check_choice(options["center"], set(CENTERS), func=func, name="center")
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
    if options.get("Z0") is not None:
        Z0 = check_tensor(options["Z0"], func=func, name="Z0")
        if not bool(torch.isfinite(Z0).all()):
            _fail(func, "Z0", "finite", "NaN or inf values")
        out["Z0"] = Z0
    if options.get("H0") is not None:
        H0 = check_tensor(options["H0"], func=func, name="H0")
        if h0_shape is not None and tuple(H0.shape) != tuple(h0_shape):
            _fail(
                func,
                "H0",
                f"of shape {tuple(h0_shape)} (rank x columns"
                + (", per channel)" if len(h0_shape) == 3 else ")"),
                f"shape {tuple(H0.shape)}",
            )
        if not bool(torch.isfinite(H0).all()):
            _fail(func, "H0", "finite", "NaN or inf values")
        out["H0"] = H0
    return out


def _check_z0(Z0, shape, func):
    if tuple(Z0.shape) != shape:
        _fail(
            func,
            "Z0",
            f"of the data's shape {shape} (a warm start)",
            f"shape {tuple(Z0.shape)}",
        )


#: What to try when a method breaks down (its result holds NaN or inf).
_BREAKDOWN_FIX = {
    "gd": "Try a smaller 'lr' (default 0.01) or 'init_scale', the tuned options "
    "(**mh.GD_TUNED), or method='als'.",
    "als": "Try a larger 'ridge' (default 1.0).",
    "softimpute": "Try a larger 'ridge' (default 1.0).",
    "rff": "Try a larger 'ridge' or, with solver='adam', a smaller 'learning_rate'.",
}


def _check_finite(x, *, func, method, history=None, unit="step"):
    """Raise ``FloatingPointError`` when ``x`` holds NaN or inf: the method broke down."""
    bad = ~torch.isfinite(x)
    if not bool(bad.any()):
        return x
    when = ""
    if history is not None:
        finite = torch.isfinite(history).flatten(1).all(1).tolist()
        if False in finite:
            when = (
                f" (its loss became NaN or inf at {unit} "
                f"{finite.index(False) + 1} of {len(finite)})"
            )
    msg = (
        f"{func}: method {method!r} broke down{when}: {int(bad.sum())} of "
        f"{x.numel()} values of its result are NaN or inf."
    )
    fix = _BREAKDOWN_FIX.get(method)
    raise FloatingPointError(f"{msg} {fix}" if fix else msg)


#: A loss that ends this many times above its start (and above the zero fit's) has diverged.
_GROWTH = 1e6


def _check_loss(history, *, func, method, reference, unit="step"):
    """Raise ``FloatingPointError`` when a loss ``history`` (steps, batch) broke down by value.

    A finite result can still come from a broken run: the loss became inf (the factors then
    overflow on the next data), or it grew more than ``_GROWTH`` times above both its start and
    ``reference`` (batch,), the loss of the zero fit (too large a learning rate).
    """
    finite = torch.isfinite(history)  # (steps, batch)
    if not bool(finite.all()):
        t = int((~finite.all(1)).nonzero()[0])
        what = "NaN" if bool(history[t].isnan().any()) else "inf"
        why = f"its loss became {what} at {unit} {t + 1} of {len(history)}"
    else:
        start, end = history[0], history[-1]  # (batch,)
        scale = torch.maximum(start.abs(), reference.to(start).abs())
        grew = end > _GROWTH * scale
        if not bool(grew.any()):
            return
        b = int(grew.nonzero()[0])
        why = (
            f"its loss grew from {float(start[b]):.3g} to {float(end[b]):.3g} "
            f"over {len(history)} {unit}s (more than "
            f"{_GROWTH:.0e}".replace("e+0", "e")
            + " times its start)"
        )
    msg = f"{func}: method {method!r} broke down: {why}."
    fix = _BREAKDOWN_FIX.get(method)
    raise FloatingPointError(f"{msg} {fix}" if fix else msg)


def _compute_dtype(x):
    """float16 and bfloat16 are too coarse for the solvers: compute those in float32."""
    return (
        torch.float32
        if x.dtype in (torch.float16, torch.bfloat16)
        else x.dtype
    )


def factorize(A, k, *, method="gd", generator=None, **options):
    """Factorize one matrix with missing entries (NaN) as ``W @ H`` of rank ``k``.

    Parameters
    ----------
    A : torch.Tensor of shape (m, n), float, NaN = missing (at least one observed entry)
        float32 and float64 are computed in their own precision; float16 and bfloat16 are
        computed (and returned) in float32. ``A`` is never modified or differentiated through.
    k : int in [1, min(m, n)]
    method : ``"gd"`` (Adam; defaults are the blog post's: lr 0.01, 1000 steps, N(0, 1) init,
        norm loss) or ``"als"`` (masked alternating least squares with a ridge term)
    generator : torch.Generator, int or None
    **options : passed to :func:`~matfill_helpers.methods.gd.factorize_gd` (``lr, steps,
        init_scale, ridge, loss, tol, check_every``) or
        :func:`~matfill_helpers.methods.als.factorize_als` (``ridge, max_sweeps, tol, init,
        init_scale, H0``, with ``H0`` of shape (k, n))

    Returns
    -------
    W : (m, k), H : (k, n), losses : list of float (per step for GD, per sweep for ALS)

    Raises
    ------
    FloatingPointError
        If the method breaks down (NaN or inf in its factors; for GD also a loss that became
        inf or grew more than a million-fold over its start), saying what to try instead.

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
    A = check_tensor(A, func="factorize", name="A")
    if A.ndim != 2:
        _fail(
            "factorize",
            "A",
            "a 2-D tensor (m, n)",
            f"shape {tuple(A.shape)}",
            "For an RGB image use mh.reconstruct.",
        )
    if A.numel() == 0:
        _fail(
            "factorize", "A", "a non-empty matrix", f"shape {tuple(A.shape)}"
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
    if "center" in options:
        _fail(
            "factorize",
            "center",
            "left out: factorize fits W @ H to A itself",
            repr(options["center"]),
            "Subtract an offset from A first, or use mh.reconstruct(..., center=...).",
        )
    options = _check_options(
        method, options, "factorize", h0_shape=(k, A.shape[1])
    )
    if options.get("H0") is not None:
        options["H0"] = options["H0"][None]  # (1, k, n): a batch of one
    if options.get("Z0") is not None:
        _check_z0(options["Z0"], tuple(A.shape), "factorize")
        options["Z0"] = options["Z0"][None]  # (1, m, n)
    g = check_generator(generator, func="factorize")
    A = A.to(_compute_dtype(A))
    with threads_for(A):  # one thread for a small problem (see threads.py)
        W, H, hist = _FACTORIZERS[method](A[None], k, generator=g, **options)
    unit = "step" if method == "gd" else "sweep"
    for F in (W, H):
        _check_finite(
            F, func="factorize", method=method, history=hist, unit=unit
        )
    if method == "gd":
        ref = zero_fit_loss(A[None], options.get("loss", "norm"))
        _check_loss(hist, func="factorize", method="gd", reference=ref)
    return W[0], H[0], hist[:, 0].tolist()


def _reconstruct_lowrank(method):
    def run(masked, *, rank, generator, **options):
        W, H, hist = _FACTORIZERS[method](
            masked, rank, generator=generator, **options
        )
        recon = W @ H  # (3, H, k) @ (3, k, W) -> (3, m, n)
        unit = "step" if method == "gd" else "sweep"
        _check_finite(
            recon, func="reconstruct", method=method, history=hist, unit=unit
        )
        if method == "gd":
            ref = zero_fit_loss(masked, options.get("loss", "norm"))
            _check_loss(hist, func="reconstruct", method="gd", reference=ref)
        return recon

    return run


def _reconstruct_rff(masked, *, rank, generator, **options):
    return reconstruct_rff(masked, generator=generator, **options)


#: Every method ``reconstruct`` accepts, mapped to its implementation.
METHODS = {
    "gd": _reconstruct_lowrank("gd"),
    "als": reconstruct_als,  # centred: W @ H + mu (see als.py)
    "rff": _reconstruct_rff,
    "softimpute": reconstruct_softimpute,  # rank: an optional cap
    "hardimpute": lambda masked, **o: reconstruct_softimpute(
        masked, hard=True, **o
    ),
}
_BUILTIN = frozenset(METHODS)
#: Every method the package itself registers (with register_method, from its own modules):
#: like the built-in ones, these cannot be replaced.
_SHIPPED = set(_BUILTIN)
#: reconstruct's own keywords: never passed on to a method, so never its options.
_OWN_KEYWORDS = (
    "masked_img",
    "rank",
    "method",
    "generator",
    "device",
    "keep_observed",
)

_RANKLESS = {"rff", "softimpute"}
_OPTIONS["rff"] = set(RFF_OPTIONS)


def _in_package(module):
    return isinstance(module, str) and module.startswith("matfill_helpers.")


def _from_package(frame):
    """Whether the code of ``frame`` belongs to this package."""
    return _in_package(frame.f_globals.get("__name__", ""))


def _shipped(name):
    """Whether ``name`` is a method the package itself provides (it cannot be replaced)."""
    if name in _BUILTIN:
        return True
    if name not in METHODS:
        return False
    if name in _SHIPPED:
        return True
    func = METHODS[name]
    while isinstance(func, functools.partial):
        func = func.func
    return _in_package(getattr(func, "__module__", ""))


def register_method(name, func, *, options=None, needs_rank=True):
    """Add a reconstruction method: ``func(masked, *, rank, generator, **options) -> (3, m, n)``.

    ``masked`` arrives checked, detached, on the compute device, in float32 or float64, as a
    copy (the caller's image is never handed out); ``options`` names the keyword options it
    accepts (it checks their values itself), never one of :func:`reconstruct`'s own keywords
    (``rank``, ``method``, ``generator``, ``device``, ``keep_observed``). Its result must be a
    floating tensor of the input's shape (3, m, n): anything else is a ``TypeError`` or
    ``ValueError`` naming the method, and a result with NaN or inf makes :func:`reconstruct`
    raise ``FloatingPointError``. An error the method raises comes back naming it.

    The methods the package ships (``"gd"``, ``"als"``, ``"rff"``, ``"patches"`` ... every
    name in ``mh.METHODS`` at import) cannot be replaced; a method of your own can be
    registered again under its name.
    """
    func_name = "register_method"
    if not isinstance(name, str) or not name:
        _fail(
            func_name,
            "name",
            "a non-empty str",
            _describe(name),
            exc=TypeError,
        )
    package = _from_package(
        sys._getframe(1)
    )  # the package registering its own
    if name in _BUILTIN or (_shipped(name) and not package):
        _fail(
            func_name,
            "name",
            "a new method name, not a built-in one "
            f"{sorted(n for n in METHODS if _shipped(n))}",
            repr(name),
            "Choose another name.",
        )
    if not callable(func):
        _fail(func_name, "func", "a callable", _describe(func), exc=TypeError)
    if isinstance(options, str):
        _fail(
            func_name,
            "options",
            "a list of option names",
            repr(options),
            f"For one option pass [{options!r}].",
            exc=TypeError,
        )
    options = list(options or ())
    for opt in options:
        if not isinstance(opt, str):
            _fail(
                func_name,
                "options",
                "a list of str option names",
                f"{_describe(opt)} in the list",
                exc=TypeError,
            )
        if opt in _OWN_KEYWORDS:
            _fail(
                func_name,
                "options",
                "option names other than reconstruct's own keywords "
                f"{sorted(_OWN_KEYWORDS)}",
                f"{opt!r} in the list",
                "reconstruct keeps these itself (the method receives 'rank' "
                "and 'generator' as keywords): leave it out of 'options'.",
            )
    if not isinstance(needs_rank, bool):
        _fail(
            func_name,
            "needs_rank",
            "a bool",
            _describe(needs_rank),
            exc=TypeError,
        )
    METHODS[name] = func
    _OPTIONS[name] = set(options)
    if package:
        _SHIPPED.add(name)
    if needs_rank:
        _RANKLESS.discard(name)
    else:
        _RANKLESS.add(name)


def _reraise_naming(err, method):
    """Raise ``err`` (from a registered method) again, its message naming the method.

    The exception keeps its type and is chained to the original (``raise ... from err``); a type
    that cannot be rebuilt from one message gets a note instead (``add_note``).
    """
    msg = (
        f"reconstruct: method {method!r} (registered with register_method) "
        f"raised {type(err).__name__}: {err}"
    )
    try:
        new = type(err)(msg)
    except Exception:  # an exception type with other constructor arguments
        new = None
    if new is None or type(new) is not type(err) or str(new) != msg:
        err.add_note(msg)
        raise err
    raise new from err


def _check_result(recon, *, method, shape):
    """A method's result as a detached floating tensor of ``shape``, or a clear error."""
    expected = f"a torch.Tensor of shape {tuple(shape)} (the input's shape)"

    def refuse(got, exc, fix=""):
        raise exc(
            f"reconstruct: method {method!r} returned {got}; expected "
            f"{expected}.{fix}"
        )

    if not isinstance(recon, torch.Tensor):
        fix = (
            " Return torch.from_numpy(result)."
            if type(recon).__module__ == "numpy"
            else ""
        )
        refuse(_describe(recon), TypeError, fix)
    if recon.layout != torch.strided or recon.is_meta:
        refuse(
            _describe(recon) + f" ({recon.layout}, {recon.device})", TypeError
        )
    if not recon.is_floating_point():
        refuse(
            _describe(recon),
            TypeError,
            " Return a floating tensor (float32) in [0, 1].",
        )
    if tuple(recon.shape) != tuple(shape):
        refuse(_describe(recon), ValueError)
    return recon.detach()


def check_call(shape, rank, method, options, *, func):
    """Check ``method``, ``rank`` and ``options`` for an image of ``shape`` (3, m, n).

    What :func:`reconstruct` checks before any work, for entry points that call it later (the
    explorers, :func:`~matfill_helpers.tune`), so that the error names the function the user
    called. Returns ``(rank, options)`` as checked.
    """
    check_choice(method, set(METHODS), func=func, name="method")
    _, Hh, Ww = shape
    if method not in _RANKLESS:
        if rank is None:
            _fail(
                func,
                "rank",
                f"an int in [1, {min(Hh, Ww)}] for method {method!r}",
                "None",
            )
        rank = check_int(rank, func=func, name="rank", low=1, high=min(Hh, Ww))
    elif rank is not None:  # unused, but a wrong type is still a mistake
        rank = check_int(rank, func=func, name="rank", low=1)
    options = _check_options(method, options, func, h0_shape=(3, rank, Ww))
    return rank, options


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
    masked_img : torch.Tensor of shape (3, m, n), float in [0, 1], NaN at missing pixels
        A missing pixel is NaN in all three channels (NaN that differs between channels is a
        ``ValueError``). float32 and float64 are computed in their own precision; float16 and
        bfloat16 are computed in float32 (their three significant digits make the solvers
        break down). It is never modified, and never differentiated through
        (``requires_grad`` is ignored).
    rank : int in [1, min(m, n)]; required by the low-rank methods, ignored by ``"rff"``
    method : str, one of ``mh.METHODS``; ``"gd"`` with no options is the blog post's method exactly
    generator : torch.Generator (CPU), int seed in [0, 2**64) or None
    device : None, str or torch.device, optional
        Where to compute (default: the input's device): ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
        ``"mps"`` ... A device this machine lacks is a ``ValueError``. The result comes back on the
        input's device.
    keep_observed : bool
        Copy the observed pixels back into the result (default False, as the blog post).
    **options : the method's own options (see :func:`factorize`; for ``"als"``, ``H0`` has shape
        (3, rank, W), and ``center`` is ``"mean"`` (default: each channel's observed mean is
        subtracted first and added back, so the result has rank ``rank + 1`` per channel),
        ``"biases"`` (also row and column biases) or ``"none"`` (the plain rank-``rank`` model))

    Returns
    -------
    recon : torch.Tensor of shape (3, m, n), float32, clamped to [0, 1], finite

    Raises
    ------
    FloatingPointError
        If the method breaks down (its result holds NaN or inf, or GD's loss became inf or grew
        more than a million-fold, e.g. with too large a learning rate), saying what to try
        instead. A broken result is never returned.
    TypeError, ValueError
        For a bad argument; for a method added with :func:`register_method`, also when it
        returns anything but a floating tensor of the input's shape (naming the method). An
        error raised inside such a method comes back with its type, naming the method.

    Examples
    --------
    >>> from matfill_helpers import load_image, mask_image
    >>> img = load_image("china", size=32)
    >>> masked, mask = mask_image(img, 0.3, generator=0)
    >>> recon = reconstruct(masked, rank=5, method="als", generator=0)
    >>> recon.shape, bool(recon.isfinite().all())
    (torch.Size([3, 32, 32]), True)
    """
    func = "reconstruct"
    masked_img = check_image(
        masked_img, func=func, name="masked_img", allow_nan=True
    )
    rank, options = check_call(
        tuple(masked_img.shape), rank, method, options, func=func
    )
    if options.get("Z0") is not None:
        _check_z0(options["Z0"], tuple(masked_img.shape), func)
    if not isinstance(keep_observed, bool):
        _fail(
            func,
            "keep_observed",
            "a bool",
            _describe(keep_observed),
            exc=TypeError,
        )
    device = check_device(device, func=func)
    missing = torch.isnan(masked_img)  # (3, m, n)
    if bool(missing.all()):
        _fail(
            func,
            "masked_img",
            "an image with at least one observed pixel",
            "every pixel NaN",
        )
    g = check_generator(generator, func=func)
    home = masked_img.device
    work = masked_img.to(device or home, _compute_dtype(masked_img))
    # a registered method gets a copy, never the caller's storage
    if method not in _BUILTIN and work.data_ptr() == masked_img.data_ptr():
        work = work.clone()
    no_grad = method == "als" or method in _IMPUTERS
    grad = torch.no_grad() if no_grad else torch.enable_grad()
    with grad, threads_for(work):  # one thread for a small problem
        if _shipped(method):
            recon = METHODS[method](work, rank=rank, generator=g, **options)
        else:
            try:
                recon = METHODS[method](
                    work, rank=rank, generator=g, **options
                )
            except Exception as err:
                _reraise_naming(err, method)
    recon = _check_result(recon, method=method, shape=masked_img.shape)
    recon = _check_finite(recon, func=func, method=method)
    recon = recon.to(home, torch.float32).clamp(0.0, 1.0)
    if keep_observed:
        recon = torch.where(missing, recon, masked_img.to(torch.float32))
    return recon
