"""Loading images as (3, m, n) float32 tensors in [0, 1].

The two bundled samples are scikit-learn's ``china.jpg`` and ``flower.jpg`` (CC BY 2.0, see the
preface for credits); nothing is downloaded. Files are read with Pillow, upright (as a photo
viewer shows them), at their full bit depth where Pillow provides it.
"""

from __future__ import annotations

import numbers
import os
import warnings

import numpy as np
import torch

from .._validation import _describe, _fail

SAMPLES = ("china", "flower")
_SIXTEEN_BIT = (
    "I;16",
    "I;16L",
    "I;16B",
    "I;16N",
)  # Pillow's 16-bit greyscale modes


def _unreadable(path, err):
    _fail(
        "load_image",
        "name_or_path",
        "a readable image file (PNG, JPEG, TIFF, ...)",
        f"{path!r} ({err})",
    )


def _rescale(arr, path):
    """Float or wide-integer data: kept if already in [0, 1], else min-max rescaled to [0, 1]."""
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        _fail(
            "load_image",
            "name_or_path",
            "an image with finite values",
            f"{path!r} with {int((~np.isfinite(arr)).sum())} NaN or inf values",
        )
    low, high = float(arr.min()), float(arr.max())
    if low >= 0.0 and high <= 1.0:
        return arr
    if high == low:  # a constant image: nothing to stretch
        warnings.warn(
            f"load_image: {path!r} holds the single value {low:.4g}, outside "
            "[0, 1]; with nothing to stretch it is loaded as the constant "
            f"{min(max(low, 0.0), 1.0):g}.",
            stacklevel=5,
        )
        return np.clip(arr, 0.0, 1.0)
    warnings.warn(
        f"load_image: {path!r} holds values in [{low:.4g}, {high:.4g}], outside [0, 1]; "
        "rescaled linearly so that its minimum is 0 and its maximum 1.",
        UserWarning,
        stacklevel=5,  # the caller of load_image
    )
    return (arr - low) / (high - low)


def _to_array(im, path):
    """A Pillow image as (m, n, 3): uint8, or float64 in [0, 1] (the rules of ``load_image``)."""
    from PIL import Image

    if im.mode in _SIXTEEN_BIT:
        grey = np.asarray(im).astype(np.float64) / 65535.0  # (m, n)
    elif im.mode == "I":  # 32-bit integers; 16-bit files often open this way
        data = np.asarray(im)
        if data.min() >= 0 and data.max() <= 65535:
            grey = data.astype(np.float64) / 65535.0
        else:
            grey = _rescale(data, path)
    elif im.mode == "F":  # 32-bit floats (e.g. a float TIFF)
        grey = _rescale(np.asarray(im), path)
    else:
        if "A" in im.mode or "transparency" in im.info:
            im = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, im)  # transparent -> white
        return np.asarray(im.convert("RGB"))  # (m, n, 3) uint8
    return np.repeat(grey[:, :, None], 3, axis=2)  # (m, n) -> (m, n, 3)


def _read(name_or_path):
    if isinstance(name_or_path, str) and name_or_path in SAMPLES:
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name_or_path}.jpg")  # (m, n, 3) uint8
    path = os.fspath(name_or_path)
    if not os.path.isfile(path):
        _fail(
            "load_image",
            "name_or_path",
            f"one of {list(SAMPLES)} or the path of an existing image file",
            repr(path),
        )
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:  # refuses a decompression bomb itself
            im = ImageOps.exif_transpose(
                im
            )  # upright, as a photo viewer shows it
            return _to_array(im, path)
    except Image.DecompressionBombError as err:
        _fail(
            "load_image",
            "name_or_path",
            f"an image of at most {2 * Image.MAX_IMAGE_PIXELS} pixels (Pillow's "
            "limit against decompression bombs)",
            f"{path!r} ({err})",
            "Shrink the file first, or raise PIL.Image.MAX_IMAGE_PIXELS if "
            "you trust it.",
        )
    except (UnidentifiedImageError, OSError, ValueError) as err:
        if isinstance(err, ValueError) and str(err).startswith("load_image:"):
            raise
        _unreadable(path, err)


