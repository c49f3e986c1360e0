"""Input checks shared by every public function (private).

Every message follows one template:
``"<function>: '<argument>' must be <expected>; got <actual>."`` (+ the fix where there is one).
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
    if type(x).__module__ == "numpy" and hasattr(x, "shape"):
        return f"a NumPy {x.dtype} array of shape {tuple(x.shape)}"
    text = " ".join(repr(x).split())  # one line
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(x).__name__} {text}"


_SEED_LIMIT = 2**64  # torch.Generator.manual_seed takes seeds in [0, 2**64)
_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_ACCELERATORS = ("cuda", "mps", "xpu")


def check_generator(generator, *, func="check_generator"):
    """Return a CPU ``torch.Generator`` from ``None``, an ``int`` seed or a generator.

    ``None`` gives a freshly (non-deterministically) seeded generator; the global RNG is never
    used. Seeds are ints in [0, 2**64). Random draws happen on the CPU (then move to the data's
    device), so the same seed gives the same result on every device; a CUDA generator is refused.

    >>> g = check_generator(0)
    >>> same = torch.Generator().manual_seed(0)
    >>> torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=same))
    True
    """
    if generator is None:
        g = torch.Generator()
        g.seed()
        return g
    if isinstance(generator, torch.Generator):
        if generator.device.type != "cpu":
            _fail(
                func,
                "generator",
                "a CPU torch.Generator (random draws happen on the CPU)",
                f"a generator on {str(generator.device)!r}",
                "Use torch.Generator() or an int seed; results still come back on the "
                "input's device.",
            )
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(
        generator, bool
    ):
        if not 0 <= generator < _SEED_LIMIT:
            _fail(
                func,
                "generator",
                "a non-negative int seed below 2**64, a torch.Generator or None",
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


def check_device(device, *, func, name="device"):
    """Return ``None`` or a usable ``torch.device`` from ``None``, a ``str`` or a ``torch.device``.

    Unknown names, the data-less ``"meta"`` device and devices this machine does not have are
    refused with a ``ValueError`` saying what to use instead; other types with a ``TypeError``.

    >>> check_device("cpu", func="reconstruct")
    device(type='cpu')
    >>> check_device(None, func="reconstruct") is None
    True
    """
    fix = "Use device=None (the input's device), 'cpu' or mh.default_device()."
    if device is None:
        return None
    if isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            _fail(
                func,
                name,
                "a device name such as 'cpu', 'cuda', 'cuda:0' or 'mps'",
                repr(device),
                fix,
            )
    elif isinstance(device, torch.device):
        dev = device
    else:
        _fail(
            func,
            name,
            "None, a str such as 'cuda' or a torch.device",
            _describe(device),
            exc=TypeError,
        )
    if dev.type == "cpu":
        return dev
    if dev.type == "meta":
        _fail(
            func,
            name,
            "a device that holds data",
            "'meta' (tensors there have shapes but no values)",
            fix,
        )
    if dev.type not in _ACCELERATORS:
        _fail(
            func,
            name,
            "a 'cpu', 'cuda', 'mps' or 'xpu' device",
            repr(str(dev)),
            fix,
        )
    backend = (
        torch.backends.mps
        if dev.type == "mps"
        else getattr(torch, dev.type, None)
    )
    available = backend is not None and backend.is_available()
    if not available:
        build = ""
        if dev.type == "cuda" and torch.version.cuda is None:
            build = ": this torch is built without CUDA"
        _fail(
            func,
            name,
            "a device available on this machine",
            f"{str(dev)!r}, which is not available{build}",
            fix,
        )
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if dev.index is not None and dev.index >= count:
        _fail(
            func,
            name,
            f"a {dev.type} device index in [0, {count - 1}]",
            repr(str(dev)),
            fix,
        )
    return dev


def _dtype_fix(x):
    if x.dtype == torch.bool:
        return "Convert with .float()."
    if x.is_complex():
        return "Take .real or .abs() first."
    if x.is_floating_point():  # float8 and other exotic floats
        return "Convert with .float()."
    return "Convert with .float() / 255 (8-bit data) or .float() / 65535 (16-bit)."


def check_tensor(x, *, func, name="img"):
    """Check a dense real floating tensor (float16, bfloat16, float32 or float64) with data.

    Returns it detached from any autograd graph (the helpers never differentiate through their
    inputs), never a copy.
    """
    if not isinstance(x, torch.Tensor):
        fix = None
        if type(x).__module__ == "numpy":
            fix = "Convert with torch.from_numpy(x)."
        _fail(func, name, "a torch.Tensor", _describe(x), fix, exc=TypeError)
    if x.layout != torch.strided:
        _fail(
            func,
            name,
            "a dense tensor",
            f"a {x.layout} tensor",
            "Convert with .to_dense().",
            exc=TypeError,
        )
    if x.is_meta:
        _fail(
            func,
            name,
            "a tensor that holds data",
            "a tensor on the 'meta' device",
        )
    if x.dtype not in _FLOATS:
        _fail(
            func,
            name,
            "a floating-point tensor (float32; float16, bfloat16 and float64 also work)",
            f"dtype {x.dtype}",
            _dtype_fix(x),
            exc=TypeError,
        )
    return x.detach()


def _shape_fix(shape):
    if len(shape) == 3 and shape[2] in (3, 4) and shape[0] not in (3, 4):
        return "Move the channels first with .permute(2, 0, 1)."
    if len(shape) == 2 or (len(shape) == 3 and shape[0] == 1):
        return "For a greyscale image use .expand(3, m, n)."
    if len(shape) == 3 and shape[0] == 4:
        return "Drop the alpha channel with img[:3]."
    if len(shape) == 4 and shape[0] == 1:
        return "Drop the batch dimension with img[0]."
    return "Use mh.load_image to get one."


def check_image(img, *, func, name="img", allow_nan=False):
    """Check a (3, m, n) float image in [0, 1]; NaN allowed (as 'missing') only if ``allow_nan``.

    ``allow_nan=True`` takes a masked image: NaN marks a missing pixel, so it must be NaN in all
    three channels (one pass over ``isnan``, shared with the other checks); ``allow_nan="any"``
    takes NaN anywhere (images that are only displayed). Returns the image detached from any
    autograd graph (see :func:`check_tensor`).

    >>> x = torch.zeros(3, 2, 2)
    >>> x[0, 0, 0] = float("nan")  # missing in channel 0 only
    >>> try:
    ...     check_image(x, func="f", name="masked", allow_nan=True)
    ... except ValueError as err:
    ...     print(str(err).split("; ")[1].split(". ")[0])
    got NaN in 1 pixel of channel 0 that is observed in channel 1
    """
    if type(img).__module__ == "numpy" and getattr(img, "ndim", 0) == 3:
        hwc = img.shape[2] in (3, 4) and img.shape[0] not in (3, 4)
        convert = "torch.from_numpy(a)" + (".permute(2, 0, 1)" if hwc else "")
        if str(img.dtype) == "uint8":
            convert += ".float() / 255"
        _fail(
            func,
            name,
            "a torch.Tensor of shape (3, m, n)",
            _describe(img),
            f"Convert with {convert}.",
            exc=TypeError,
        )
    img = check_tensor(img, func=func, name=name)
    if img.ndim != 3 or img.shape[0] != 3:
        _fail(
            func,
            name,
            "a tensor of shape (3, m, n)",
            f"shape {tuple(img.shape)}",
            _shape_fix(tuple(img.shape)),
        )
    if img.shape[1] < 1 or img.shape[2] < 1:
        _fail(func, name, "a non-empty image", f"shape {tuple(img.shape)}")
    nan = torch.isnan(img)
    if not allow_nan and bool(nan.any()):
        _fail(
            func,
            name,
            "free of NaN (NaN marks a missing pixel; this argument takes a complete image)",
            f"{int(nan.sum())} NaN values",
        )
    if allow_nan is True:
        _check_whole_pixels(nan, func=func, name=name)
    vals = img[~nan]
    if bool(torch.isinf(vals).any()):
        _fail(func, name, "finite", "inf values")
    if vals.numel():
        low, high = float(vals.min()), float(vals.max())
        if low < 0.0 or high > 1.0:
            _fail(
                func,
                name,
                "in [0, 1]",
                f"values in [{low:.3g}, {high:.3g}]",
                _range_fix(low, high),
            )
    return img


def _range_fix(low, high):
    """What to do about values outside [0, 1] in ``[low, high]``."""
    if low >= -0.05 and high <= 1.05:  # rounding, or a method's overshoot
        return "Clip it with .clamp(0, 1)."
    if low >= 0.0 and high <= 255.0 and high > 2.0:
        return "Divide 8-bit data by 255."
    return "Rescale it to [0, 1]."


def _check_whole_pixels(nan, *, func, name):
    """``nan`` (3, m, n) bool must be the same in every channel: a pixel is missing or not."""
    if all(torch.equal(nan[0], nan[c]) for c in range(1, nan.shape[0])):
        return  # (m, n) each: a comparison of bytes, cheap on a large photo
    for c in range(nan.shape[0]):
        for d in range(nan.shape[0]):
            count = int((nan[c] & ~nan[d]).sum()) if c != d else 0
            if count:
                _fail(
                    func,
                    name,
                    "NaN at the same pixels in all three channels (a mask of "
                    "shape (m, n))",
                    f"NaN in {count} pixel{'s' if count > 1 else ''} of "
                    f"channel {c} that {'are' if count > 1 else 'is'} "
                    f"observed in channel {d}",
                    f"Mark whole pixels missing: {name}[:, "
                    f"{name}.isnan().any(0)] = float('nan'), or mask a "
                    "complete image with mh.apply_mask(img, mask).",
                )


def check_mask(mask, *, func, shape, name="mask"):
    """Check a bool (m, n) mask of the given ``shape`` (True = missing)."""
    if not isinstance(mask, torch.Tensor):
        fix = None
        if type(mask).__module__ == "numpy":
            fix = "Convert with torch.from_numpy(mask)."
        _fail(
            func,
            name,
            "a bool torch.Tensor",
            _describe(mask),
            fix,
            exc=TypeError,
        )
    if mask.layout != torch.strided or mask.is_meta:
        _fail(
            func,
            name,
            "a dense tensor that holds data",
            "a tensor on the 'meta' device"
            if mask.is_meta
            else f"a {mask.layout} tensor",
            "Convert with .to_dense()."
            if mask.layout != torch.strided
            else None,
            exc=TypeError,
        )
    if mask.dtype != torch.bool:
        _fail(
            func,
            name,
            "a bool tensor (True = missing)",
            f"dtype {mask.dtype}",
            "Convert with .bool() (nonzero = missing).",
            exc=TypeError,
        )
    if tuple(mask.shape) != tuple(shape):
        per_channel = mask.ndim == 3 and tuple(mask.shape[1:]) == tuple(shape)
        _fail(
            func,
            name,
            f"of shape {tuple(shape)}",
            f"shape {tuple(mask.shape)}",
            "A pixel is missing in all channels: use mask.any(0)."
            if per_channel
            else None,
        )
    return mask


def _shortest(value, same):
    """The shortest decimal that ``same`` accepts (rounds back to ``value`` in its dtype)."""
    if not math.isfinite(value):
        return value
    for digits in range(1, 18):
        short = float(f"{value:.{digits}g}")
        if same(short):
            return short
    return value


def _plain_number(v, dtype=None):
    """A NumPy scalar as a Python number; ``dtype``: the float dtype ``v`` was read from.

    A float of less than 64 bits becomes the shortest decimal that rounds to it in its own
    dtype: ``np.float32(0.2)`` is ``0.2``, not ``0.20000000298023224``.
    """
    if type(v).__module__ == "numpy" and hasattr(v, "dtype"):
        if v.dtype.kind == "b":
            return bool(v)
        if v.dtype.kind in "iu":
            return int(v)
        if v.dtype.kind == "f":
            dtype, v = v.dtype, float(v)
    if dtype is None or not isinstance(v, float):
        return v
    if isinstance(dtype, torch.dtype):
        return _shortest(v, lambda y: torch.tensor(y, dtype=dtype).item() == v)
    return _shortest(v, lambda y: float(dtype.type(y)) == v)


def check_list(x, *, func, name, what):
    """A non-empty list from a list, tuple, range or 1-D array (pass one value as ``[x]``).

    Values come back as Python numbers, as the caller wrote them: NumPy scalars become ``int``
    or ``float``, and a float stored in fewer than 64 bits (a float32 array or tensor, a
    ``np.float32``) becomes the shortest decimal that rounds to it in its dtype, so
    ``torch.tensor([0.2])`` gives ``[0.2]`` and a dict keyed by its values is found with 0.2.

    >>> check_list(torch.tensor([0.2, 0.5]), func="f", name="props", what="floats")
    [0.2, 0.5]
    """
    dtype = None
    if isinstance(x, (list, tuple, range)):
        values = list(x)
    elif (
        isinstance(x, torch.Tensor) or type(x).__module__ == "numpy"
    ) and getattr(x, "ndim", None) == 1:
        if isinstance(x, torch.Tensor):
            x = x.detach()
            if x.is_floating_point() and x.dtype != torch.float64:
                dtype = x.dtype
        elif x.dtype.kind == "f" and x.dtype.itemsize < 8:
            dtype = x.dtype
        values = x.tolist()
    else:
        _fail(
            func,
            name,
            f"a list of {what}",
            _describe(x),
            f"For one value pass [{x!r}]."
            if isinstance(x, numbers.Real)
            else None,
            exc=TypeError,
        )
    if not values:
        _fail(func, name, f"a non-empty list of {what}", repr(x)[:120])
    return [_plain_number(v, dtype) for v in values]


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
    """One of ``choices``; a value of the wrong type (e.g. a list for a str) is a ``TypeError``."""
    kinds = {type(c) for c in choices}
    if len(kinds) == 1 and not isinstance(x, tuple(kinds)):
        kind = next(iter(kinds)).__name__
        _fail(
            func,
            name,
            f"a {kind}, one of {sorted(choices)}",
            _describe(x),
            exc=TypeError,
        )
    if x not in choices:
        _fail(func, name, f"one of {sorted(choices)}", repr(x))
    return x
