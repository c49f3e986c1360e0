import math

import pytest
import torch

import matfill_helpers as mh

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def img():
    return mh.load_image("flower", size=(28, 36))


@pytest.fixture
def ui(img):
    return mh.explorer(
        img,
        rank=4,
        prop=0.3,
        seed=2,
        max_rank=12,
        static_ranks=(2, 4),
        static_props=(0.3, 0.5),
        options={"gd": {"steps": 40}},
    )


def _expected(img, *, prop, rank, seed, method="als", **options):
    masked, mask = mh.mask_image(img, prop, generator=seed)
    recon = mh.reconstruct(
        masked, rank=rank, method=method, generator=seed, **options
    )
    return recon, mh.metrics(img, recon), mh.metrics(img, recon, mask=mask)


def test_explorer_shows_the_initial_setting_on_creation(img, ui):
    recon, (rmse, psnr), (rmse_m, psnr_m) = _expected(
        img, prop=0.3, rank=4, seed=2
    )
    r = ui.result
    assert (r["method"], r["rank"], r["prop"], r["seed"]) == ("als", 4, 0.3, 2)
    assert (r["rmse"], r["psnr"], r["rmse_missing"], r["psnr_missing"]) == (
        rmse,
        psnr,
        rmse_m,
        psnr_m,
    )
    torch.testing.assert_close(r["recon"], recon)
    assert (
        bytes(ui.original_image.value)[:4]
        == bytes(ui.recon_image.value)[:4]
        == b"\x89PNG"
    )
    assert f"{psnr:.2f} dB" in ui.scores.value


def test_moving_the_rank_slider_recomputes_synchronously(img, ui):
    before = ui.recon_image.value
    masked_before = ui.masked_image.value
    ui.rank_slider.value = 9
    recon, (rmse, psnr), (_, psnr_m) = _expected(img, prop=0.3, rank=9, seed=2)
    assert ui.result["rank"] == 9 and not ui.result["cached"]
    assert (
        ui.result["rmse"],
        ui.result["psnr"],
        ui.result["psnr_missing"],
    ) == (rmse, psnr, psnr_m)
    torch.testing.assert_close(ui.result["recon"], recon)
    assert ui.recon_image.value != before
    assert (
        ui.masked_image.value == masked_before
    )  # same proportion and seed: same mask


def test_moving_the_prop_slider_changes_the_mask_and_the_scores(img, ui):
    masked_before, psnr_before = ui.masked_image.value, ui.result["psnr"]
    ui.prop_slider.value = 0.7
    _, (_, psnr), (_, psnr_m) = _expected(img, prop=0.7, rank=4, seed=2)
    assert ui.masked_image.value != masked_before
    assert (ui.result["psnr"], ui.result["psnr_missing"]) == (psnr, psnr_m)
    assert psnr != psnr_before


def test_returning_to_a_setting_is_a_cache_hit_with_the_same_output(ui):
    first = dict(ui.result), ui.recon_image.value
    ui.rank_slider.value = 7
    assert (ui.misses, ui.hits) == (2, 0)
    ui.rank_slider.value = 4
    assert ui.result["cached"] and (ui.misses, ui.hits) == (2, 1)
    assert (
        ui.result["psnr"] == first[0]["psnr"]
        and ui.recon_image.value == first[1]
    )


def test_float_slider_rounding_shares_a_cache_entry(ui):
    ui.prop_slider.value = (
        0.1 + 0.2
    )  # 0.30000000000000004, the slider's own step arithmetic
    assert ui.result["cached"] and ui.result["prop"] == 0.3


def test_seed_box_and_method_dropdown_drive_the_computation(img, ui):
    ui.seed_box.value = 5
    _, (_, psnr), _ = _expected(img, prop=0.3, rank=4, seed=5)
    assert ui.result["seed"] == 5 and ui.result["psnr"] == psnr
    ui.method_dropdown.value = "gd"
    _, (_, psnr_gd), _ = _expected(
        img, prop=0.3, rank=4, seed=5, method="gd", steps=40
    )
    assert ui.result["method"] == "gd" and ui.result["psnr"] == psnr_gd


def test_method_options_are_passed_to_their_method(img):
    opts = {"gd": dict(mh.GD_TUNED, steps=30)}
    ui = mh.explorer(
        img, method="gd", rank=3, prop=0.4, seed=1, options=opts, static=False
    )
    _, (_, psnr), _ = _expected(
        img, prop=0.4, rank=3, seed=1, method="gd", **opts["gd"]
    )
    assert ui.result["psnr"] == psnr


def test_rank_free_method_disables_the_rank_slider(ui):
    assert not ui.rank_slider.disabled
    ui.method_dropdown.value = "rff"
    assert ui.rank_slider.disabled
    ui.method_dropdown.value = "als"
    assert not ui.rank_slider.disabled


def test_display_offers_the_live_widget_and_the_browser_explorer(ui):
    bundle = ui._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == ui.widget.model_id
    html = bundle["text/html"]
    assert 'class="matfill-explorer mfx-live"' in html
    assert html.count('type="range"') == 2
    assert (
        f'max="{ui.rank_slider.max}"' in html
    )  # every rank the widget offers
    assert "Explorer(" in bundle["text/plain"]


