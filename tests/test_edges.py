"""Past the front door: what registered methods return, masks that differ between channels,
``smooth_fill``'s input, GD that breaks down with finite values, grid keys from arrays, results
of another image, displayed values and the explorers' entry points.

One parametrised test (or a few) per kind of problem; each case failed before its check existed.
"""

import pathlib
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import matfill_helpers as mh  # noqa: E402
from matfill_helpers.explore import static_explorer as se  # noqa: E402
from matfill_helpers.methods import registry  # noqa: E402

SHIPPED = sorted(mh.METHODS)  # every method the package registers at import


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


@pytest.fixture(scope="module")
def img():
    return mh.load_image(
        "china", size=(12, 16)
    )  # not square: (3, n, m) differs


@pytest.fixture(scope="module")
def masked(img):
    return mh.mask_image(img, 0.4, generator=0)[0]


@pytest.fixture
def probe():
    """Register a method of the test's own under "probe"; removed afterwards."""

    def register(func, **kw):
        mh.register_method("probe", func, **kw)

    yield register
    mh.METHODS.pop("probe", None)
    registry._OPTIONS.pop("probe", None)
    registry._RANKLESS.discard("probe")


def same(a, b):
    return torch.equal(a.nan_to_num(-1.0), b.nan_to_num(-1.0))


# --- A. registered methods --------------------------------------------------------------------


@pytest.mark.parametrize(
    "prepare",
    [
        pytest.param(lambda x: x, id="float32"),
        pytest.param(lambda x: x.double(), id="float64"),
        pytest.param(
            lambda x: x.transpose(1, 2).contiguous().transpose(1, 2),
            id="non-contiguous",
        ),
    ],
)
def test_a_registered_method_never_writes_into_the_callers_image(
    probe, masked, prepare
):
    def vandal(x, *, rank, generator):
        x.fill_(0.5)  # in place: only its own copy may change
        return x

    probe(vandal)
    x = prepare(masked.clone())
    before = x.clone()
    recon = mh.reconstruct(x, rank=2, method="probe")
    assert same(x, before)
    assert bool((recon == 0.5).all())


# (id, what the method returns from its input x, exception, phrase of the message)
BAD_RESULTS = [
    ("one-channel", lambda x: x[:1], ValueError, "shape (1, 12, 16)"),
    ("transposed", lambda x: x.transpose(1, 2), ValueError, "(3, 16, 12)"),
    ("0-d", lambda x: torch.tensor(0.5), ValueError, "shape ()"),
    ("none", lambda x: None, TypeError, "NoneType None"),
    ("numpy", lambda x: x.numpy(), TypeError, "torch.from_numpy"),
    ("tuple", lambda x: (x,), TypeError, "tuple"),
    ("int64", lambda x: x.nan_to_num(0).long(), TypeError, "torch.int64"),
    ("bool", lambda x: x > 0.5, TypeError, "torch.bool"),
]


@pytest.mark.parametrize(
    "result, exc, phrase",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_RESULTS],
)
def test_a_registered_method_returning_a_wrong_result_is_named(
    probe, masked, result, exc, phrase
):
    probe(lambda x, *, rank, generator: result(x))
    with pytest.raises(exc) as err:
        mh.reconstruct(masked, rank=2, method="probe")
    msg = str(err.value)
    assert msg.startswith("reconstruct: method 'probe' returned ")
    assert "expected a torch.Tensor of shape (3, 12, 16)" in msg
    assert phrase in msg


@pytest.mark.parametrize(
    "dtype", [torch.float64, torch.float16, torch.bfloat16]
)
def test_a_registered_method_returning_another_float_dtype_is_converted(
    probe, masked, dtype
):
    probe(lambda x, *, rank, generator: x.nan_to_num(0.25).to(dtype))
    recon = mh.reconstruct(masked, rank=2, method="probe")
    assert recon.dtype == torch.float32 and recon.shape == masked.shape


