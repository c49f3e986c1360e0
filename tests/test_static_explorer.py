import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

import matfill_helpers as mh
from matfill_helpers.explore.static_explorer import data_uri, encode_image

PROPS, RANKS = [0.2, 0.6], [2, 5]


@pytest.fixture(scope="module")
def img():
    return mh.load_image("china", size=(24, 32))


@pytest.fixture(scope="module")
def explorer(img):
    return mh.static_explorer(
        img, props=PROPS, ranks=RANKS, seed=3, title="grid </script> test"
    )


def _decode(uri):
    head, b64 = uri.split(",", 1)
    return head, np.asarray(
        Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB")
    )


def test_explore_setting_equals_mask_reconstruct_and_metrics_with_the_same_seed(
    img,
):
    out = mh.explore_setting(img, prop=0.4, rank=3, method="als", seed=7)
    masked, mask = mh.mask_image(img, 0.4, generator=7)
    recon = mh.reconstruct(masked, rank=3, method="als", generator=7)
    torch.testing.assert_close(out["recon"], recon)
    assert torch.equal(out["mask"], mask)
    assert (out["rmse"], out["psnr"]) == mh.metrics(img, recon)
    assert (out["rmse_missing"], out["psnr_missing"]) == mh.metrics(
        img, recon, mask=mask
    )


def test_explore_setting_is_the_same_whatever_ran_before(img):
    a = mh.explore_setting(img, prop=0.3, rank=4, seed=1)
    mh.explore_setting(img, prop=0.7, rank=2, seed=5)
    b = mh.explore_setting(img, prop=0.3, rank=4, seed=1)
    assert torch.equal(a["recon"], b["recon"]) and a["psnr"] == b["psnr"]


def test_explore_setting_without_missing_pixels_reports_nan_for_the_missing_scores(
    img,
):
    out = mh.explore_setting(img, prop=0.0, rank=4, seed=0)
    assert np.isnan(out["psnr_missing"]) and np.isfinite(out["psnr"])


@pytest.mark.parametrize(
    "prop, exc", [(1.0, ValueError), (-0.1, ValueError), ("half", TypeError)]
)
def test_explore_setting_rejects_bad_prop(img, prop, exc):
    with pytest.raises(exc, match="explore_setting: 'prop' must be"):
        mh.explore_setting(img, prop=prop, rank=2)


def test_encode_image_png_is_lossless_and_paints_missing_pixels_magenta():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 5, 7), generator=g).float() / 255
    x[:, 1, 2] = float("nan")
    arr = np.asarray(Image.open(io.BytesIO(encode_image(x))).convert("RGB"))
    expected = (x.permute(1, 2, 0).numpy() * 255).round()
    expected[1, 2] = [255, 0, 255]
    np.testing.assert_array_equal(arr, expected.astype(np.uint8))


def test_encode_image_scale_repeats_each_pixel():
    x = torch.rand(3, 4, 6, generator=torch.Generator().manual_seed(1))
    small = np.asarray(Image.open(io.BytesIO(encode_image(x))))
    big = np.asarray(Image.open(io.BytesIO(encode_image(x, scale=3))))
    assert big.shape == (12, 18, 3)
    np.testing.assert_array_equal(big[::3, ::3], small)


def test_encode_image_rejects_unknown_format():
    with pytest.raises(ValueError, match="encode_image: 'fmt' must be one of"):
        encode_image(torch.zeros(3, 2, 2), fmt="gif")


def test_data_uri_jpeg_decodes_to_the_image_size():
    head, arr = _decode(data_uri(torch.full((3, 9, 11), 0.5), fmt="jpeg"))
    assert head == "data:image/jpeg;base64" and arr.shape == (9, 11, 3)


def test_static_explorer_embeds_every_setting_with_its_scores(img, explorer):
    d = explorer.data
    assert d["ranks"] == RANKS and d["props"] == PROPS
    assert len(d["masked"]) == 2 and [len(row) for row in d["recon"]] == [2, 2]
    for i, p in enumerate(PROPS):
        for j, r in enumerate(RANKS):
            out = mh.explore_setting(img, prop=p, rank=r, seed=3)
            assert d["psnr"][i][j] == round(out["psnr"], 2)
            assert d["rmse_missing"][i][j] == round(out["rmse_missing"], 4)
            _, arr = _decode(d["recon"][i][j])
            assert arr.shape == (24, 32, 3)
    assert (
        len({u for row in d["recon"] for u in row}) == 4
    )  # four different images


def test_static_explorer_masked_image_shows_the_mask_in_magenta(img, explorer):
    _, arr = _decode(explorer.data["masked"][1])
    mask = mh.explore_setting(img, prop=PROPS[1], rank=RANKS[0], seed=3)[
        "mask"
    ].numpy()
    magenta = np.all(arr == [255, 0, 255], axis=2)
    np.testing.assert_array_equal(magenta, mask)


def test_static_explorer_html_has_two_range_sliders_and_parsable_embedded_json(
    explorer,
):
    html = explorer.html
    assert html.count('type="range"') == 2
    m = re.search(
        r'<script type="application/json" id="([^"]+)-data">(.*?)</script>',
        html,
        re.S,
    )
    assert m and m.group(1) == explorer.uid
    assert json.loads(m.group(2)) == explorer.data
    assert html.count("</script>") == 2  # the title's "</script>" is escaped
    assert "grid &lt;/script&gt; test" in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch


def test_static_explorer_ids_are_prefixed_by_a_uid_unique_per_explorer(img):
    a = mh.static_explorer(img, props=[0.5], ranks=[2])
    b = mh.static_explorer(img, props=[0.5], ranks=[2])
    assert a.uid != b.uid
    for ex in (a, b):
        ids = re.findall(r'\bid="([^"]+)"', ex.html)
        assert ids and all(
            i == ex.uid or i.startswith(ex.uid + "-") for i in ids
        )
        assert len(ids) == len(set(ids))


def test_static_explorer_shows_the_requested_setting_first(img):
    ex = mh.static_explorer(
        img, props=PROPS, ranks=RANKS, prop=0.6, rank=2, seed=3
    )
    assert 'data-setting="1,0"' in ex.html
    assert f'id="{ex.uid}-psnr">{ex.data["psnr"][1][0]:.2f} dB<' in ex.html
    assert f'src="{ex.data["recon"][1][0]}"' in ex.html


def test_static_explorer_accepts_run_grid_results(img):
    res = mh.run_grid(img, props=[0.3], ranks=[2, 3], generator=0)
    ex = mh.StaticExplorer(img, res, props=[0.3], ranks=[2, 3], fmt="png")
    assert ex.data["psnr"][0][1] == round(res[(0.3, 3)]["psnr"], 2)


def test_static_explorer_rejects_a_grid_with_a_missing_setting(img):
    res = mh.run_grid(img, props=[0.3], ranks=[2], generator=0)
    with pytest.raises(
        ValueError,
        match=r"StaticExplorer: 'results' must be a result for every \(prop, rank\)",
    ):
        mh.StaticExplorer(img, res, props=[0.3], ranks=[2, 3])


def test_static_explorer_save_writes_a_standalone_page(tmp_path, img):
    ex = mh.static_explorer(img, props=[0.5], ranks=[2])
    path = ex.save(tmp_path / "explorer.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and ex.html in text
