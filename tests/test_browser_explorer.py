import base64
import importlib
import inspect
import json
import pathlib
import re
from importlib import resources

import numpy as np
import pytest
import tomllib
import torch

import matfill_helpers as mh

be = importlib.import_module(
    "matfill_helpers.explore.browser_explorer"
)  # the module, not the function
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def img():
    return mh.load_image("flower", size=(24, 32))


@pytest.fixture(scope="module")
def ex(img):
    return mh.BrowserExplorer(
        img, rank=5, prop=0.3, seed=4, max_rank=20, title="t </script> x"
    )


def _block_mean(arr, f):
    """Reference: average f x f blocks of an (3, m, n) array of 8-bit levels, halves rounded up."""
    c, h, w = arr.shape
    means = arr.reshape(c, h // f, f, w // f, f).mean(axis=(2, 4))
    return np.floor(means + 0.5) / 255


# fit_image: the page's photo path, in Python


def test_fit_image_of_a_whole_factor_averages_blocks_and_rounds_halves_up():
    g = torch.Generator().manual_seed(0)
    levels = torch.randint(0, 256, (3, 12, 18), generator=g).double()
    out = mh.fit_image((levels / 255).float(), (4, 6))
    expected = _block_mean(levels.numpy(), 3)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-7)
    two = torch.tensor([[[10.0, 11.0]]]).expand(3, 1, 2) / 255
    assert round(float(mh.fit_image(two, (1, 1))[0, 0, 0]) * 255) == 11


def test_fit_image_keeps_the_centred_window_of_a_wide_image():
    img = torch.zeros(3, 10, 30)
    img[:, :, 10:20] = 1.0  # the centre third is white, the sides black
    out = mh.fit_image(img, 5)
    assert out.shape == (3, 5, 5) and bool((out == 1.0).all())
    tall = torch.zeros(3, 30, 10)
    tall[:, 10:20] = 1.0
    assert bool((mh.fit_image(tall, (5, 5)) == 1.0).all())


def test_fit_image_averages_fractional_overlaps():
    # 3 source columns -> 2: each output column covers one and a half, the middle one is shared
    img = torch.tensor([0.0, 1.0, 0.0]).view(1, 1, 3).expand(3, 3, 3)
    out = mh.fit_image(img, 2)  # (0 * 1 + 1 * 0.5) / 1.5 = 1/3 = 85 / 255
    assert (out[0] * 255).round().tolist() == [[85.0] * 2] * 2


def test_fit_image_enlarges_a_small_image():
    img = torch.tensor([[0.0, 1.0]]).expand(3, 2, 2).clone()
    out = mh.fit_image(img, 4)
    assert out[0, 0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_fit_image_returns_8_bit_levels():
    img = torch.rand(3, 17, 23, generator=torch.Generator().manual_seed(1))
    out = mh.fit_image(img, (7, 9)) * 255
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, out.round(), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "size, exc", [("big", TypeError), (0, ValueError), ((4, 0), ValueError)]
)
def test_fit_image_rejects_bad_sizes(size, exc):
    with pytest.raises(exc, match="fit_image: 'size' must be"):
        mh.fit_image(torch.zeros(3, 4, 4), size)


# BrowserExplorer: the HTML and the data it embeds


def test_browser_explorer_embeds_the_8_bit_pixels_and_the_setting(img, ex):
    d = ex.data
    assert (d["height"], d["width"]) == (24, 32)
    raw = np.frombuffer(base64.b64decode(d["pixels"]), dtype=np.uint8)
    pixels = torch.from_numpy(raw.reshape(24, 32, 3).copy()).permute(2, 0, 1)
    torch.testing.assert_close(pixels.float() / 255, img, atol=1e-6, rtol=0)
    assert (d["rank"], d["percent"], d["seed"], d["maxRank"]) == (5, 30, 4, 20)
    als = inspect.signature(
        importlib.import_module("matfill_helpers.methods.als").factorize_als
    )
    assert d["options"] == {
        "ridge": als.parameters["ridge"].default,
        "maxSweeps": als.parameters["max_sweeps"].default,
        "tol": als.parameters["tol"].default,
        "centre": be._als_centres(),
    }


def test_browser_explorer_first_view_is_explore_setting(img, ex):
    out = mh.explore_setting(img, prop=0.3, rank=5, seed=4)
    assert ex.data["initial"]["psnrMissing"] == out["psnr_missing"]
    assert ex.data["initial"]["rmse"] == out["rmse"]
    assert (
        f'id="{ex.uid}-psnr-missing">{out["psnr_missing"]:.2f} dB<' in ex.html
    )
    torch.testing.assert_close(ex.initial["recon"], out["recon"])


def test_browser_explorer_rounds_the_image_to_8_bits():
    img = torch.full((3, 8, 8), 0.5001)
    ex = mh.BrowserExplorer(img, rank=2, prop=0.5, max_rank=4)
    assert bool((ex.img == 128 / 255).all())


def test_browser_explorer_html_inlines_both_scripts_and_the_style(ex):
    html = ex.html
    assert (
        be.js_source("als.js") in html and be.js_source("explorer.js") in html
    )
    assert be.js_source("explorer.css").replace("#UID", f"#{ex.uid}") in html
    assert f'MatfillExplorer.start("{ex.uid}")' in html
    assert html.count('type="range"') == 2
    assert 'type="file"' in html and 'accept="image/*"' in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch


