"""Loading images as (3, H, W) float32 tensors in [0, 1].

The two bundled samples are scikit-learn's ``china.jpg`` and ``flower.jpg`` (CC BY 2.0, see the
preface for credits); nothing is downloaded.
"""

from __future__ import annotations

import numbers
import os

import numpy as np
import torch

from ._validation import _describe, _fail

SAMPLES = ("china", "flower")


def _read(name_or_path):
    if name_or_path in SAMPLES:
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name_or_path}.jpg")  # (H, W, 3) uint8
    path = os.fspath(name_or_path)
    if not os.path.isfile(path):
        _fail(
            "load_image",
            "name_or_path",
            f"one of {list(SAMPLES)} or the path of an existing image file",
            repr(path),
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode in ("RGBA", "LA") or (
                im.mode == "P" and "transparency" in im.info
            ):
                im = im.convert("RGBA")
                background = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(
                    background, im
                )  # transparent -> white
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        _fail(
            "load_image",
            "name_or_path",
            "a readable PNG or JPEG file",
            f"{path!r} ({err})",
        )


def load_image(name_or_path="china", *, size=None):
    """Load an RGB image as a float32 tensor of shape (3, H, W) with values in [0, 1].

    Parameters
    ----------
    name_or_path : str or path-like
        ``"china"`` or ``"flower"`` (scikit-learn's bundled samples, 427 x 640), or the path of a
        PNG/JPEG file. RGBA is composited on white, greyscale is repeated to three channels.
    size : int or (int, int), optional
        Centre-crop to ``(size, size)`` or ``(h, w)``.

    Returns
    -------
    img : torch.Tensor of shape (3, H, W), float32 in [0, 1], on the CPU

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
            "a str or path-like",
            _describe(name_or_path),
            exc=TypeError,
        )
    arr = _read(name_or_path)
    img = (
        torch.from_numpy(np.array(arr, dtype=np.uint8, copy=True))
        .permute(2, 0, 1)
        .float()
        / 255.0
    )  # (3, H, W)
    if size is not None:
        img = center_crop(img, size)
    return img.contiguous()


def center_crop(img, size):
    """Crop the centre ``(h, w)`` (or ``(size, size)``) of a (C, H, W) tensor.

    >>> center_crop(torch.zeros(3, 10, 20), (4, 6)).shape
    torch.Size([3, 4, 6])
    """
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
            "load_image",
            "size",
            "an int or a pair of ints (h, w)",
            _describe(size),
            exc=TypeError,
        )
    if h < 1 or w < 1:
        _fail("load_image", "size", "positive", repr(size))
    H, W = img.shape[-2:]
    if h > H or w > W:
        _fail(
            "load_image",
            "size",
            f"at most the image size ({H}, {W})",
            repr(size),
            "Choose a smaller size.",
        )
    top, left = (H - h) // 2, (W - w) // 2
    return img[..., top : top + h, left : left + w]


def to_hwc(img):
    """A (3, H, W) tensor as an (H, W, 3) NumPy array for ``plt.imshow`` (NaN shown as is).

    >>> to_hwc(torch.zeros(3, 2, 5)).shape
    (2, 5, 3)
    """
    return img.detach().cpu().permute(1, 2, 0).numpy()
