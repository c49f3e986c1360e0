"""An audit past the front door: every public function, each argument given bad values.

Each of the functions below is called with valid arguments except one, which gets each value of
``BAD`` in turn. The outcome must be a ``TypeError`` or ``ValueError`` whose message starts with
the function's own name and names the argument (or an element of it, as ``'images[0]'``), or,
for the few cases listed in ``ACCEPTED``, a result: these values are valid there.
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import matfill_helpers as mh  # noqa: E402
from matfill_helpers.evaluation import benchmark as bm  # noqa: E402
from matfill_helpers.methods import registry  # noqa: E402

img = mh.load_image("china", size=(8, 10))
masked, mask = mh.mask_image(img, 0.4, generator=0)
grid = mh.run_grid(img, props=[0.4], ranks=[2], generator=0)
NP = np.zeros((3, 8, 10), np.float32)
BAD = {
    "None": None,
    "str": "x",
    "neg": -1,
    "zero": 0,
    "float1.5": 1.5,
    "nan": float("nan"),
    "inf": float("inf"),
    "bool": True,
    "emptylist": [],
    "list": [1, 2],
    "ndarray": NP,
    "tensor2d": torch.zeros(8, 10),
    "tensor_int": torch.zeros(3, 8, 10, dtype=torch.int64),
    "dict": {"a": 1},
    "complex": 1j,
}
CALLS = {  # name: (callable, valid kwargs, positional names in order)
    "load_image": (
        mh.load_image,
        dict(name_or_path="china", size=8),
        ["name_or_path"],
    ),
    "mask_image": (
        mh.mask_image,
        dict(img=img, prop=0.4, generator=0),
        ["img", "prop"],
    ),
    "apply_mask": (mh.apply_mask, dict(img=img, mask=mask), ["img", "mask"]),
    "block_mask_image": (
        mh.block_mask_image,
        dict(img=img, height=2, width=2),
        ["img"],
    ),
    "random_mask_image": (
        mh.random_mask_image,
        dict(img=img, n_pixels=5, generator=0),
        ["img", "n_pixels"],
    ),
    "missing_mask": (mh.missing_mask, dict(masked_img=masked), ["masked_img"]),
    "center_crop": (mh.center_crop, dict(img=img, size=4), ["img", "size"]),
    "to_hwc": (mh.to_hwc, dict(img=img), ["img"]),
    "metrics": (
        mh.metrics,
        dict(img=img, recon=img, mask=mask),
        ["img", "recon"],
    ),
    "reconstruct": (
        mh.reconstruct,
        dict(masked_img=masked, rank=2, method="als", generator=0),
        ["masked_img"],
    ),
    "factorize": (
        mh.factorize,
        dict(A=masked[0], k=2, method="als", generator=0),
        ["A", "k"],
    ),
    "smooth_fill": (
        mh.smooth_fill,
        dict(masked_img=masked, iters=5),
        ["masked_img"],
    ),
    "dct_fill": (
        mh.dct_fill,
        dict(masked_img=masked, iters=3),
        ["masked_img"],
    ),
    "holdout": (
        mh.holdout,
        dict(masked_img=masked, fraction=0.2, generator=0),
        ["masked_img", "fraction"],
    ),
    "tune": (
        mh.tune,
        dict(
            masked_img=masked,
            method="als",
            grid={"ridge": [0.1, 1.0]},
            generator=0,
            rank=2,
        ),
        ["masked_img", "method", "grid"],
    ),
    "run_grid": (
        mh.run_grid,
        dict(img=img, props=[0.4], ranks=[2], generator=0),
        ["img"],
    ),
    "image_to_rgb": (mh.image_to_rgb, dict(img=masked), ["img"]),
    "show_images": (
        mh.show_images,
        dict(images=[img], titles=["a"]),
        ["images", "titles"],
    ),
    "plot_image_completion": (
        mh.plot_image_completion,
        dict(results=grid, props=[0.4], ranks=[2]),
        ["results"],
    ),
    "plot_metric_curves": (
        mh.plot_metric_curves,
        dict(results=grid, props=[0.4], ranks=[2]),
        ["results"],
    ),
    "plot_loss_curves": (
        mh.plot_loss_curves,
        dict(histories={"a": [1.0, 0.5]}),
        ["histories"],
    ),
    "explore_setting": (
        mh.explore_setting,
        dict(img=img, prop=0.4, rank=2),
        ["img"],
    ),
    "static_explorer": (
        mh.static_explorer,
        dict(img=img, props=[0.4], ranks=[2]),
        ["img"],
    ),
    "StaticExplorer": (
        mh.StaticExplorer,
        dict(img=img, results=grid, props=[0.4], ranks=[2]),
        ["img", "results"],
    ),
    "explorer": (
        mh.explorer,
        dict(img=img, size=8, rank=2, max_rank=4, static=False),
        ["img"],
    ),
    "browser_explorer": (
        mh.browser_explorer,
        dict(img=img, size=8, rank=2, max_rank=4),
        ["img"],
    ),
    "fit_image": (mh.fit_image, dict(img=img, size=8), ["img", "size"]),
    "create_coordinate_map": (
        mh.create_coordinate_map,
        dict(height=4, width=5),
        ["height", "width"],
    ),
    "create_rff_features": (
        mh.create_rff_features,
        dict(coords=torch.rand(10, 2), num_features=8, sigma=1.0),
        ["coords", "num_features", "sigma"],
    ),
    "fit_ridge": (
        mh.fit_ridge,
        dict(features=torch.rand(10, 4), targets=torch.rand(10, 3)),
        ["features", "targets"],
    ),
    "extract_not_nan_coordinates_pixels": (
        mh.extract_not_nan_coordinates_pixels,
        dict(image=masked),
        ["image"],
    ),
    "register_method": (
        mh.register_method,
        dict(
            name="audit_probe",
            func=lambda m, **k: m.nan_to_num(0.5),
            needs_rank=False,
        ),
        ["name", "func"],
    ),
    "bm.load_photo": (bm.load_photo, dict(name="coffee", size=8), ["name"]),
    "bm.mean_fill": (bm.mean_fill, dict(masked_img=masked), ["masked_img"]),
    "bm.make_cases": (
        bm.make_cases,
        dict(images={"a": img}, props=[0.4]),
        ["images", "props"],
    ),
    "bm.summarize": (bm.summarize, dict(rows=[]), ["rows"]),
    "bm.markdown_table": (bm.markdown_table, dict(rows=[]), ["rows"]),
}

# (function, argument, bad value's label) that are valid, with why
ACCEPTED = {
    **{
        (f, "generator", v): "a generator may be None or a seed"
        for f in (
            "mask_image",
            "random_mask_image",
            "reconstruct",
            "factorize",
            "holdout",
            "tune",
            "run_grid",
        )
        for v in ("None", "zero")
    },
    **{
        (f, "size", "list"): "a size may be a pair (h, w)"
        for f in (
            "load_image",
            "center_crop",
            "explorer",
            "browser_explorer",
            "fit_image",
            "bm.load_photo",
        )
    },
    ("load_image", "size", "None"): "no crop",
    ("bm.load_photo", "size", "None"): "no crop",
    ("mask_image", "prop", "zero"): "nothing hidden",
    ("explore_setting", "prop", "zero"): "nothing hidden",
    ("random_mask_image", "n_pixels", "zero"): "nothing hidden",
    ("smooth_fill", "iters", "zero"): "the start itself",
    ("center_crop", "img", "tensor2d"): "any (..., m, n) tensor",
    ("center_crop", "img", "tensor_int"): "any dtype",
    ("to_hwc", "img", "tensor_int"): "any dtype, as plt.imshow",
    ("metrics", "mask", "None"): "score every pixel",
    ("factorize", "A", "tensor2d"): "a matrix without missing entries",
    ("image_to_rgb", "img", "tensor2d"): "a greyscale image",
    ("show_images", "images", "tensor2d"): "one greyscale image",
    ("show_images", "titles", "None"): "no titles",
    ("show_images", "titles", "str"): "one image, one title",
    ("run_grid", "ranks", "list"): "ranks [1, 2]",
    ("static_explorer", "ranks", "list"): "ranks [1, 2]",
    ("explorer", "img", "None"): "the default photo",
    ("browser_explorer", "img", "None"): "the default photo",
    ("explorer", "static", "bool"): "static=True",
    (
        "create_rff_features",
        "coords",
        "tensor2d",
    ): "coordinates of any dimension",
    ("create_rff_features", "sigma", "float1.5"): "a length scale",
    ("register_method", "name", "str"): "a new name",
    ("register_method", "needs_rank", "bool"): "needs_rank=True",
    ("bm.summarize", "rows", "emptylist"): "no rows, no cells",
    ("bm.markdown_table", "rows", "emptylist"): "an empty table",
}


# (function, argument, label): the other argument the error rightly names
OTHER_ARGUMENT = {
    ("StaticExplorer", "ranks", "list"): "results",  # no result for rank 1
}


def _unregister():
    for name in ("audit_probe", BAD["str"]):  # register_method's name=str too
        mh.METHODS.pop(name, None)
        registry._OPTIONS.pop(name, None)
        registry._RANKLESS.discard(name)


@pytest.mark.parametrize("fname", sorted(CALLS))
def test_every_bad_argument_is_refused_by_name_or_accepted_as_documented(
    fname,
):
    fn, valid, _ = CALLS[fname]
    short = fname.split(".")[-1]
    problems = []
    for param in valid:
        for label, bad in BAD.items():
            kw = dict(valid, **{param: bad})
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(**kw)
                if (fname, param, label) not in ACCEPTED:
                    problems.append(f"{param}={label}: accepted")
            except (TypeError, ValueError) as err:
                msg = str(err)
                head = msg.split(";")[0]
                named = OTHER_ARGUMENT.get((fname, param, label), param)
                if not (
                    msg.startswith(f"{short}: '{named}")
                    or (msg.startswith(f"{short}: ") and f"'{named}" in head)
                ):
                    problems.append(f"{param}={label}: {msg[:120]}")
            except Exception as err:  # noqa: BLE001 - any other error is obscure
                problems.append(
                    f"{param}={label}: {type(err).__name__}: {err}"
                )
            finally:
                plt.close("all")
                _unregister()
    assert not problems, "\n".join(problems)