class NeedsTwoArguments(Exception):
    def __init__(self, code, detail):
        super().__init__(f"{code}: {detail}")


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad alpha"),
        RuntimeError("out of memory"),
        KeyError("alpha"),
        NeedsTwoArguments(7, "odd"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_inside_a_registered_method_names_the_method(
    probe, masked, error
):
    def failing(x, *, rank, generator):
        raise error

    probe(failing)
    with pytest.raises(type(error)) as err:
        mh.reconstruct(masked, rank=2, method="probe")
    told = str(err.value) + " ".join(getattr(err.value, "__notes__", []))
    assert "reconstruct: method 'probe'" in told
    assert str(error) in told  # the original message is kept
    assert err.value is error or err.value.__cause__ is error


@pytest.mark.parametrize("name", SHIPPED)
def test_a_method_the_package_ships_cannot_be_replaced(name):
    before = dict(mh.METHODS)
    with pytest.raises(
        ValueError, match=rf"^register_method: 'name' must be .*got '{name}'"
    ):
        mh.register_method(name, lambda x, *, rank, generator: x)
    assert mh.METHODS == before


def test_the_peers_and_patches_are_among_the_protected_methods():
    assert {"patches", "biharmonic", "tv"} <= set(SHIPPED)


def test_a_method_of_ones_own_can_be_registered_again(probe, masked):
    probe(lambda x, *, rank, generator: x.nan_to_num(0.0))
    probe(lambda x, *, rank, generator: x.nan_to_num(1.0))
    recon = mh.reconstruct(masked, rank=2, method="probe")
    assert bool((recon[:, torch.isnan(masked[0])] == 1.0).all())


@pytest.mark.parametrize(
    "option",
    ["rank", "method", "generator", "device", "keep_observed", "masked_img"],
)
def test_reconstructs_own_keywords_are_refused_as_options(option):
    with pytest.raises(
        ValueError,
        match=rf"^register_method: 'options' must be .*got '{option}'",
    ):
        mh.register_method("probe", lambda x, **k: x, options=[option])
    assert "probe" not in mh.METHODS


# --- B. NaN that differs between channels ---------------------------------------------------


def one_channel_missing(img, masked):
    x = img.clone()
    x[0] = float("nan")  # the red channel entirely, green and blue complete
    return x


def a_few_pixels_in_one_channel(img, masked):
    x = masked.clone()
    x[2, :2, 3:6] = float("nan")
    x[:, :2, 3:6] = x[:, :2, 3:6].nan_to_num(0.5)
    x[2, :2, 3:6] = float("nan")
    return x


ENTRY_POINTS = {
    **{
        f"reconstruct-{m}": lambda x, m=m: mh.reconstruct(
            x, rank=2, method=m, generator=0
        )
        for m in ("als", "gd", "rff", "patches", "softimpute")
    },
    "smooth_fill": lambda x: mh.smooth_fill(x),
    "holdout": lambda x: mh.holdout(x, generator=0),
    "tune": lambda x: mh.tune(x, "als", {"rank": [2]}, generator=0),
}


@pytest.mark.parametrize(
    "pattern", [one_channel_missing, a_few_pixels_in_one_channel]
)
@pytest.mark.parametrize("call", ENTRY_POINTS.values(), ids=ENTRY_POINTS)
def test_nan_that_differs_between_channels_is_refused_at_the_door(
    img, masked, pattern, call
):
    x = pattern(img, masked)
    with pytest.raises(
        ValueError,
        match=r"^\w+: 'masked_img' must be NaN at the same pixels in all three "
        r"channels \(a mask of shape \(m, n\)\); got NaN in \d+ pixels? of channel "
        r"\d that (is|are) observed in channel \d\.",
    ):
        call(x)


def test_the_message_counts_the_pixels_and_names_the_channels(img):
    x = img.clone()
    x[0, 0, :5] = float("nan")
    with pytest.raises(ValueError) as err:
        mh.reconstruct(x, rank=2)
    assert (
        "got NaN in 5 pixels of channel 0 that are observed in channel 1"
        in (str(err.value))
    )


# --- C. smooth_fill checks its input and returns an image -----------------------------------

BAD_FILL_INPUTS = [
    ("hwc", lambda m: m.permute(1, 2, 0), ValueError, ".permute(2, 0, 1)"),
    ("2-D", lambda m: m[0], ValueError, ".expand(3, m, n)"),
    ("uint8", lambda m: (m.nan_to_num(0) * 255).byte(), TypeError, "/ 255"),
    ("0-255", lambda m: m * 255, ValueError, "Divide 8-bit data by 255"),
    (
        "inf",
        lambda m: m.nan_to_num(0).masked_fill(m > 0.9, np.inf),
        ValueError,
        "inf",
    ),
    (
        "all-nan",
        lambda m: torch.full_like(m, np.nan),
        ValueError,
        "at least one observed",
    ),
    ("numpy", lambda m: m.numpy(), TypeError, "torch.from_numpy"),
]


@pytest.mark.parametrize(
    "make, exc, phrase",
    [pytest.param(*c[1:], id=c[0]) for c in BAD_FILL_INPUTS],
)
def test_smooth_fill_refuses_what_reconstruct_refuses(
    masked, make, exc, phrase
):
    with pytest.raises(
        exc, match=r"^smooth_fill: 'masked_img' must be"
    ) as err:
        mh.smooth_fill(make(masked))
    assert phrase in str(err.value)


@pytest.mark.parametrize(
    "dtype, expected",
    [
        (torch.float32, torch.float32),
        (torch.float64, torch.float64),
        (torch.float16, torch.float32),
        (torch.bfloat16, torch.float32),
    ],
)
def test_smooth_fill_is_an_image_in_0_1_of_the_documented_dtype(
    dtype, expected
):
    img = mh.load_image("flower", size=24)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    raw = mh.smooth_fill(masked, clamp=False)
    assert float(raw.min()) < 0  # the fill itself overshoots here ...
    filled = mh.smooth_fill(masked.to(dtype))
    assert filled.dtype == expected
    assert (
        float(filled.min()) >= 0 and float(filled.max()) <= 1
    )  # ... not the image
    mh.metrics(img, filled.float(), mask=mask)  # a valid reconstruction
    torch.testing.assert_close(
        mh.smooth_fill(masked), raw.clamp(0, 1), rtol=0, atol=0
    )


def test_smooth_fill_without_clamp_is_the_start_of_the_patch_method(masked):
    from matfill_helpers.methods.patches import _smooth_fill

    assert torch.equal(
        mh.smooth_fill(masked, clamp=False), _smooth_fill(masked)
    )
    with pytest.raises(
        TypeError, match=r"^smooth_fill: 'clamp' must be a bool"
    ):
        mh.smooth_fill(masked, clamp=1)


# --- D. breakdown with finite values --------------------------------------------------------

BREAKDOWNS = [
    (
        "factorize-lr-1e6",
        lambda A: mh.factorize(A, 2, lr=1e6, steps=50, generator=0),
        r"^factorize: method 'gd' broke down: its loss grew from .* over 50 steps",
    ),
    (
        "factorize-1e30",
        lambda A: mh.factorize(
            torch.full((4, 4), 1e30), 2, steps=20, generator=0
        ),
        r"^factorize: method 'gd' broke down: its loss became inf at step 1 of 20",
    ),
    (
        "reconstruct-lr-1e6",
        lambda A: mh.reconstruct(
            mh.mask_image(mh.load_image("flower", size=24), 0.5, generator=0)[
                0
            ],
            rank=2,
            method="gd",
            lr=1e6,
            steps=50,
            generator=0,
        ),
        r"^reconstruct: method 'gd' broke down: its loss grew from",
    ),
]


@pytest.mark.parametrize(
    "call, match", [pytest.param(*c[1:], id=c[0]) for c in BREAKDOWNS]
)
def test_gd_that_breaks_down_with_finite_values_raises_with_the_fix(
    call, match
):
    A = mh.mask_image(mh.load_image("flower", size=24), 0.5, generator=0)[0][0]
    with pytest.raises(FloatingPointError, match=match) as err:
        call(A)
    assert "Try a smaller 'lr' (default 0.01)" in str(err.value)


@pytest.mark.parametrize("loss", ["norm", "sse", "mse"])
def test_the_blog_posts_gd_on_an_image_does_not_count_as_breakdown(loss):
    img = mh.load_image("china", size=24)
    masked, _ = mh.mask_image(img, 0.8, generator=0)
    W, H, losses = mh.factorize(
        masked[0], 10, method="gd", loss=loss, steps=200, generator=0
    )
    assert losses[-1] < losses[0]


# --- E. grid keys are the numbers the user wrote -------------------------------------------

PROP_FORMS = {
    "list": [0.2],
    "float32-tensor": torch.tensor([0.2]),
    "float16-tensor": torch.tensor([0.2], dtype=torch.float16),
    "bfloat16-tensor": torch.tensor([0.2], dtype=torch.bfloat16),
    "float64-tensor": torch.tensor([0.2], dtype=torch.float64),
    "float32-array": np.array([0.2], dtype=np.float32),
    "float64-array": np.array([0.2]),
    "numpy-scalars": [np.float32(0.2)],
}


@pytest.mark.parametrize("props", PROP_FORMS.values(), ids=PROP_FORMS)
def test_run_grid_keys_are_the_python_numbers_written(img, props):
    ranks = np.array([2], dtype=np.int32)
    grid = mh.run_grid(img, props=props, ranks=ranks, generator=0)
    assert list(grid) == [(0.2, 2)]
    p, r = next(iter(grid))
    assert type(p) is float and type(r) is int
    ref = mh.run_grid(img, props=[0.2], ranks=[2], generator=0)
    assert torch.equal(grid[(0.2, 2)]["mask"], ref[(0.2, 2)]["mask"])
    fig = mh.plot_image_completion(grid, props=[0.2], ranks=[2])
    assert len(fig.axes) == 1
    fig = mh.plot_metric_curves(grid, props=props, ranks=ranks)
    assert len(fig.axes[0].lines) == 1


# --- F. StaticExplorer refuses what does not belong to it ----------------------------------


@pytest.fixture(scope="module")
def grid(img):
    return mh.run_grid(img, props=[0.2, 0.5], ranks=[2, 3], generator=0)


def other_image(img, grid):
    return mh.load_image("flower", size=(12, 16)), grid, {}


def smaller_results(img, grid):
    small = mh.load_image("china", size=5)
    res = mh.run_grid(small, props=[0.2, 0.5], ranks=[2, 3], generator=0)
    return img, res, {}


def start_prop_elsewhere(img, grid):
    return img, grid, dict(prop=0.3)


def start_rank_elsewhere(img, grid):
    return img, grid, dict(rank=7)


@pytest.mark.parametrize(
    "case, where, phrase",
    [
        (other_image, "results", "computed for 'img'"),
        (smaller_results, "results", "shape (3, 12, 16)"),
        (start_prop_elsewhere, "prop", "props=[0.2, 0.5]; got 0.3"),
        (start_rank_elsewhere, "rank", "ranks=[2, 3]; got 7"),
    ],
    ids=["other-image", "5x5-results", "prop", "rank"],
)
def test_static_explorer_refuses_what_is_not_in_its_grid(
    img, grid, case, where, phrase
):
    image, results, start = case(img, grid)
    with pytest.raises(
        ValueError, match=rf"^StaticExplorer: '{where}' must be"
    ) as err:
        mh.StaticExplorer(
            image, results, props=[0.2, 0.5], ranks=[2, 3], **start
        )
    assert phrase in str(err.value)


# --- G. output and display -------------------------------------------------------------------


def test_to_hwc_returns_a_copy(img):
    x = img.clone()
    arr = mh.to_hwc(x)
    arr[:] = 0.0
    assert torch.equal(x, img)


@pytest.mark.parametrize(
    "show",
    [
        pytest.param(lambda x: mh.to_hwc(x), id="to_hwc"),
        pytest.param(lambda x: mh.show_images([x]), id="show_images"),
        pytest.param(lambda x: mh.image_to_rgb(x), id="image_to_rgb"),
    ],
)
def test_bfloat16_images_are_shown_through_float32(img, show):
    out = show(img.to(torch.bfloat16))
    assert out is not None


@pytest.mark.parametrize(
    "make, phrase",
    [
        (lambda x: x * 255, "Divide 8-bit data by 255"),
        (lambda x: x - 0.5, "clamp(0, 1)"),
        (lambda x: x + 0.05, "clamp(0, 1)"),
        (lambda x: x.masked_fill(x > 0.5, np.inf), "finite"),
    ],
    ids=["times-255", "negative", "above-one", "inf"],
)
def test_show_images_refuses_values_it_would_clip(img, make, phrase):
    with pytest.raises(
        ValueError, match=r"^show_images: 'images\[1\]' must be"
    ) as e:
        mh.show_images([img, make(img)])
    assert phrase in str(e.value)


def test_show_images_takes_rounding_beyond_0_1(img):
    mh.show_images([img + 1e-4, img - 1e-4])  # half an 8-bit level is rounding


@pytest.mark.parametrize("score", [None, "20.1", [20.1]], ids=repr)
@pytest.mark.parametrize("plot", ["curves", "completion"])
def test_plots_refuse_scores_that_are_not_numbers(grid, score, plot):
    res = {key: dict(value) for key, value in grid.items()}
    res[(0.5, 3)]["psnr"] = score
    func = (
        "plot_metric_curves" if plot == "curves" else "plot_image_completion"
    )
    with pytest.raises(
        TypeError, match=rf"^{func}: 'results' must be a grid whose 'psnr'"
    ):
        getattr(mh, func)(res, props=[0.2, 0.5], ranks=[2, 3])


# --- H. entry points check everything before they work -------------------------------------


def test_static_explorer_checks_every_rank_before_computing(monkeypatch, img):
    calls = []
    real = se.explore_setting
    monkeypatch.setattr(
        se, "explore_setting", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            "static_explorer: 'ranks' must be a list of ints in [1, 12]; got 50"
        ),
    ):
        mh.static_explorer(img, props=[0.2, 0.5], ranks=[2, 50])
    assert calls == []


