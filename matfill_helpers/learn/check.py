"""Checkers for the chapters' code exercises: ``mh.check.<name>(fn)``.

Each checker runs the learner's function on a few small seeded cases,
compares it with the package's tested helper and says what is wrong in
words: which case, which numbers, and the usual mistake behind them (NaN
not left out, wrong normalisation, a transpose, an input changed in place,
an off-by-one count, ...). A function whose body still raises
``NotImplementedError`` gets a reminder to write it, not a traceback.

Every checker returns a :class:`CheckResult`: truthy when the function
passed, with ``.passed`` and ``.message``; a notebook shows it as a short
coloured note.

>>> import matfill_helpers as mh
>>> def dof_count(m, n, r):
...     return r * (m + n)
>>> result = mh.check.dof_count(dof_count)
>>> bool(result)
False
>>> print(result.message.splitlines()[0])  # doctest: +ELLIPSIS
case 'a 128 x 128 channel, rank 20' gives 5 120, expected 4 720...
"""

from __future__ import annotations

import html
import math
import traceback

import torch

from ..core.masking import mask_image
from ..core.metrics import metrics
from ..methods.als import solve_rows
from ..methods.gd import zero_fit_loss
from ..methods.softimpute import soft_threshold

__all__ = [
    "CheckResult",
    "dof_count",
    "extract_patches",
    "fourier_features",
    "hide_pixels",
    "observed_loss",
    "paired_difference",
    "psnr_from_rmse",
    "rank_r_approx",
    "ridge_row",
    "scores_on_missing",
    "soft_svd",
]


class CheckResult:
    """What a checker found: ``passed`` (bool) and ``message`` (str).

    Truthy when the function passed, so a build can ``assert`` it. Shown in
    a notebook as a note with a tick or a cross.

    >>> r = CheckResult("f", True, "f passed.")
    >>> bool(r), r.passed, r.message
    (True, True, 'f passed.')
    """

    def __init__(self, name, passed, message):
        self.name = name
        self.passed = bool(passed)
        self.message = message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        mark = "\u2713" if self.passed else "\u2717"
        return f"{mark} {self.message}"

    def _repr_html_(self):
        state = "passed" if self.passed else "failed"
        mark = "\u2713 passed" if self.passed else "\u2717 not yet"
        # its own colours, readable on any page (light or dark theme, and
        # the light output area some themes draw in dark mode): WCAG AA
        ink, accent, paper = (
            ("#1e4620", "#1b5e20", "#edf7ed")
            if self.passed
            else ("#5f2120", "#b3261e", "#fdecea")
        )
        lines = html.escape(self.message).replace("\n", "<br>")
        return (
            f'<div class="code-check code-check-{state}" role="status" '
            f'style="border-left: 4px solid {accent}; background: {paper}; '
            f"color: {ink}; padding: 0.4em 0.8em; margin: 0.3em 0; "
            f'line-height: 1.4"><strong style="color: {accent}">{mark}'
            f"</strong> {lines}</div>"
        )


class _Fail(Exception):
    """A finding about the learner's function (the message says what)."""


def _num(x):
    """A number with spaces between thousands: 5898 -> '5 898'."""
    if isinstance(x, int) or float(x).is_integer() and abs(x) >= 1000:
        return f"{int(x):,}".replace(",", " ")
    return f"{float(x):.4g}"


