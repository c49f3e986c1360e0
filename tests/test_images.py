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
        TypeError,
        match=r"'name_or_path' must be a str .* or path-like; got int",
    ):
        mh.load_image(3)


def test_to_hwc_is_channels_last(small_img):
    arr = mh.to_hwc(small_img)
    assert arr.shape == (48, 64, 3)
    np.testing.assert_array_equal(arr[..., 1], small_img[1].numpy())


def write_png16(path, arr):
    """Write a 16-bit PNG (greyscale, RGB or RGBA) from a uint16 array: Pillow cannot."""
    import struct
    import zlib

    arr = arr if arr.ndim == 3 else arr[:, :, None]
    h, w, c = arr.shape
    colour_type = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in arr)

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
        )

    header = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def gradient16(h=32, w=64):
    return np.linspace(0, 65535, h * w).round().astype(np.uint16).reshape(h, w)


def test_load_image_reads_16_bit_greyscale_png_with_its_full_gradient(
    tmp_path,
):
    g16 = gradient16()
    Image.fromarray(g16).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode == "I;16"
    img = mh.load_image(tmp_path / "g16.png")
    assert img.shape == (3, 32, 64) and img.dtype == torch.float32
    expected = torch.from_numpy(g16.astype(np.float64) / 65535).float()
    torch.testing.assert_close(img[0], expected, rtol=0, atol=1e-7)
    torch.testing.assert_close(img[1], img[0])
    assert (img[0] == 1.0).float().mean() < 0.01  # not clipped to white
    assert img[0].unique().numel() > 256  # finer than 8 bits


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_load_image_reads_16_bit_greyscale_tiff(tmp_path, mode):
    g16 = gradient16(8, 16)
    im = Image.new(mode, (16, 8))
    im.putdata(g16.flatten().tolist())
    im.save(tmp_path / "g16.tif")
    img = mh.load_image(tmp_path / "g16.tif")
    torch.testing.assert_close(
        img[2], torch.from_numpy(g16 / 65535).float(), rtol=0, atol=1e-7
    )


def test_load_image_reads_16_bit_colour_png_at_8_bits(tmp_path):
    rgb = np.zeros((4, 5, 3), dtype=np.uint16)
    rgb[..., 0] = 65535
    rgb[..., 1] = 32896  # 128.5 / 255 of the range
    rgb[..., 2] = np.arange(5) * 16000
    write_png16(tmp_path / "rgb16.png", rgb)
    img = mh.load_image(tmp_path / "rgb16.png")
    truth = torch.from_numpy(rgb.transpose(2, 0, 1) / 65535).float()
    assert (img - truth).abs().max() <= 1 / 255  # Pillow keeps the top byte


def test_load_image_reads_8_bit_rgb_and_greyscale_png_exactly(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 7, 3), np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    img = mh.load_image(tmp_path / "rgb.png")
    torch.testing.assert_close(
        img, torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    )
    Image.fromarray(rgb[..., 0]).save(tmp_path / "grey.png")
    grey = mh.load_image(tmp_path / "grey.png")
    for c in range(3):
        torch.testing.assert_close(grey[c], img[0])


def palette_image():
    im = Image.new("P", (4, 2))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2, 0, 1, 1, 2, 2])
    return im