def test_browser_explorer_starts_at_the_current_setting(ui):
    ui.rank_slider.value = 6
    ui.prop_slider.value = 0.45
    ex = ui.browser_explorer(title="now")
    assert (ex.data["rank"], ex.data["percent"], ex.data["seed"]) == (6, 45, 2)
    assert ex.data["maxRank"] == ui.rank_slider.max == 12
    assert ex.data["initial"]["psnr"] == ui.result["psnr"]  # an 8-bit image
    assert ex.data["initial"]["psnrMissing"] == ui.result["psnr_missing"]


def test_browser_explorer_of_another_method_is_refused(ui):
    ui.method_dropdown.value = "gd"
    with pytest.raises(
        ValueError, match="Explorer.browser_explorer: 'method' must be 'als'"
    ):
        ui.browser_explorer()


def test_display_of_a_gd_explorer_is_the_precomputed_grid(img):
    ui = mh.explorer(
        img,
        method="gd",
        rank=2,
        max_rank=4,
        static_ranks=(2,),
        static_props=(0.5,),
        options={"gd": {"steps": 5}},
    )
    html = ui._repr_mimebundle_()["text/html"]
    assert 'class="matfill-explorer"' in html and "mfx-live" not in html


def test_explorer_loads_a_sample_whole_and_fits_it_to_the_default_size():
    ui = mh.explorer(rank=2, max_rank=4, static=False)
    assert ui.img.shape == (3, 96, 96)
    torch.testing.assert_close(
        ui.img, mh.fit_image(mh.load_image("china"), 96)
    )


def test_static_explorer_agrees_with_the_live_controls(ui):
    ex = ui.static_explorer()
    assert ex.data["ranks"] == [2, 4] and ex.data["props"] == [0.3, 0.5]
    ui.rank_slider.value = 2
    ui.prop_slider.value = 0.5
    assert ui.result["cached"]  # the static grid filled the cache
    assert ex.data["psnr"][1][0] == round(ui.result["psnr"], 2)
    assert ex.data["psnr_missing"][1][0] == round(ui.result["psnr_missing"], 2)


def test_static_false_offers_only_the_widget(img):
    ui = mh.explorer(img, rank=2, max_rank=4, static=False)
    bundle = ui._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "text/html" not in bundle


def test_static_ranks_above_max_rank_are_dropped(img):
    ui = mh.explorer(
        img,
        rank=2,
        max_rank=6,
        static_ranks=(2, 5, 10, 25),
        static_props=(0.5,),
    )
    assert ui.static_ranks == [2, 5]


def test_sliders_update_lazily_and_rank_slider_stops_at_max_rank(img):
    ui = mh.explorer(img, rank=2, max_rank=100, static=False)
    assert ui.rank_slider.max == 28  # min(m, n)
    assert (
        not ui.rank_slider.continuous_update
        and not ui.prop_slider.continuous_update
    )


def test_cache_keeps_at_most_cache_size_settings(img):
    ui = mh.Explorer(img, rank=2, max_rank=8, static=False, cache_size=2)
    for r in (3, 4, 5):
        ui.rank_slider.value = r
    assert len(ui._cache) == 2
    ui.rank_slider.value = 2
    assert not ui.result["cached"]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(method="svd"), ValueError, "explorer: 'method' must be one of"),
        (dict(rank=0), ValueError, "explorer: 'rank' must be an int in"),
        (dict(rank=2.5), TypeError, "explorer: 'rank' must be an int"),
        (
            dict(prop=1.0),
            ValueError,
            r"explorer: 'prop' must be a float in \[0.05, 0.95\]",
        ),
        (dict(prop="half"), TypeError, "explorer: 'prop' must be a float"),
        (dict(seed=-1), ValueError, "explorer: 'seed' must be an int in"),
        (
            dict(options={"gd": 3}),
            TypeError,
            "explorer: 'options' must be a dict mapping",
        ),
        (
            dict(options={"nope": {}}),
            ValueError,
            "explorer: 'options' must be one of",
        ),
        (dict(static="yes"), TypeError, "explorer: 'static' must be a bool"),
        (
            dict(static_props=(0.5, 1.0)),
            ValueError,
            "explorer: 'static_props' must be a list of floats",
        ),
    ],
)
def test_explorer_rejects_bad_arguments(img, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mh.explorer(img, **{"max_rank": 8, "rank": 2, **kwargs})


def test_explorer_rejects_an_image_outside_0_1():
    with pytest.raises(
        ValueError, match=r"explorer: 'img' must be in \[0, 1\]"
    ):
        mh.explorer(torch.full((3, 8, 8), 2.0), rank=2)


def test_scores_are_finite_for_every_static_setting(ui):
    ex = ui.static_explorer()
    assert all(math.isfinite(v) for row in ex.data["psnr"] for v in row)


def test_close_empties_the_images_and_stops_updating(img):
    ui = mh.explorer(img, rank=2, max_rank=6, static=False)
    ui.close()
    assert (
        bytes(ui.recon_image.value) == b""
        and bytes(ui.original_image.value) == b""
    )
    assert ui.widget.comm is None and ui.rank_slider.comm is None
    misses = ui.misses
    ui.rank_slider.value = 5
    assert ui.misses == misses