def _close(a, b, tol=1e-6):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _tensor(x, name, case, shape=None):
    """The learner's result as a float64 tensor, or a finding."""
    if isinstance(x, tuple | list) and shape is not None:
        raise _Fail(
            f"case {case!r}: {name} returned a {type(x).__name__} of "
            f"{len(x)} items; return one tensor of shape {shape}."
        )
    try:
        t = torch.as_tensor(x).detach().to(torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise _Fail(
            f"case {case!r}: {name} returned {type(x).__name__}; "
            "return a torch tensor."
        ) from None
    if shape is not None and tuple(t.shape) != tuple(shape):
        if tuple(t.shape) == tuple(shape)[::-1] and len(shape) == 2:
            raise _Fail(
                f"case {case!r}: your result has shape {tuple(t.shape)}, "
                f"expected {tuple(shape)}: it is transposed (.T)."
            )
        raise _Fail(
            f"case {case!r}: your result has shape {tuple(t.shape)}, "
            f"expected {tuple(shape)}."
        )
    return t


def _scalar(x, name, case):
    try:
        t = torch.as_tensor(x).detach().to(torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise _Fail(
            f"case {case!r}: {name} returned {type(x).__name__}; "
            "return a number."
        ) from None
    if t.numel() != 1:
        raise _Fail(
            f"case {case!r}: {name} returned {t.numel()} numbers "
            f"(shape {tuple(t.shape)}); return one number."
        )
    return float(t.reshape(()))


def _where(fn, err):
    """The line of the learner's function where ``err`` was raised."""
    code = getattr(fn, "__code__", None)
    frames = traceback.extract_tb(err.__traceback__)
    mine = [f for f in frames if code and f.filename == code.co_filename]
    if not mine:
        return ""
    line = (mine[-1].line or "").strip()
    return f" at the line `{line}`" if line else ""


def _call(fn, name, case, args, kwargs=None):
    """Call the learner's function; a raised error becomes a finding."""
    try:
        return fn(*args, **(kwargs or {}))
    except NotImplementedError:
        raise
    except Exception as err:  # the learner's code: report, don't crash
        raise _Fail(
            f"case {case!r}: {name} raised {type(err).__name__}"
            f"{_where(fn, err)}: {err}"
        ) from None


def _unchanged(before, after, what, case, name):
    if isinstance(before, torch.Tensor) and not torch.equal(
        before.nan_to_num(-7.0), after.nan_to_num(-7.0)
    ):
        raise _Fail(
            f"case {case!r}: {name} changed its input {what!r} in place. "
            "Work on a copy (.clone()) or use operations that return a "
            "new tensor (nan_to_num, not nan_to_num_)."
        )


def _run(name, fn, body, checked):
    """Run ``body(fn)`` and turn its outcome into a :class:`CheckResult`."""
    if not callable(fn):
        return CheckResult(
            name,
            False,
            f"check.{name} needs your function itself, e.g. "
            f"mh.check.{name}({name}); got {type(fn).__name__}.",
        )
    label = getattr(fn, "__name__", name)
    try:
        body(fn, label)
    except NotImplementedError:
        return CheckResult(
            name,
            False,
            f"{label} is not written yet: write the body of {label} "
            "(in place of `raise NotImplementedError`), then run this "
            "cell again.",
        )
    except _Fail as found:
        return CheckResult(name, False, str(found))
    return CheckResult(name, True, f"{label} passed: {checked}.")


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- preface


def psnr_from_rmse(fn):
    """Check ``fn(rmse) -> psnr``: the PSNR in dB of an RMSE, range 1.

    The reference is :func:`matfill_helpers.metrics` on a grey image and a
    copy of it shifted by ``rmse``.
    """
    cases = [0.05, 0.1, 0.01, 0.2]
    grey = torch.full((3, 4, 4), 0.5, dtype=torch.float64)

    def body(fn, label):
        for rmse in cases:
            case = f"RMSE {rmse}"
            want = metrics(grey, grey + rmse)[1]
            got = _scalar(_call(fn, label, case, (rmse,)), label, case)
            if _close(got, want, 1e-4):
                continue
            hint = ""
            if _close(got, -10 * math.log10(rmse), 1e-4):
                hint = (
                    " That is 10 log10(1 / RMSE): the PSNR is "
                    "10 log10(1 / MSE), and MSE = RMSE\u00b2, so it is "
                    "20 log10(1 / RMSE)."
                )
            elif _close(got, -20 * math.log(rmse), 1e-4):
                hint = (
                    " You used the natural logarithm: decibels use "
                    "log10 (math.log10 or torch.log10)."
                )
            elif _close(got, -want, 1e-4):
                hint = (
                    " The sign is flipped: an error below 1 gives a "
                    "positive PSNR, 20 log10(1 / RMSE)."
                )
            raise _Fail(
                f"case {case!r}: your PSNR is {got:.2f} dB, expected "
                f"{want:.2f} dB.{hint}"
            )

    return _run(
        "psnr_from_rmse",
        fn,
        body,
        f"{len(cases)} RMSEs from 0.01 to 0.2 agree with mh.metrics",
    )


# ----------------------------------------------------- images as matrices


def _centred_truncations(A, r):
    """Rank-``r`` truncations of ``A`` minus its mean, the mean added back.

    The overall mean, the column means and the row means: what a learner
    who centres before the SVD (as the chapter's centred example does)
    returns.
    """
    out = []
    for mean in (A.mean(), A.mean(0, keepdim=True), A.mean(1, keepdim=True)):
        U, S, Vh = torch.linalg.svd(A - mean, full_matrices=False)
        out.append((U[:, :r] * S[:r]) @ Vh[:r] + mean)
    return out


def rank_r_approx(fn):
    """Check ``fn(A, r) -> A_r``: the best rank-``r`` approximation of ``A``.

    ``A`` is an (m, n) matrix; the result is (m, n), the truncated SVD
    (Eckart-Young). Cases: tall and wide matrices, ``r`` from 1 to full.
    """
    g = _gen(0)
    cases = [
        ("12 x 8, rank 3", torch.rand(12, 8, generator=g), 3),
        ("6 x 10, rank 2", torch.rand(6, 10, generator=g), 2),
        ("9 x 9, rank 1", torch.rand(9, 9, generator=g), 1),
        ("5 x 7, rank 5 (full)", torch.rand(5, 7, generator=g), 5),
    ]

    def body(fn, label):
        for case, A, r in cases:
            A = A.clone()
            before = A.clone()
            out = _call(fn, label, case, (A, r))
            _unchanged(before, A, "A", case, label)
            got = _tensor(out, label, case, tuple(A.shape))
            A64 = before.double()
            U, S, Vh = torch.linalg.svd(A64, full_matrices=False)
            want = (U[:, :r] * S[:r]) @ Vh[:r]
            if torch.allclose(got, want, atol=1e-4):
                continue
            rank = int(torch.linalg.matrix_rank(got, atol=1e-4))
            best = (A64 - want).norm().item()
            err = (A64 - got).norm().item()
            centred = _centred_truncations(A64, r)
            if any(torch.allclose(got, c, atol=1e-4) for c in centred):
                raise _Fail(
                    f"case {case!r}: you subtracted a mean, truncated and "
                    "added the mean back. The mean is one more rank-one "
                    f"term, so your matrix has rank {rank}, not {r}, and "
                    f"is off by {err:.4f} where the best rank-{r} matrix "
                    f"is off by {best:.4f}. Eckart-Young is about A "
                    "itself: take the SVD of A, with no centring."
                )
            if rank != r and rank in (r - 1, r + 1):
                raise _Fail(
                    f"case {case!r}: your matrix has rank {rank}, "
                    f"expected {r}: keep exactly the first {r} singular "
                    f"values (indices 0 to {r - 1}, so [:{r}])."
                )
            if rank > r:
                raise _Fail(
                    f"case {case!r}: your matrix has rank {rank}, more "
                    f"than {r}: keep only the first {r} singular values "
                    "and vectors."
                )
            low = (U[:, -r:] * S[-r:]) @ Vh[-r:]
            if torch.allclose(got, low, atol=1e-4):
                raise _Fail(
                    f"case {case!r}: you kept the {r} smallest singular "
                    "values; torch.linalg.svd sorts them in decreasing "
                    "order, so the largest come first."
                )
            raise _Fail(
                f"case {case!r}: your rank-{rank} matrix is off by "
                f"{err:.4f} (Frobenius norm of A minus it); the best "
                f"rank-{r} one is off by {best:.4f}: U[:, :r] * S[:r] "
                "@ Vh[:r]."
            )

    return _run(
        "rank_r_approx",
        fn,
        body,
        "tall, wide and square matrices, rank 1 to full, match the "
        "truncated SVD, and A is left unchanged",
    )


# ---------------------------------------------------------------- masking


def hide_pixels(fn):
    """Check ``fn(img, prop, generator=g) -> (masked, mask)``.

    As :func:`matfill_helpers.mask_image`: a bool (m, n) mask, True =
    missing, each pixel hidden with probability ``prop``; NaN at the
    missing pixels in all three channels, the rest unchanged; the same
    generator seed gives the same mask; masks of one seed are nested.
    """
    img = torch.rand(3, 40, 30, generator=_gen(1))
    m, n = img.shape[1:]

    def draw(fn, label, prop, seed):
        case = f"prop {prop}, generator seeded {seed}"
        x = img.clone()
        out = _call(fn, label, case, (x, prop), {"generator": _gen(seed)})
        _unchanged(img, x, "img", case, label)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise _Fail(
                f"case {case!r}: {label} should return two things, "
                "(masked, mask); it returned "
                f"{type(out).__name__}."
            )
        masked, mask = out
        masked = torch.as_tensor(masked)
        mask = torch.as_tensor(mask)
        if mask.shape == img.shape:
            raise _Fail(
                f"case {case!r}: your mask has shape {tuple(mask.shape)}, "
                f"one per channel; it should be ({m}, {n}): a pixel is "
                "hidden in all three channels at once."
            )
        if tuple(mask.shape) != (m, n):
            raise _Fail(
                f"case {case!r}: your mask has shape {tuple(mask.shape)}, "
                f"expected ({m}, {n})."
            )
        if mask.dtype != torch.bool:
            raise _Fail(
                f"case {case!r}: your mask has dtype {mask.dtype}; make "
                "it bool (a comparison such as `u < prop` gives one)."
            )
        if tuple(masked.shape) != tuple(img.shape):
            raise _Fail(
                f"case {case!r}: the masked image has shape "
                f"{tuple(masked.shape)}, expected {tuple(img.shape)}."
            )
        nan = torch.isnan(masked)
        for c in range(3):
            if not torch.equal(nan[c], mask):
                hidden, blank = int(mask.sum()), int(nan[c].sum())
                raise _Fail(
                    f"case {case!r}: channel {c} has {_num(blank)} NaN "
                    f"but the mask hides {_num(hidden)} pixels: put NaN "
                    "at every hidden pixel in all three channels, and "
                    "nowhere else."
                )
        if not torch.equal(masked[:, ~mask], img[:, ~mask]):
            raise _Fail(
                f"case {case!r}: the observed pixels changed; keep them "
                "as they are in img."
            )
        return mask

    def body(fn, label):
        first = draw(fn, label, 0.3, 0)
        again = draw(fn, label, 0.3, 0)
        if not torch.equal(first, again):
            raise _Fail(
                "two calls with a generator seeded 0 gave different "
                "masks: draw the random numbers with that generator "
                "(torch.rand(..., generator=generator)), not the global "
                "one."
            )
        total = m * n
        for prop in (0.3, 0.8):
            hidden = int(draw(fn, label, prop, 2).sum())
            sd = math.sqrt(total * prop * (1 - prop))
            if abs(hidden - total * prop) > 5 * sd:
                hint = ""
                if abs(hidden - total * (1 - prop)) <= 5 * sd:
                    hint = (
                        " That is about 1 - prop: hide the pixels where "
                        "the uniform number is below prop (u < prop)."
                    )
                raise _Fail(
                    f"case 'prop {prop}': you hid {_num(hidden)} of "
                    f"{_num(total)} pixels, expected about "
                    f"{_num(round(total * prop))}.{hint}"
                )
        small, large = draw(fn, label, 0.4, 3), draw(fn, label, 0.8, 3)
        outside = int((small & ~large).sum())
        if outside:
            raise _Fail(
                f"with one seed, {_num(outside)} pixels are hidden at "
                "prop 0.4 but not at 0.8: the masks should be nested. "
                "Draw one uniform number per pixel and hide it when the "
                "number is below prop."
            )
        if draw(fn, label, 0.0, 4).any() or not draw(fn, label, 1, 4).all():
            raise _Fail("prop 0 should hide no pixel and prop 1 every pixel.")

    result = _run(
        "hide_pixels",
        fn,
        body,
        "one (m, n) bool mask, NaN in all channels, the input unchanged, "
        "the same mask from the same seed, about prop hidden, and nested "
        "masks",
    )
    if result.passed:
        ours = draw(fn, "", 0.4, 0)
        theirs = mask_image(img, 0.4, generator=0)[1]
        if torch.equal(ours, theirs):
            result.message += " Your masks are exactly mh.mask_image's."
    return result


# ---------------------------------------------------------------- metrics


def scores_on_missing(fn):
    """Check ``fn(img, recon, mask) -> (rmse, psnr)`` on the missing pixels.

    The reference is ``mh.metrics(img, recon, mask=mask)``; the cases have
    larger errors on the missing pixels than on the observed ones, so
    scoring the wrong pixels shows.
    """
    g = _gen(2)
    cases = []
    for m, n, prop in ((10, 12, 0.4), (16, 8, 0.7)):
        img = torch.rand(3, m, n, generator=g) * 0.8 + 0.1
        mask = torch.rand(m, n, generator=g) < prop
        noise = torch.randn(3, m, n, generator=g)
        recon = (img + torch.where(mask, 0.08, 0.01) * noise).clamp(0, 1)
        cases.append((f"{m} x {n}, {prop:.0%} hidden", img, recon, mask))

    def body(fn, label):
        for case, img, recon, mask in cases:
            args = (img.clone(), recon.clone(), mask.clone())
            out = _call(fn, label, case, args)
            _unchanged(img, args[0], "img", case, label)
            _unchanged(recon, args[1], "recon", case, label)
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise _Fail(
                    f"case {case!r}: return two numbers, (rmse, psnr); "
                    f"{label} returned {type(out).__name__}."
                )
            rmse = _scalar(out[0], label, case)
            psnr = _scalar(out[1], label, case)
            want_rmse, want_psnr = metrics(img, recon, mask=mask)
            all_rmse = metrics(img, recon)[0]
            obs_rmse = metrics(img, recon, mask=~mask)[0]
            k = int(mask.sum())
            if not _close(rmse, want_rmse, 1e-4):
                if _close(rmse, all_rmse, 1e-4):
                    hint = (
                        f" That is the RMSE of all {_num(mask.numel())} "
                        f"pixels; score only the {_num(k)} missing ones "
                        "(img[:, mask])."
                    )
                elif _close(rmse, obs_rmse, 1e-4):
                    hint = (
                        " That is the RMSE of the observed pixels: in a "
                        "mask True means missing."
                    )
                elif _close(rmse, want_rmse**2, 1e-4):
                    hint = " That is the MSE: take its square root."
                elif _close(rmse, want_rmse * math.sqrt(3), 1e-4):
                    hint = (
                        f" You divided by the {_num(k)} pixels, not by "
                        f"the {_num(3 * k)} values (3 channels each)."
                    )
                else:
                    hint = ""
                raise _Fail(
                    f"case {case!r}: your RMSE is {rmse:.5f}, expected "
                    f"{want_rmse:.5f}.{hint}"
                )
            if not _close(psnr, want_psnr, 1e-4):
                if _close(psnr, -10 * math.log10(want_rmse), 1e-4):
                    hint = (
                        " That is 10 log10(1 / RMSE): use the MSE, "
                        "10 log10(1 / MSE) = 20 log10(1 / RMSE)."
                    )
                elif _close(psnr, -20 * math.log(want_rmse), 1e-4):
                    hint = " Decibels use log10, not the natural log."
                else:
                    hint = ""
                raise _Fail(
                    f"case {case!r}: your RMSE is right but your PSNR is "
                    f"{psnr:.3f} dB, expected {want_psnr:.3f} dB.{hint}"
                )

    return _run(
        "scores_on_missing",
        fn,
        body,
        "RMSE and PSNR on the missing pixels of two masks agree with "
        "mh.metrics(img, recon, mask=mask)",
    )


# ------------------------------------------------------- gradient descent


def observed_loss(fn):
    """Check ``fn(X, A) -> loss``: the mean squared error on observed entries.

    ``A`` is (m, n) with NaN at the missing entries, ``X`` the model's
    (m, n) matrix; the loss is the mean of ``(X - A)**2`` over the entries
    where ``A`` is not NaN (:func:`matfill_helpers.methods.gd.zero_fit_loss`
    with ``loss="mean"`` of ``A - X``).
    """
    g = _gen(3)
    cases = []
    for m, n, prop in ((64, 48, 0.4), (20, 30, 0.8)):
        A = torch.rand(m, n, generator=g, dtype=torch.float64)
        mask = torch.rand(m, n, generator=g) < prop
        A[mask] = float("nan")
        X = torch.rand(m, n, generator=g, dtype=torch.float64)
        cases.append((f"{m} x {n}, {prop:.0%} hidden", X, A))

    def body(fn, label):
        for case, X, A in cases:
            Xc, Ac = X.clone(), A.clone()
            out = _call(fn, label, case, (Xc, Ac))
            _unchanged(X, Xc, "X", case, label)
            _unchanged(A, Ac, "A", case, label)
            got = _scalar(out, label, case)
            want = zero_fit_loss((A - X)[None], "mean").item()
            if _close(got, want, 1e-5):
                continue
            total = A.numel()
            seen = int((~torch.isnan(A)).sum())
            if math.isnan(got):
                raise _Fail(
                    f"case {case!r}: your loss is NaN: the missing "
                    "entries hold NaN, and one NaN makes the whole sum "
                    "NaN. Leave them out (A[observed]) before squaring."
                )
            zeros = (X - torch.nan_to_num(A)).pow(2).mean().item()
            if _close(got, want * seen / total, 1e-5) or _close(
                got, zeros, 1e-5
            ):
                hidden = round(100 * (total - seen) / total)
                raise _Fail(
                    f"case {case!r}: your loss counts the missing "
                    f"entries: with {hidden} % hidden it should use "
                    f"{_num(seen)} entries, it used {_num(total)}. Average "
                    "over the observed entries only (~torch.isnan(A))."
                )
            if _close(got, want * seen, 1e-5):
                raise _Fail(
                    f"case {case!r}: your loss is {got:.4f}, the sum of "
                    f"the squared errors; divide by the {_num(seen)} "
                    f"observed entries for the mean, {want:.5f}."
                )
            if _close(got, math.sqrt(want), 1e-5):
                raise _Fail(
                    f"case {case!r}: your loss is the square root of the "
                    f"mean ({got:.5f}); the loss is the mean itself, "
                    f"{want:.5f}."
                )
            if _close(got, want / 2, 1e-5):
                raise _Fail(
                    f"case {case!r}: your loss is half the mean; drop "
                    f"the factor 1/2 here: expected {want:.5f}."
                )
            raise _Fail(
                f"case {case!r}: your loss is {got:.5f}, expected "
                f"{want:.5f} (the mean of (X - A)\u00b2 over the "
                f"{_num(seen)} observed entries)."
            )

    return _run(
        "observed_loss",
        fn,
        body,
        "the mean squared error over the observed entries only, at 40 % "
        "and 80 % hidden, without changing X or A",
    )


# -------------------------------------------------------------------- als


def ridge_row(fn):
    """Check ``fn(a, H, ridge) -> w``: one ALS row update.

    ``a`` is a row (n,) with NaN at its missing entries, ``H`` the fixed
    factor (r, n); ``w`` (r,) minimises the squared error on the observed
    entries plus ``ridge * |w|**2``. The reference is
    :func:`matfill_helpers.methods.als.solve_rows`.
    """
    g = _gen(4)
    d = torch.float64
    cases = []
    for n, r, prop, lam in ((30, 4, 0.5, 0.5), (12, 3, 0.25, 2.0)):
        a = torch.rand(n, generator=g, dtype=d)
        a[torch.rand(n, generator=g) < prop] = float("nan")
        H = torch.randn(r, n, generator=g, dtype=d)
        case = f"n = {n}, r = {r}, {prop:.0%} hidden, ridge {lam}"
        cases.append((case, a, H, lam))

    def solve(a, H, lam, observed=None):
        if observed is None:
            observed = ~torch.isnan(a)
        M = observed.to(H.dtype)[None, None]  # (1, 1, n)
        A0 = torch.nan_to_num(a)[None, None]
        return solve_rows(M, A0, H[None], lam)[0, 0]  # (r,)

    def body(fn, label):
        for case, a, H, lam in cases:
            ac, Hc = a.clone(), H.clone()
            out = _call(fn, label, case, (ac, Hc, lam))
            _unchanged(a, ac, "a", case, label)
            _unchanged(H, Hc, "H", case, label)
            r = H.shape[0]
            got = _tensor(out, label, case)
            if got.numel() == r and tuple(got.shape) != (r,):
                raise _Fail(
                    f"case {case!r}: your w has shape {tuple(got.shape)}; "
                    f"return a vector of shape ({r},) (.reshape(-1) or "
                    "solve with a vector right-hand side)."
                )
            got = _tensor(out, label, case, (r,))
            want = solve(a, H, lam)
            if torch.allclose(got, want, atol=1e-6):
                continue
            n_i = int((~torch.isnan(a)).sum())
            if torch.isnan(got).any():
                raise _Fail(
                    f"case {case!r}: your w holds NaN: the missing "
                    "entries of a are NaN. Keep only the observed "
                    "columns: H[:, observed] and a[observed]."
                )
            every = torch.ones_like(a, dtype=torch.bool)
            if torch.allclose(got, solve(a, H, lam, every), atol=1e-6):
                raise _Fail(
                    f"case {case!r}: you used the missing entries as "
                    f"zeros: the row has {n_i} observed entries of "
                    f"{a.numel()}; use only those columns of H."
                )
            if torch.allclose(got, solve(a, H, 0.0), atol=1e-6):
                raise _Fail(
                    f"case {case!r}: your w has no ridge: add "
                    f"ridge * I ({r} x {r}) to H_o H_o^T."
                )
            if torch.allclose(got, solve(a, H, lam * n_i), atol=1e-6):
                raise _Fail(
                    f"case {case!r}: your ridge is scaled by the {n_i} "
                    "observed entries (ALS-WR); here it is ridge * I."
                )
            diff = (got - want).abs().max().item()
            raise _Fail(
                f"case {case!r}: your w is {_vec(got)}, expected "
                f"{_vec(want)} (largest difference {diff:.2g}). Solve "
                "(H_o H_o^T + ridge I) w = H_o a_o."
            )

    return _run(
        "ridge_row",
        fn,
        body,
        "two rows with missing entries agree with the package's ALS row "
        "solve, without changing a or H",
    )


def _vec(t):
    return "[" + ", ".join(f"{v:.3f}" for v in t.tolist()) + "]"


# ------------------------------------------------------------- softimpute


def soft_svd(fn):
    """Check ``fn(A, lam) -> Z``: singular-value soft-thresholding.

    ``Z = U (S - lam)_+ V^T`` for the SVD ``A = U S V^T`` of an (m, n)
    matrix; the reference is
    :func:`matfill_helpers.methods.softimpute.soft_threshold`.
    """
    g = _gen(5)
    d = torch.float64
    A = torch.randn(10, 7, generator=g, dtype=d)
    S0 = torch.linalg.svdvals(A)
    cases = [
        ("10 x 7, lam between singular values", A, float(S0[2] + S0[3]) / 2),
        ("6 x 9, small lam", torch.randn(6, 9, generator=g, dtype=d), 0.1),
        ("10 x 7, lam above the largest", A, float(S0[0]) + 0.5),
    ]

    def body(fn, label):
        for case, A, lam in cases:
            Ac = A.clone()
            out = _call(fn, label, case, (Ac, lam))
            _unchanged(A, Ac, "A", case, label)
            if isinstance(out, tuple | list):
                raise _Fail(
                    f"case {case!r}: {label} returned {len(out)} things; "
                    "return only the matrix Z."
                )
            got = _tensor(out, label, case, tuple(A.shape))
            want = soft_threshold(A[None], lam)[0][0]
            if torch.allclose(got, want, atol=1e-6):
                continue
            U, S, Vh = torch.linalg.svd(A, full_matrices=False)
            hard = (U * torch.where(S > lam, S, 0)) @ Vh
            if torch.allclose(got, hard, atol=1e-6):
                raise _Fail(
                    f"case {case!r}: you kept the singular values above "
                    f"{lam:.3f} unchanged (hard thresholding); soft "
                    "thresholding also subtracts lam from each: "
                    "(S - lam).clamp_min(0)."
                )
            if torch.allclose(got, (U * (S - lam)) @ Vh, atol=1e-6):
                raise _Fail(
                    f"case {case!r}: some S - lam are negative "
                    f"(the smallest is {float(S[-1] - lam):.3f}); clip "
                    "them at 0: (S - lam).clamp_min(0)."
                )
            entry = torch.sign(A) * (A.abs() - lam).clamp_min(0)
            if torch.allclose(got, entry, atol=1e-6):
                raise _Fail(
                    f"case {case!r}: you thresholded the entries of A; "
                    "threshold its singular values (torch.linalg.svd)."
                )
            err = (got - want).abs().max().item()
            raise _Fail(
                f"case {case!r}: your Z differs from U (S - lam)_+ V^T "
                f"by up to {err:.3g} in an entry (lam = {lam:.3f})."
            )

    return _run(
        "soft_svd",
        fn,
        body,
        "three matrices, lam below, between and above the singular "
        "values, agree with the package's soft_threshold",
    )


# ------------------------------------------------------------- completion


def dof_count(fn):
    """Check ``fn(m, n, r) -> int``: the degrees of freedom of rank ``r``.

    An m x n matrix of rank r (r <= min(m, n)) has ``r (m + n - r)``
    degrees of freedom: the ``r (m + n)`` entries of W and H, less the
    ``r**2`` of an invertible G with ``WH = (WG)(G^-1 H)``.
    """
    cases = [
        ("a 128 x 128 channel, rank 20", 128, 128, 20),
        ("60 x 40, rank 2", 60, 40, 2),
        ("50 x 200, rank 3", 50, 200, 3),
        ("5 x 5, rank 5 (full)", 5, 5, 5),
    ]

    def body(fn, label):
        for case, m, n, r in cases:
            got = _scalar(_call(fn, label, case, (m, n, r)), label, case)
            want = r * (m + n - r)
            if got == want:
                continue
            hint = ""
            if got == r * (m + n):
                hint = (
                    f" That counts the {_num(r * (m + n))} entries of W "
                    f"and H, but WH = (WG)(G\u207b\u00b9H) for every "
                    f"invertible {r} x {r} G: subtract its r\u00b2 = "
                    f"{_num(r * r)} entries."
                )
            elif got == m * n:
                hint = " That is every entry of the matrix, m n."
            elif got == r * (m + n - 1):
                hint = " Subtract r\u00b2, not r."
            raise _Fail(
                f"case {case!r} gives {_num(got)}, expected "
                f"{_num(want)} = r (m + n - r).{hint}"
            )

    return _run(
        "dof_count",
        fn,
        body,
        "four shapes and ranks, full rank included, give r (m + n - r)",
    )


# -------------------------------------------------------------------- rff


def fourier_features(fn):
    """Check ``fn(x, B, phi) -> Z``: random Fourier features.

    ``x`` (N, d) coordinates, ``B`` (d, D) frequencies, ``phi`` (D,) phases;
    ``Z = sqrt(2 / D) cos(x B + phi)``, shape (N, D), the features of
    :func:`matfill_helpers.create_rff_features` for given frequencies.
    """
    g = _gen(6)
    cases = []
    for N, D, ell in ((12, 50, 2.0), (7, 200, 4.0)):
        x = torch.randint(0, 16, (N, 2), generator=g).float()
        B = torch.randn(2, D, generator=g) / ell
        phi = torch.rand(D, generator=g) * 2 * math.pi
        cases.append((f"{N} points, D = {D}, width {ell}", x, B, phi))

    def body(fn, label):
        for case, x, B, phi in cases:
            args = (x.clone(), B.clone(), phi.clone())
            out = _call(fn, label, case, args)
            for name, a, b in zip(("x", "B", "phi"), (x, B, phi), args):
                _unchanged(a, b, name, case, label)
            N, D = x.shape[0], B.shape[1]
            got = _tensor(out, label, case, (N, D))
            arg = x.double() @ B.double() + phi.double()  # (N, D)
            want = math.sqrt(2 / D) * torch.cos(arg)
            if torch.allclose(got, want, atol=1e-4):
                continue
            if torch.allclose(got, torch.cos(arg), atol=1e-4):
                raise _Fail(
                    f"case {case!r}: you left out the factor "
                    f"sqrt(2 / D) = {math.sqrt(2 / D):.4f}; without it "
                    "z(x)\u1d40z(x') estimates D k(x, x')/2, not "
                    "k(x, x')."
                )
            if torch.allclose(got, want / math.sqrt(2), atol=1e-4):
                raise _Fail(
                    f"case {case!r}: your scale is sqrt(1 / D); with "
                    "cosines it is sqrt(2 / D) (a cosine squared "
                    "averages 1/2)."
                )
            sin = math.sqrt(2 / D) * torch.sin(arg)
            if torch.allclose(got, sin, atol=1e-4):
                raise _Fail(
                    f"case {case!r}: you used sin; the features are "
                    "cosines, cos(x B + phi)."
                )
            nophi = math.sqrt(2 / D) * torch.cos(x.double() @ B.double())
            if torch.allclose(got, nophi, atol=1e-4):
                raise _Fail(
                    f"case {case!r}: you left out the phases phi: "
                    "cos(x B + phi)."
                )
            err = (got - want).abs().max().item()
            raise _Fail(
                f"case {case!r}: your features differ from "
                f"sqrt(2 / D) cos(x B + phi) by up to {err:.3g}."
            )

    return _run(
        "fourier_features",
        fn,
        body,
        "two sets of coordinates and frequencies give "
        "sqrt(2 / D) cos(x B + phi) of shape (N, D)",
    )


# ------------------------------------------------------------- experiment


def paired_difference(fn):
    """Check ``fn(a, b) -> (mean, sd)`` of the differences ``a - b``.

    ``a`` and ``b`` are lists of scores of two methods on the same masks
    (one per seed); the result is the mean and the sample standard
    deviation (divided by ``k - 1``) of the ``k`` paired differences, as
    ``statistics.fmean`` and ``statistics.stdev`` give.
    """
    g = _gen(7)
    cases = []
    for k in (5, 8):
        base = 25 + 3 * torch.randn(k, generator=g, dtype=torch.float64)
        a = base + 0.8 + 0.2 * torch.randn(k, generator=g, dtype=torch.float64)
        cases.append((f"{k} seeds", base.add(0).tolist(), a.tolist()))

    def body(fn, label):
        for case, b, a in cases:
            ac, bc = list(a), list(b)
            out = _call(fn, label, case, (ac, bc))
            if ac != a or bc != b:
                raise _Fail(
                    f"case {case!r}: {label} changed its input lists; "
                    "leave them as they are."
                )
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise _Fail(
                    f"case {case!r}: return two numbers, (mean, sd); "
                    f"{label} returned {type(out).__name__}."
                )
            mean, sd = (_scalar(v, label, case) for v in out)
            d = torch.tensor(a) - torch.tensor(b)
            k = len(a)
            want_mean, want_sd = d.mean().item(), d.std().item()
            if not _close(mean, want_mean, 1e-6):
                hint = ""
                if _close(mean, -want_mean, 1e-6):
                    hint = " The sign is flipped: it is a - b."
                raise _Fail(
                    f"case {case!r}: your mean difference is {mean:.4f}, "
                    f"expected {want_mean:.4f}.{hint}"
                )
            if _close(sd, want_sd, 1e-6):
                continue
            sa = torch.tensor(a).std().item()
            sb = torch.tensor(b).std().item()
            if _close(sd, d.std(correction=0).item(), 1e-6):
                hint = (
                    f" You divided by k = {k}; the sample standard "
                    f"deviation divides by k - 1 = {k - 1} "
                    "(statistics.stdev, torch.std)."
                )
            elif _close(sd, math.hypot(sa, sb), 1e-6) or _close(
                sd, abs(sa - sb), 1e-6
            ):
                hint = (
                    " You combined the two methods' spreads "
                    f"({sa:.3f} and {sb:.3f}) as if unpaired; pair the "
                    "scores seed by seed and take the sd of the "
                    "differences, which removes what the seeds share."
                )
            else:
                hint = ""
            raise _Fail(
                f"case {case!r}: your sd is {sd:.4f}, expected "
                f"{want_sd:.4f}.{hint}"
            )

    return _run(
        "paired_difference",
        fn,
        body,
        "the mean and the sample sd of the paired differences a - b, for "
        "5 and 8 seeds",
    )


# -------------------------------------------------------- beyond low rank


def extract_patches(fn):
    """Check ``fn(img, p, stride) -> P``: the p x p patches of an image.

    ``img`` (3, m, n); the patches start at rows and columns 0, stride,
    2 stride, ... up to m - p (and n - p); ``P`` has one row per patch,
    row-major over the positions, each row ``img[:, i:i+p, j:j+p]``
    flattened (channel first): shape (N, 3 p p), as
    ``torch.nn.functional.unfold``.
    """
    g = _gen(8)
    cases = [
        ("12 x 10 image, 4 x 4 patches, stride 2", (12, 10), 4, 2),
        ("9 x 9 image, 3 x 3 patches, stride 3", (9, 9), 3, 3),
        ("7 x 11 image, 5 x 5 patches, stride 1", (7, 11), 5, 1),
    ]
    cases = [
        (case, torch.rand(3, *size, generator=g), p, s)
        for case, size, p, s in cases
    ]

    def body(fn, label):
        for case, img, p, s in cases:
            x = img.clone()
            out = _call(fn, label, case, (x, p, s))
            _unchanged(img, x, "img", case, label)
            want = torch.nn.functional.unfold(img[None].double(), p, stride=s)[
                0
            ].T  # (N, 3 p p)
            N, width = want.shape
            got = _tensor(out, label, case)
            if tuple(got.shape) == (width, N) and width != N:
                raise _Fail(
                    f"case {case!r}: your result has shape "
                    f"{tuple(got.shape)}, expected ({N}, {width}): one "
                    "row per patch (transpose it)."
                )
            if got.ndim != 2 or got.shape[1] != width:
                raise _Fail(
                    f"case {case!r}: your result has shape "
                    f"{tuple(got.shape)}; each patch should be one row "
                    f"of 3 x {p} x {p} = {width} values."
                )
            if got.shape[0] != N:
                m, n = img.shape[1:]
                rows, cols = (m - p) // s + 1, (n - p) // s + 1
                raise _Fail(
                    f"case {case!r}: you have {got.shape[0]} patches, "
                    f"expected {N} = {rows} x {cols}: the last patch "
                    f"starts at row m - p = {m - p} and column n - p = "
                    f"{n - p} (range(0, m - p + 1, stride))."
                )
            if torch.allclose(got, want, atol=1e-6):
                continue
            last = want.reshape(N, 3, p, p).permute(0, 2, 3, 1)
            if torch.allclose(got, last.reshape(N, width), atol=1e-6):
                raise _Fail(
                    f"case {case!r}: your rows put the channel last "
                    "(p, p, 3); flatten img[:, i:i+p, j:j+p] as it is, "
                    "channel first."
                )
            same_set = torch.allclose(
                got.sort(0).values, want.sort(0).values, atol=1e-6
            )
            if same_set:
                raise _Fail(
                    f"case {case!r}: you have the right patches in "
                    "another order: go over the rows i, then within a "
                    "row over the columns j."
                )
            raise _Fail(
                f"case {case!r}: patch 0 should be "
                f"img[:, 0:{p}, 0:{p}] flattened; yours differs by up "
                f"to {(got[0] - want[0]).abs().max().item():.3g}."
            )

    return _run(
        "extract_patches",
        fn,
        body,
        "three images, patch sizes and strides match "
        "torch.nn.functional.unfold, and img is left unchanged",
    )