SCALARS = [
    (
        "static-props",
        lambda d: mh.static_explorer(d, props=0.2, ranks=[2]),
        "static_explorer: 'props'",
        "[0.2]",
    ),
    (
        "static-ranks",
        lambda d: mh.static_explorer(d, props=[0.2], ranks=2),
        "static_explorer: 'ranks'",
        "[2]",
    ),
    (
        "grid-props",
        lambda d: mh.run_grid(d, props=0.2, ranks=[2]),
        "run_grid: 'props'",
        "[0.2]",
    ),
    (
        "grid-ranks",
        lambda d: mh.run_grid(d, props=[0.2], ranks=2),
        "run_grid: 'ranks'",
        "[2]",
    ),
    (
        "explorer-static-ranks",
        lambda d: mh.explorer(d, rank=2, max_rank=8, static_ranks=5),
        "explorer: 'static_ranks'",
        "[5]",
    ),
    (
        "explorer-static-props",
        lambda d: mh.explorer(d, rank=2, max_rank=8, static_props=0.5),
        "explorer: 'static_props'",
        "[0.5]",
    ),
    (
        "curves-ranks",
        lambda d: mh.plot_metric_curves({}, props=[0.2], ranks=2),
        "plot_metric_curves: 'ranks'",
        "[2]",
    ),
    (
        "completion-ranks",
        lambda d: mh.plot_image_completion({}, props=[0.2], ranks=2),
        "plot_image_completion: 'ranks'",
        "[2]",
    ),
]


