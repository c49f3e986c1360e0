import numpy as np
import pytest
import torch
from PIL import Image

import matfill_helpers as mh


@pytest.mark.parametrize("name", ["china", "flower"])
def test_load_image_returns_float_chw_in_unit_range(name):
    img = mh.load_image(name)
    assert img.shape == (3, 427, 640)
    assert img.dtype == torch.float32
    assert 0.0 <= img.min() and img.max() <= 1.0


def test_load_image_center_crops_to_size():
    full = mh.load_image("china")
    crop = mh.load_image("china", size=(100, 200))
    top, left = (427 - 100) // 2, (640 - 200) // 2
    torch.testing.assert_close(
        crop, full[:, top : top + 100, left : left + 200]
    )
    assert mh.load_image("china", size=50).shape == (3, 50, 50)


def test_load_image_reads_png_rgba_and_greyscale(tmp_path):
    rgba = np.zeros((5, 7, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0  # transparent pixel -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = mh.load_image(tmp_path / "a.png")
    assert img.shape == (3, 5, 7)
    assert img[:, 1, 1].tolist() == [1.0, 0.0, 0.0]
    assert img[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    Image.fromarray(np.full((4, 6), 128, dtype=np.uint8), "L").save(
        tmp_path / "g.jpg"
    )
    grey = mh.load_image(str(tmp_path / "g.jpg"))
    assert grey.shape == (3, 4, 6)
    torch.testing.assert_close(grey[0], grey[2])


def test_load_image_rejects_missing_file():
    with pytest.raises(
        ValueError,
        match=r"load_image: 'name_or_path' must be .*existing image file.*nope.png",
    ):
        mh.load_image("nope.png")


def test_load_image_rejects_unreadable_file(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(
        ValueError,
        match=r"load_image: 'name_or_path' must be a readable image file",
    ):
        mh.load_image(bad)


@pytest.mark.parametrize(
    "size, exc, match",
    [
        (
            500,
            ValueError,
            r"'size' must be at most the image size \(427, 640\); got 500",
        ),
        ((10, 700), ValueError, r"at most the image size"),
        (0, ValueError, r"'size' must be positive"),
        ("big", TypeError, r"'size' must be an int or a pair of ints"),
    ],
)
def test_load_image_rejects_bad_size(size, exc, match):
    with pytest.raises(exc, match=match):
        mh.load_image("china", size=size)


def test_load_image_rejects_non_path():
    with pytest.raises(
        TypeError, match=r"'name_or_path' must be a str .* or path-like; got int"
    ):
        mh.load_image(3)


def test_to_hwc_is_channels_last(small_img):
    arr = mh.to_hwc(small_img)
    assert arr.shape == (48, 64, 3)
    np.testing.assert_array_equal(arr[..., 1], small_img[1].numpy())