def test_load_image_reads_palette_png(tmp_path):
    palette_image().save(tmp_path / "p.png")
    img = mh.load_image(tmp_path / "p.png")
    assert img[:, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert img[:, 0, 1].tolist() == [0.0, 1.0, 0.0]
    assert img[:, 1, 3].tolist() == [0.0, 0.0, 1.0]


def test_load_image_composites_a_transparent_palette_colour_on_white(
    tmp_path,
):
    palette_image().save(tmp_path / "pt.png", transparency=1)  # green
    img = mh.load_image(tmp_path / "pt.png")
    assert img[:, 0, 1].tolist() == [1.0, 1.0, 1.0]  # was green: now white
    assert img[:, 0, 0].tolist() == [1.0, 0.0, 0.0]


def test_load_image_composites_greyscale_with_alpha_on_white(tmp_path):
    la = np.zeros((2, 2, 2), dtype=np.uint8)  # black
    la[..., 1] = [[255, 0], [128, 255]]  # opaque, transparent, half
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    img = mh.load_image(tmp_path / "la.png")
    assert img[0, 0, 0] == 0.0 and img[0, 0, 1] == 1.0
    assert abs(float(img[0, 1, 0]) - 127 / 255) <= 1 / 255


def test_load_image_keeps_a_float_tiff_in_unit_range(tmp_path):
    f = np.linspace(0, 1, 24, dtype=np.float32).reshape(4, 6)
    Image.fromarray(f).save(tmp_path / "f.tif")
    img = mh.load_image(tmp_path / "f.tif")
    torch.testing.assert_close(img[1], torch.from_numpy(f))


def test_load_image_rescales_a_float_tiff_outside_unit_range_and_says_so(
    tmp_path,
):
    f = np.linspace(10, 250, 24, dtype=np.float32).reshape(4, 6)
    Image.fromarray(f).save(tmp_path / "f.tif")
    with pytest.warns(UserWarning, match=r"rescaled linearly") as record:
        img = mh.load_image(tmp_path / "f.tif")
    assert record[0].filename == __file__  # points at the caller's line
    expected = torch.from_numpy((f - 10) / 240).float()
    torch.testing.assert_close(img[0], expected, rtol=0, atol=1e-6)
    assert img.min() == 0.0 and img.max() == 1.0


def test_load_image_reads_32_bit_integer_tiff_as_16_bit_data(tmp_path):
    data = gradient16(4, 6).astype(np.int32)
    Image.fromarray(data).save(tmp_path / "i.tif")
    assert Image.open(tmp_path / "i.tif").mode == "I"
    img = mh.load_image(tmp_path / "i.tif")
    torch.testing.assert_close(
        img[0], torch.from_numpy(data / 65535).float(), rtol=0, atol=1e-7
    )


def test_load_image_rescales_32_bit_integers_beyond_16_bits(tmp_path):
    data = np.array([[-1000, 0], [70000, 140000]], dtype=np.int32)
    Image.fromarray(data).save(tmp_path / "wide.tif")
    with pytest.warns(UserWarning, match=r"\[-1000, 1.4e\+05\]"):
        img = mh.load_image(tmp_path / "wide.tif")
    expected = torch.from_numpy((data + 1000) / 141000).float()
    torch.testing.assert_close(img[0], expected)


def test_load_image_rejects_a_float_tiff_with_nan(tmp_path):
    f = np.zeros((4, 6), dtype=np.float32)
    f[1, 2] = np.nan
    Image.fromarray(f).save(tmp_path / "nan.tif")
    with pytest.raises(
        ValueError,
        match=r"load_image: 'name_or_path' must be an image with finite values; "
        r"got .*nan.tif' with 1 NaN or inf values",
    ):
        mh.load_image(tmp_path / "nan.tif")


def test_load_image_returns_an_exif_rotated_jpeg_upright(tmp_path):
    # stored 20 rows x 40 columns, red block top-left; EXIF 6 = "rotate 90 degrees clockwise
    # to display", so a viewer shows 40 rows x 20 columns with the block at the top right
    stored = np.zeros((20, 40, 3), dtype=np.uint8)
    stored[:8, :8] = [255, 0, 0]
    im = Image.fromarray(stored)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    im.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    img = mh.load_image(tmp_path / "rot.jpg")
    assert img.shape == (3, 40, 20)
    assert img[0, :6, -6:].mean() > 0.9  # red at the top right
    assert img[0, :6, :6].mean() < 0.1
    assert img[0, -6:, -6:].mean() < 0.1


def test_load_image_reads_a_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (5, 3), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    img = mh.load_image(
        tmp_path / "c.jpg"
    )  # cyan 0, magenta and yellow full: red
    assert img.shape == (3, 3, 5)
    assert img[0].min() > 0.9 and img[1:].max() < 0.1


def test_center_crop_and_to_hwc_name_themselves_in_errors():
    with pytest.raises(
        TypeError, match=r"center_crop: 'img' must be a torch.Tensor"
    ):
        mh.center_crop(np.zeros((3, 4, 4)), 2)
    with pytest.raises(
        ValueError, match=r"center_crop: 'size' must be at most"
    ):
        mh.center_crop(torch.zeros(3, 4, 4), 5)
    with pytest.raises(
        ValueError,
        match=r"to_hwc: 'img' must be a tensor of shape \(C, m, n\)",
    ):
        mh.to_hwc(torch.zeros(4, 4))