def test_browser_explorer_json_parses_and_the_title_cannot_close_a_script(ex):
    m = re.search(
        r'<script type="application/json" id="([^"]+)-data">(.*?)</script>',
        ex.html,
        re.S,
    )
    assert m and m.group(1) == ex.uid and json.loads(m.group(2)) == ex.data
    assert "t &lt;/script&gt; x" in ex.html
    assert (
        ex.html.lower().count("</script") == 4
    )  # data, als.js, explorer.js, start


def test_browser_explorer_ids_are_unique_and_prefixed_by_the_uid(img):
    a = mh.BrowserExplorer(img, rank=2, max_rank=4)
    b = mh.BrowserExplorer(img, rank=2, max_rank=4)
    assert a.uid != b.uid
    for ex in (a, b):
        ids = re.findall(r'\bid="([^"]+)"', ex.html)
        assert ids and all(
            i == ex.uid or i.startswith(ex.uid + "-") for i in ids
        )
        assert len(ids) == len(set(ids))
        for target in re.findall(r'\bfor="([^"]+)"', ex.html):
            assert target in ids  # every label names a control


def test_browser_explorer_caps_max_rank_at_the_image_size(img):
    ex = mh.BrowserExplorer(img, rank=3, max_rank=500)
    assert ex.data["maxRank"] == 24 and 'max="24"' in ex.html


def test_browser_explorer_passes_the_als_options(img):
    ex = mh.BrowserExplorer(
        img, rank=3, max_rank=8, ridge=0.5, max_sweeps=7, tol=1e-3
    )
    assert ex.data["options"]["ridge"] == 0.5
    assert ex.data["options"]["maxSweeps"] == 7
    out = mh.explore_setting(
        img, prop=0.4, rank=3, seed=0, ridge=0.5, max_sweeps=7, tol=1e-3
    )
    assert ex.data["initial"]["psnr"] == out["psnr"]


def test_the_page_centres_exactly_when_the_python_als_does(monkeypatch):
    def centred(masked, *, rank, generator=None, **options):
        mu = masked.nanmean(dim=(1, 2), keepdim=True)  # (3, 1, 1)
        return torch.zeros_like(masked) + mu  # W @ H = 0: the mean alone

    def uncentred(masked, *, rank, generator=None, **options):
        return torch.zeros_like(masked)

    for method, expected in ((centred, True), (uncentred, False)):
        monkeypatch.setitem(mh.METHODS, "als", method)
        assert be._als_centres() is expected
    monkeypatch.undo()
    centres = be._als_centres()  # the helpers as they are
    pixel = torch.full((3, 1, 1), 0.8)
    recon = mh.reconstruct(pixel, rank=1, method="als")
    assert centres == bool(torch.allclose(recon, pixel))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(rank=9), ValueError, r"'rank' must be an int in \[1, 8\]"),
        (dict(prop=0.333), ValueError, "'prop' must be a whole percentage"),
        (dict(prop=0.99), ValueError, r"'prop' must be a float in \[0.05"),
        (dict(prop="half"), TypeError, "'prop' must be a float"),
        (dict(seed=2**31), ValueError, "'seed' must be an int in"),
        (dict(title=3), TypeError, "'title' must be a str"),
        (dict(display_px=4), ValueError, "'display_px' must be an int in"),
    ],
)
def test_browser_explorer_rejects_bad_arguments(img, kwargs, exc, match):
    with pytest.raises(exc, match="BrowserExplorer: " + match):
        mh.BrowserExplorer(img, **{"rank": 2, "max_rank": 8, **kwargs})


def test_browser_explorer_function_fits_a_sample_and_checks_options():
    ex = mh.browser_explorer("flower", size=(20, 30), rank=3, max_rank=6)
    full = mh.load_image("flower")
    torch.testing.assert_close(ex.img, mh.fit_image(full, (20, 30)))
    assert ex.data["sampleName"] == "flower (scikit-learn sample)"
    with pytest.raises(ValueError, match="browser_explorer: 'lr' must be"):
        mh.browser_explorer(size=16, rank=2, lr=0.1)


def test_browser_explorer_save_writes_a_standalone_mobile_page(tmp_path, ex):
    text = ex.save(tmp_path / "live.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and ex.html in text
    assert 'name="viewport" content="width=device-width' in text


def test_js_source_rejects_an_unknown_file():
    with pytest.raises(ValueError, match="js_source: 'name' must be one of"):
        be.js_source("../als.py")


def test_every_file_in_js_ships_as_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setup = config["tool"]["setuptools"]
    assert "matfill_helpers.explore.js" in setup["packages"]
    patterns = setup["package-data"]["matfill_helpers.explore.js"]
    folder = resources.files("matfill_helpers.explore").joinpath("js")
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert names == ["als.js", "explorer.css", "explorer.js"]
    for name in names:
        assert any(name.endswith(p.lstrip("*")) for p in patterns), name


def test_every_subpackage_ships():
    # setuptools installs only the packages listed in pyproject.toml: a new folder of modules
    # that is not listed imports from a checkout but is missing from an installed wheel
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]
    package = ROOT / "matfill_helpers"
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in package.rglob("__init__.py")
    }
    # data-only folders (the JavaScript and style) ship as package data
    data = set(setup["package-data"])
    assert data == {"matfill_helpers.explore.js", "matfill_helpers.learn.js"}
    assert set(setup["packages"]) == folders | data