@pytest.mark.parametrize(
    "call, where, fix", [pytest.param(*c[1:], id=c[0]) for c in SCALARS]
)
def test_a_scalar_where_a_list_belongs_is_a_clear_type_error(
    img, call, where, fix
):
    with pytest.raises(
        TypeError, match=rf"^{re.escape(where)} must be a list"
    ):
        call(img)


BAD_ENTRIES = [
    (
        "browser-size-0",
        lambda d: mh.browser_explorer(size=0),
        "browser_explorer: 'size'",
    ),
    ("explorer-size-0", lambda d: mh.explorer(size=0), "explorer: 'size'"),
    (
        "browser-size-float",
        lambda d: mh.browser_explorer(size=9.5),
        "browser_explorer: 'size'",
    ),
    (
        "browser-no-file",
        lambda d: mh.browser_explorer("no/such.png"),
        "browser_explorer: 'img'",
    ),
    (
        "explorer-no-file",
        lambda d: mh.explorer(pathlib.Path("no/such.png")),
        "explorer: 'img'",
    ),
    (
        "explorer-static-rank-big",
        lambda d: mh.explorer(d, rank=2, max_rank=8).static_explorer(
            ranks=[2, 99]
        ),
        "Explorer.static_explorer: 'ranks'",
    ),
]