def load_image(name_or_path="china", *, size=None):
    """Load an RGB image as a float32 tensor of shape (3, m, n) with values in [0, 1].

    Parameters
    ----------
    name_or_path : str or path-like
        ``"china"`` or ``"flower"`` (scikit-learn's bundled samples, 427 x 640), or the path of an
        image file Pillow reads (PNG, JPEG, TIFF, GIF, BMP, WebP ...; of a multi-frame file, the
        first frame). How values become [0, 1]:

        - 8-bit data (RGB, greyscale, palette, RGBA) is divided by 255; 16-bit greyscale by
          65535, so a 16-bit gradient keeps its 65536 levels. (Pillow reads 16-bit *colour* PNGs
          at 8 bits.)
        - Float data (a 32-bit float TIFF) and 32-bit integer data above 65535 are kept as they
          are when already in [0, 1], and otherwise rescaled linearly so that the minimum becomes
          0 and the maximum 1, with a ``UserWarning`` saying so. NaN or inf is a ``ValueError``.
        - Transparency (RGBA, greyscale + alpha, palette with a transparent colour) is composited
          on white. Greyscale is repeated to three channels.
        - A JPEG's EXIF orientation is applied: the image comes back upright.
    size : int or (int, int), optional
        Centre-crop to ``(size, size)`` or ``(h, w)``.

    Returns
    -------
    img : torch.Tensor of shape (3, m, n), float32 in [0, 1], on the CPU

    Examples
    --------
    >>> img = load_image("china", size=64)
    >>> img.shape, img.dtype
    (torch.Size([3, 64, 64]), torch.float32)
    >>> load_image("flower", size=(40, 60)).shape
    torch.Size([3, 40, 60])
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        _fail(
            "load_image",
            "name_or_path",
            f"a str (one of {list(SAMPLES)} or a file path) or path-like",
            _describe(name_or_path),
            exc=TypeError,
        )
    arr = _read(name_or_path)  # (m, n, 3), uint8 or float64 in [0, 1]
    img = torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1)
    if img.dtype == torch.uint8:
        img = img.float() / 255.0  # (3, m, n)
    else:
        img = img.to(torch.float32).clamp_(0.0, 1.0)
    if size is not None:
        img = _crop(img, size, func="load_image")
    return img.contiguous()


def _check_size(size, *, func):
    """``size`` (an int, or a pair of ints (h, w)) as positive ``(h, w)``, or a clear error."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        h = w = int(size)
    elif (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool)
            for s in size
        )
    ):
        h, w = (int(s) for s in size)
    else:
        _fail(
            func,
            "size",
            "an int or a pair of ints (h, w)",
            _describe(size),
            exc=TypeError,
        )
    if h < 1 or w < 1:
        _fail(func, "size", "positive", repr(size))
    return h, w


def _crop(img, size, *, func):
    h, w = _check_size(size, func=func)
    H, W = img.shape[-2:]
    if h > H or w > W:
        _fail(
            func,
            "size",
            f"at most the image size ({H}, {W})",
            repr(size),
            "Choose a smaller size.",
        )
    top, left = (H - h) // 2, (W - w) // 2
    return img[..., top : top + h, left : left + w]


def center_crop(img, size):
    """Crop the centre ``(h, w)`` (or ``(size, size)``) of a (C, m, n) tensor (a view).

    >>> center_crop(torch.zeros(3, 10, 20), (4, 6)).shape
    torch.Size([3, 4, 6])
    """
    if not isinstance(img, torch.Tensor):
        _fail(
            "center_crop",
            "img",
            "a torch.Tensor",
            _describe(img),
            exc=TypeError,
        )
    if img.ndim < 2:
        _fail(
            "center_crop",
            "img",
            "a tensor of shape (..., m, n)",
            f"shape {tuple(img.shape)}",
        )
    if img.ndim == 3 and img.shape[2] in (3, 4) and img.shape[0] not in (3, 4):
        _fail(
            "center_crop",
            "img",
            "a tensor of shape (C, m, n), channels first",
            f"shape {tuple(img.shape)}, channels last",
            "Move the channels first with .permute(2, 0, 1).",
        )
    return _crop(img, size, func="center_crop")


def to_hwc(img):
    """A (C, m, n) tensor as an (m, n, C) NumPy array for ``plt.imshow`` (NaN shown as is).

    The array is a copy: writing into it never changes ``img``. Its dtype is the tensor's,
    except bfloat16 (which NumPy lacks), returned as float32.

    >>> to_hwc(torch.zeros(3, 2, 5)).shape
    (2, 5, 3)
    """
    if not isinstance(img, torch.Tensor):
        _fail("to_hwc", "img", "a torch.Tensor", _describe(img), exc=TypeError)
    if img.ndim != 3:
        _fail(
            "to_hwc",
            "img",
            "a tensor of shape (C, m, n)",
            f"shape {tuple(img.shape)}",
            "For a greyscale (m, n) image use img[None]."
            if img.ndim == 2
            else None,
        )
    if img.layout != torch.strided or img.is_meta:
        _fail(
            "to_hwc",
            "img",
            "a dense tensor that holds data",
            _describe(img) + f" ({img.layout}, on {img.device})",
            "Convert with .to_dense()."
            if img.layout != torch.strided
            else None,
            exc=TypeError,
        )
    x = img.detach()
    if x.dtype == torch.bfloat16:
        x = x.float()
    return x.cpu().permute(1, 2, 0).numpy().copy()  # (m, n, C), never a view
