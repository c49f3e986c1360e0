"""Input checks shared by every public function (private).

Every message follows one template: ``"<function>: '<argument>' must be <expected>; got <actual>."``
"""

from __future__ import annotations

import math
import numbers

import torch


def _fail(func, name, expected, got, fix=None, exc=ValueError):
    msg = f"{func}: '{name}' must be {expected}; got {got}."
    if fix:
        msg += f" {fix}"
    raise exc(msg)


def _describe(x):
    if isinstance(x, torch.Tensor):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_generator(generator, *, func="check_generator"):
    """Return a ``torch.Generator`` from ``None``, an ``int`` seed or a generator.

    ``None`` gives a freshly (non-deterministically) seeded generator; the global RNG is never used.

    >>> g = check_generator(0)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=torch.Generator().manual_seed(0)).item()
    True
    """
    if generator is None:
        g = torch.Generator()
        g.seed()
        return g
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(
        generator, bool
    ):
        if generator < 0:
            _fail(
                func,
                "generator",
                "a non-negative int seed, a torch.Generator or None",
                repr(generator),
            )
        return torch.Generator().manual_seed(int(generator))
    _fail(
        func,
        "generator",
        "a torch.Generator, an int seed or None",
        _describe(generator),
        exc=TypeError,
    )


def check_tensor(x, *, func, name="img"):
    if not isinstance(x, torch.Tensor):
        _fail(func, name, "a torch.Tensor", _describe(x), exc=TypeError)
    if not x.is_floating_point():
        _fail(
            func,
            name,
            "a floating-point tensor (float32)",
            f"dtype {x.dtype}",
            "Convert with .float() / 255.",
            exc=TypeError,
        )
    return x


def check_image(img, *, func, name="img", allow_nan=False):
    """Check a (3, H, W) float image in [0, 1]; NaN allowed (as 'missing') only if ``allow_nan``."""
    check_tensor(img, func=func, name=name)
    if img.ndim != 3 or img.shape[0] != 3:
        _fail(
            func,
            name,
            "a tensor of shape (3, H, W)",
            f"shape {tuple(img.shape)}",
            "Use mh.load_image, or permute an (H, W, 3) array with .permute(2, 0, 1).",
        )
    if img.shape[1] < 1 or img.shape[2] < 1:
        _fail(func, name, "a non-empty image", f"shape {tuple(img.shape)}")
    nan = torch.isnan(img)
    if not allow_nan and bool(nan.any()):
        _fail(
            func,
            name,
            "free of NaN (a ground-truth image)",
            f"{int(nan.sum())} NaN values",
        )
    vals = img[~nan]
    if bool(torch.isinf(vals).any()):
        _fail(func, name, "finite", "inf values")
    if vals.numel() and (float(vals.min()) < 0.0 or float(vals.max()) > 1.0):
        _fail(
            func,
            name,
            "in [0, 1]",
            f"values in [{float(vals.min()):.3g}, {float(vals.max()):.3g}]",
            "Divide uint8 images by 255.",
        )
    return img


def check_mask(mask, *, func, shape, name="mask"):
    if not isinstance(mask, torch.Tensor):
        _fail(
            func, name, "a bool torch.Tensor", _describe(mask), exc=TypeError
        )
    if mask.dtype != torch.bool:
        _fail(
            func,
            name,
            "a bool tensor (True = missing)",
            f"dtype {mask.dtype}",
            exc=TypeError,
        )
    if tuple(mask.shape) != tuple(shape):
        _fail(
            func,
            name,
            f"of shape {tuple(shape)}",
            f"shape {tuple(mask.shape)}",
        )
    return mask


def check_prop(prop, *, func, name="prop", low=0.0, high=1.0):
    """A proportion: a real number in [low, high] (default [0, 1]), returned as a float."""
    expected = f"a float in [{low:g}, {high:g}]"
    if isinstance(prop, bool) or not isinstance(prop, numbers.Real):
        _fail(func, name, expected, _describe(prop), exc=TypeError)
    if math.isnan(prop) or not low <= prop <= high:
        _fail(func, name, expected, repr(prop))
    return float(prop)


def check_int(x, *, func, name, low=None, high=None):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        _fail(func, name, "an int", _describe(x), exc=TypeError)
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        _fail(func, name, f"an int in [{lo}, {hi}]", repr(x))
    return int(x)


def check_positive(x, *, func, name, allow_zero=False):
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        _fail(func, name, "a real number", _describe(x), exc=TypeError)
    bad = math.isnan(x) or math.isinf(x) or (x < 0 if allow_zero else x <= 0)
    if bad:
        _fail(
            func,
            name,
            "a finite number >= 0" if allow_zero else "a finite number > 0",
            repr(x),
        )
    return float(x)


def check_choice(x, choices, *, func, name):
    if x not in choices:
        _fail(func, name, f"one of {sorted(choices)}", repr(x))
    return x