@pytest.mark.parametrize(
    "call, where", [pytest.param(*c[1:], id=c[0]) for c in BAD_ENTRIES]
)
def test_entry_points_name_themselves_not_an_inner_function(img, call, where):
    with pytest.raises(
        (TypeError, ValueError), match=rf"^{re.escape(where)} must be"
    ):
        call(img)


@pytest.mark.parametrize("entry", ["explorer", "browser_explorer"])
def test_explorers_take_a_pathlib_path_as_load_image_does(
    tmp_path, img, entry
):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray((mh.to_hwc(img) * 255).round().astype(np.uint8)).save(path)
    kw = dict(size=8, rank=2, max_rank=4)
    if entry == "explorer":
        ex = mh.explorer(path, static=False, **kw)
        assert ex.image_name == "photo.png"
    else:
        ex = mh.browser_explorer(path, **kw)
        assert ex.data["sampleName"] == "photo.png"
    by_name = mh.fit_image(mh.load_image(str(path)), 8)
    assert torch.equal(ex.img, by_name)


# --- G. files, paths and the last obscure messages --------------------------------------------


def test_a_decompression_bomb_is_refused_with_the_path_and_the_fix(
    tmp_path,
):
    from PIL import Image

    path = tmp_path / "huge.png"
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1000  # above twice this: a "bomb"
    try:
        Image.new("L", (50, 50)).save(path)
        with pytest.raises(ValueError) as err:
            mh.load_image(path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    msg = str(err.value)
    assert msg.startswith("load_image: 'name_or_path'")
    assert "huge.png" in msg and "MAX_IMAGE_PIXELS" in msg


@pytest.mark.parametrize("value", [1000.0, -5.0])
def test_a_constant_float_file_outside_0_1_loads_with_a_warning(
    tmp_path, value
):
    from PIL import Image

    path = tmp_path / "flat.tif"
    Image.fromarray(np.full((6, 6), value, np.float32)).save(path)
    with pytest.warns(UserWarning, match="single value"):
        img = mh.load_image(path)
    assert float(img.min()) == float(img.max()) == (1.0 if value > 0 else 0.0)


@pytest.fixture(scope="module")
def explorers(img):
    return {
        "StaticExplorer.save": mh.static_explorer(img, props=[0.5], ranks=[2]),
        "BrowserExplorer.save": mh.browser_explorer(
            img, size=8, rank=2, max_rank=4
        ),
    }


BAD_PATHS = [
    ("file descriptor", lambda d: 1, TypeError, "got int 1"),
    ("None", lambda d: None, TypeError, "got None"),
    ("a folder", lambda d: d, ValueError, "Is a directory"),
    (
        "no folder",
        lambda d: d / "no" / "such" / "x.html",
        ValueError,
        "No such file or directory",
    ),
]


@pytest.mark.parametrize(
    "name, path, exc, reason", BAD_PATHS, ids=[c[0] for c in BAD_PATHS]
)
@pytest.mark.parametrize(
    "save", ["StaticExplorer.save", "BrowserExplorer.save"]
)
def test_save_names_the_path_and_the_reason(
    explorers, tmp_path, save, name, path, exc, reason
):
    with pytest.raises(exc) as err:
        explorers[save].save(path(tmp_path))
    msg = str(err.value)
    assert msg.startswith(f"{save}: 'path'") and reason in msg


@pytest.mark.parametrize(
    "save", ["StaticExplorer.save", "BrowserExplorer.save"]
)
def test_save_takes_str_and_pathlib_paths(explorers, tmp_path, save):
    for path in (tmp_path / "a.html", str(tmp_path / "b.html")):
        assert explorers[save].save(path) == path
        assert pathlib.Path(path).read_text().startswith("<!DOCTYPE html>")


def test_center_crop_of_a_channels_last_image_says_so(img):
    with pytest.raises(ValueError, match=r"channels last.*permute\(2, 0, 1\)"):
        mh.center_crop(img.permute(1, 2, 0), 8)


@pytest.mark.parametrize(
    "make, fix",
    [
        (lambda x: x * 0.5 + 0.52, "Clip it with .clamp(0, 1)"),
        (lambda x: x * 255, "Divide 8-bit data by 255"),
        (lambda x: x * 4 - 2, "Rescale it to [0, 1]"),
    ],
    ids=["rounding", "8-bit", "other"],
)
def test_values_outside_0_1_get_the_fix_that_fits(img, make, fix):
    with pytest.raises(ValueError, match=re.escape(fix)):
        mh.metrics(img, make(img))


@pytest.mark.parametrize(
    "mask",
    [
        pytest.param(
            lambda s: torch.zeros(s, dtype=torch.bool, device="meta"),
            id="meta",
        ),
        pytest.param(
            lambda s: torch.zeros(s, dtype=torch.bool).to_sparse(),
            id="sparse",
        ),
    ],
)
def test_a_mask_without_dense_data_is_a_clear_type_error(img, mask):
    with pytest.raises(TypeError, match="apply_mask: 'mask' must be a dense"):
        mh.apply_mask(img, mask(tuple(img.shape[1:])))


@pytest.mark.parametrize(
    "options, name",
    [
        ({"gd": {"lr": -1}}, "lr"),
        ({"als": {"ridge": -1}}, "ridge"),
        ({"als": {"rank": 3}}, "rank"),
        ({"softimpute": {"max_iters": 0}}, "max_iters"),
    ],
)
def test_explorer_checks_each_methods_options_at_the_door(img, options, name):
    with pytest.raises(ValueError, match=f"^explorer: '{name}'"):
        mh.explorer(
            img, options=options, static=False, size=8, rank=2, max_rank=4
        )


# --- H. the benchmark helpers and the entry points that call reconstruct later ----------------


def _bm():
    from matfill_helpers.evaluation import benchmark

    return benchmark


LATER_DOORS = [
    (
        "tune rank",
        lambda i, m: mh.tune(m, grid={"ridge": [1.0]}, rank=-1),
        "tune: 'rank'",
    ),
    (
        "tune grid rank",
        lambda i, m: mh.tune(m, grid={"rank": [2, 99]}),
        "tune: 'rank'",
    ),
    (
        "tune option",
        lambda i, m: mh.tune(m, grid={"ridge": [1.0, -1.0]}, rank=2),
        "tune: 'ridge'",
    ),
    (
        "explore_setting img",
        lambda i, m: mh.explore_setting(None, prop=0.4, rank=2),
        "explore_setting: 'img'",
    ),
    (
        "explore_setting rank",
        lambda i, m: mh.explore_setting(i, prop=0.4, rank=-1),
        "explore_setting: 'rank'",
    ),
    (
        "explore_setting option",
        lambda i, m: mh.explore_setting(i, prop=0.4, rank=2, ridge="x"),
        "explore_setting: 'ridge'",
    ),
    (
        "browser_explorer rank",
        lambda i, m: mh.browser_explorer(i, size=8, rank=-1),
        "browser_explorer: 'rank'",
    ),
    (
        "browser_explorer max_rank",
        lambda i, m: mh.browser_explorer(i, size=8, max_rank="x"),
        "browser_explorer: 'max_rank'",
    ),
    ("dct_fill", lambda i, m: mh.dct_fill(None), "dct_fill: 'masked_img'"),
    (
        "dct_fill ints",
        lambda i, m: mh.dct_fill(torch.zeros(3, 8, 8, dtype=torch.int64)),
        "dct_fill: 'masked_img'",
    ),
    (
        "load_photo name",
        lambda i, m: _bm().load_photo("x"),
        "load_photo: 'name'",
    ),
    (
        "load_photo type",
        lambda i, m: _bm().load_photo(None),
        "load_photo: 'name'",
    ),
    (
        "load_photo size",
        lambda i, m: _bm().load_photo("coffee", size=0),
        "load_photo: 'size'",
    ),
    (
        "mean_fill",
        lambda i, m: _bm().mean_fill(None),
        "mean_fill: 'masked_img'",
    ),
    (
        "make_cases images",
        lambda i, m: _bm().make_cases(None, [0.5]),
        "make_cases: 'images'",
    ),
    (
        "make_cases image",
        lambda i, m: _bm().make_cases({"a": 1}, [0.5]),
        "make_cases: 'images['a']'",
    ),
    (
        "make_cases props",
        lambda i, m: _bm().make_cases({"a": i}, 0.5),
        "make_cases: 'props'",
    ),
    (
        "make_cases prop",
        lambda i, m: _bm().make_cases({"a": i}, [1.5]),
        "make_cases: 'props'",
    ),
    ("summarize", lambda i, m: _bm().summarize(None), "summarize: 'rows'"),
    ("summarize row", lambda i, m: _bm().summarize([1]), "summarize: 'rows'"),
    (
        "summarize keys",
        lambda i, m: _bm().summarize([{"method": "a"}]),
        "summarize: 'rows'",
    ),
    (
        "margins",
        lambda i, m: _bm().margins("x", "a", ["b"]),
        "margins: 'rows'",
    ),
    (
        "markdown_table",
        lambda i, m: _bm().markdown_table([{}]),
        "markdown_table: 'rows'",
    ),
    ("html_table", lambda i, m: _bm().html_table(None), "html_table: 'rows'"),
]


@pytest.mark.parametrize(
    "name, call, prefix", LATER_DOORS, ids=[c[0] for c in LATER_DOORS]
)
def test_every_entry_point_names_itself_and_the_argument(
    img, masked, name, call, prefix
):
    with pytest.raises((TypeError, ValueError)) as err:
        call(img, masked)
    assert str(err.value).startswith(prefix)


def test_tune_checks_every_setting_before_fitting_any(monkeypatch, masked):
    calls = []
    real = registry.reconstruct

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    from matfill_helpers.evaluation import tuning

    monkeypatch.setattr(tuning, "reconstruct", counting)
    with pytest.raises(ValueError, match="tune: 'ridge'"):
        mh.tune(masked, grid={"ridge": [1.0, -1.0]}, rank=2)
    assert calls == []
