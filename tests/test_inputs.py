"""Bad inputs and edge cases across the public API.

Every bad input gets a ``TypeError`` (wrong type) or ``ValueError`` (wrong value) whose message
starts ``"<function>: '<argument>' must be"``; a method that breaks down raises
``FloatingPointError``; inputs are never modified; any floating dtype and ``requires_grad``
inputs compute correctly.
"""

import re
import types

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import matfill_helpers as mh  # noqa: E402
from matfill_helpers._validation import check_device, check_generator  # noqa: E402

FAST = {
    "gd": dict(steps=40),
    "als": {},
    "rff": dict(num_features=64),
    "patches": dict(clusters=2, iters=1),
}


@pytest.fixture(scope="module")
def d():
    """Small seeded inputs shared by the cases (never modified: see the mutation tests)."""
    img = mh.load_image("china", size=(24, 32))
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(20, 4, generator=g)
    return types.SimpleNamespace(
        img=img,
        masked=masked,
        mask=mask,
        A=masked[0].clone(),
        Z=Z,
        Y=torch.randn(20, 3, generator=g),
        grid=mh.run_grid(img, props=[0.2], ranks=[2], generator=0),
    )


def lin():
    return mh.create_linear_model(4, 3, generator=0)


def rec(d, **kw):
    return mh.reconstruct(d.masked, **{"rank": 2, "generator": 0, **kw})


# (id, call, exception, "<function>: '<argument>'", a phrase of the message)
# fmt: off
CASES = [
    # reconstruct: the image
    ("img-uint8", lambda d: mh.reconstruct((d.img * 255).byte(), rank=2), TypeError, "reconstruct: 'masked_img'", ".float() / 255"),
    ("img-bool", lambda d: mh.reconstruct(d.img > 0.5, rank=2), TypeError, "reconstruct: 'masked_img'", "Convert with .float()."),
    ("img-complex", lambda d: mh.reconstruct(d.masked.to(torch.complex64), rank=2), TypeError, "reconstruct: 'masked_img'", "complex64"),
    ("img-float8", lambda d: mh.reconstruct(d.img.to(torch.float8_e5m2), rank=2), TypeError, "reconstruct: 'masked_img'", "float8_e5m2"),
    ("img-numpy", lambda d: mh.reconstruct(d.masked.numpy(), rank=2), TypeError, "reconstruct: 'masked_img'", "Convert with torch.from_numpy(a)."),
    ("img-numpy-hwc-uint8", lambda d: mh.mask_image((d.img * 255).byte().permute(1, 2, 0).numpy(), 0.5), TypeError, "mask_image: 'img'", "torch.from_numpy(a).permute(2, 0, 1).float() / 255"),
    ("img-list", lambda d: mh.reconstruct(d.masked.tolist(), rank=2), TypeError, "reconstruct: 'masked_img'", "a torch.Tensor"),
    ("img-sparse", lambda d: mh.reconstruct(d.img.to_sparse(), rank=2), TypeError, "reconstruct: 'masked_img'", ".to_dense()"),
    ("img-meta", lambda d: mh.reconstruct(torch.empty(3, 8, 8, device="meta"), rank=2), ValueError, "reconstruct: 'masked_img'", "'meta' device"),
    ("img-hwc", lambda d: mh.reconstruct(d.masked.permute(1, 2, 0), rank=2), ValueError, "reconstruct: 'masked_img'", ".permute(2, 0, 1)"),
    ("img-grey", lambda d: mh.reconstruct(d.masked[0], rank=2), ValueError, "reconstruct: 'masked_img'", ".expand(3, m, n)"),
    ("img-rgba", lambda d: mh.reconstruct(torch.cat([d.masked, d.masked[:1]]), rank=2), ValueError, "reconstruct: 'masked_img'", "img[:3]"),
    ("img-batch", lambda d: mh.reconstruct(d.masked[None], rank=2), ValueError, "reconstruct: 'masked_img'", "img[0]"),
    ("img-255", lambda d: mh.reconstruct(d.masked * 255, rank=2), ValueError, "reconstruct: 'masked_img'", "Divide 8-bit data by 255"),
    ("img-negative", lambda d: mh.reconstruct(d.masked - 2, rank=2), ValueError, "reconstruct: 'masked_img'", "in [0, 1]"),
    ("img-inf", lambda d: mh.reconstruct(d.masked.masked_fill(d.masked > 0.5, float("inf")), rank=2), ValueError, "reconstruct: 'masked_img'", "inf"),
    ("img-empty", lambda d: mh.reconstruct(torch.empty(3, 0, 8), rank=1), ValueError, "reconstruct: 'masked_img'", "non-empty"),
    ("img-all-nan", lambda d: mh.reconstruct(torch.full((3, 8, 8), float("nan")), rank=1), ValueError, "reconstruct: 'masked_img'", "at least one observed"),
    # reconstruct: arguments
    ("rank-str", lambda d: rec(d, rank="5"), TypeError, "reconstruct: 'rank'", "got str"),
    ("rank-float", lambda d: rec(d, rank=3.0), TypeError, "reconstruct: 'rank'", "got float"),
    ("rank-too-big", lambda d: rec(d, rank=25), ValueError, "reconstruct: 'rank'", "[1, 24]"),
    ("rank-rff-str", lambda d: rec(d, method="rff", rank="x"), TypeError, "reconstruct: 'rank'", "got str"),
    ("method-list", lambda d: rec(d, method=["gd"]), TypeError, "reconstruct: 'method'", "a str"),
    ("method-unknown", lambda d: rec(d, method="nmf"), ValueError, "reconstruct: 'method'", "'nmf'"),
    ("keep-observed", lambda d: rec(d, keep_observed="yes"), TypeError, "reconstruct: 'keep_observed'", "a bool"),
    ("lr-none", lambda d: rec(d, method="gd", lr=None), TypeError, "reconstruct: 'lr'", "a real number"),
    ("lr-nan", lambda d: rec(d, method="gd", lr=float("nan")), ValueError, "reconstruct: 'lr'", "finite"),
    ("init-scale-none", lambda d: rec(d, method="gd", init_scale=None), TypeError, "reconstruct: 'init_scale'", "a real number"),
    ("ridge-none", lambda d: rec(d, method="als", ridge=None), TypeError, "reconstruct: 'ridge'", "a real number"),
    ("tol-none-als", lambda d: rec(d, method="als", tol=None), TypeError, "reconstruct: 'tol'", "a real number"),
    ("steps-float", lambda d: rec(d, method="gd", steps=10.0), TypeError, "reconstruct: 'steps'", "an int"),
    ("check-every-0", lambda d: rec(d, method="gd", check_every=0, tol=0.1), ValueError, "reconstruct: 'check_every'", "[1, inf]"),
    ("max-sweeps-0", lambda d: rec(d, method="als", max_sweeps=0), ValueError, "reconstruct: 'max_sweeps'", "[1, inf]"),
    ("option-of-other-method", lambda d: rec(d, method="als", lr=0.1), ValueError, "reconstruct: 'lr'", "an option of method 'als'"),
    # H0
    ("H0-wrong-rank", lambda d: rec(d, rank=5, method="als", H0=torch.rand(3, 2, 32)), ValueError, "reconstruct: 'H0'", "(3, 5, 32)"),
    ("H0-unbatched", lambda d: rec(d, method="als", H0=torch.rand(2, 32)), ValueError, "reconstruct: 'H0'", "(3, 2, 32)"),
    ("H0-nan", lambda d: rec(d, method="als", H0=torch.full((3, 2, 32), float("nan"))), ValueError, "reconstruct: 'H0'", "finite"),
    ("H0-int", lambda d: rec(d, method="als", H0=torch.ones(3, 2, 32, dtype=torch.long)), TypeError, "reconstruct: 'H0'", "floating-point"),
    ("H0-list", lambda d: rec(d, method="als", H0=[[1.0]]), TypeError, "reconstruct: 'H0'", "a torch.Tensor"),
    ("factorize-H0-rank", lambda d: mh.factorize(d.A, 3, method="als", H0=torch.rand(2, 32)), ValueError, "factorize: 'H0'", "(3, 32)"),
    ("factorize-H0-batched", lambda d: mh.factorize(d.A, 2, method="als", H0=torch.rand(1, 2, 32)), ValueError, "factorize: 'H0'", "(2, 32)"),
    # generator
    ("seed-2**64", lambda d: rec(d, generator=2**64), ValueError, "reconstruct: 'generator'", "below 2**64"),
    ("seed-2**70", lambda d: mh.factorize(d.A, 2, generator=2**70), ValueError, "factorize: 'generator'", "below 2**64"),
    ("seed-negative", lambda d: mh.mask_image(d.img, 0.5, generator=-1), ValueError, "mask_image: 'generator'", "non-negative"),
    ("seed-float", lambda d: mh.mask_image(d.img, 0.5, generator=1.5), TypeError, "mask_image: 'generator'", "got float"),
    ("seed-str", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2], generator="0"), TypeError, "run_grid: 'generator'", "got str"),
    ("seed-model", lambda d: mh.create_linear_model(4, 3, generator=2**80), ValueError, "create_linear_model: 'generator'", "below 2**64"),
    # device
    ("device-tpu", lambda d: rec(d, device="tpu"), ValueError, "reconstruct: 'device'", "'tpu'"),
    ("device-int", lambda d: rec(d, device=5), TypeError, "reconstruct: 'device'", "got int 5"),
    ("device-list", lambda d: rec(d, device=["cpu"]), TypeError, "reconstruct: 'device'", "got list"),
    ("device-meta", lambda d: rec(d, device="meta"), ValueError, "reconstruct: 'device'", "holds data"),
    ("device-grid", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2], device="tpu"), ValueError, "run_grid: 'device'", "'tpu'"),
    ("device-coords", lambda d: mh.create_coordinate_map(2, 3, device="tpu"), ValueError, "create_coordinate_map: 'device'", "'tpu'"),
    ("device-model", lambda d: mh.create_linear_model(4, 3, device=torch.device("meta")), ValueError, "create_linear_model: 'device'", "holds data"),
    # factorize
    ("A-empty-rows", lambda d: mh.factorize(torch.empty(0, 5), 1), ValueError, "factorize: 'A'", "non-empty matrix; got shape (0, 5)"),
    ("A-empty-cols", lambda d: mh.factorize(torch.empty(5, 0), 1), ValueError, "factorize: 'A'", "non-empty"),
    ("A-list", lambda d: mh.factorize([[1.0, 2.0]], 1), TypeError, "factorize: 'A'", "a torch.Tensor"),
    ("A-int", lambda d: mh.factorize(torch.ones(4, 4, dtype=torch.int32), 2), TypeError, "factorize: 'A'", ".float()"),
    ("k-str", lambda d: mh.factorize(d.A, "2"), TypeError, "factorize: 'k'", "an int"),
    ("factorize-method", lambda d: mh.factorize(d.A, 2, method="rff"), ValueError, "factorize: 'method'", "['als', 'gd', 'hardimpute', 'softimpute']"),
    # RFF through reconstruct
    ("rff-epochs-negative", lambda d: rec(d, method="rff", solver="adam", epochs=-5), ValueError, "reconstruct: 'epochs'", "got -5"),
    ("rff-epochs-zero", lambda d: rec(d, method="rff", solver="adam", epochs=0), ValueError, "reconstruct: 'epochs'", "got 0"),
    ("rff-learning-rate", lambda d: rec(d, method="rff", learning_rate=0.0), ValueError, "reconstruct: 'learning_rate'", "> 0"),
    ("rff-threshold", lambda d: rec(d, method="rff", threshold=-1.0), ValueError, "reconstruct: 'threshold'", ">= 0"),
    ("rff-num-features", lambda d: rec(d, method="rff", num_features=0), ValueError, "reconstruct: 'num_features'", "[1, inf]"),
    ("rff-sigma", lambda d: rec(d, method="rff", sigma=float("inf")), ValueError, "reconstruct: 'sigma'", "finite"),
    ("rff-solver", lambda d: rec(d, method="rff", solver="lbfgs"), ValueError, "reconstruct: 'solver'", "'lbfgs'"),
    ("rff-solver-type", lambda d: rec(d, method="rff", solver=None), TypeError, "reconstruct: 'solver'", "a str"),
    ("rff-ridge", lambda d: rec(d, method="rff", ridge=-1.0), ValueError, "reconstruct: 'ridge'", ">= 0"),
    ("rff-unknown", lambda d: rec(d, method="rff", steps=3), ValueError, "reconstruct: 'steps'", "an option of method 'rff'"),
    # RFF helpers
    ("extract-grey", lambda d: mh.extract_not_nan_coordinates_pixels(d.masked[0]), ValueError, "extract_not_nan_coordinates_pixels: 'image'", "image[None]"),
    ("extract-int", lambda d: mh.extract_not_nan_coordinates_pixels(d.masked.long()), TypeError, "extract_not_nan_coordinates_pixels: 'image'", "floating-point"),
    ("coords-height", lambda d: mh.create_coordinate_map(0, 3), ValueError, "create_coordinate_map: 'height'", "[1, inf]"),
    ("features-1d", lambda d: mh.create_rff_features(torch.rand(10), 4, 1.0), ValueError, "create_rff_features: 'coords'", "x[:, None]"),
    ("features-empty", lambda d: mh.create_rff_features(torch.rand(0, 2), 4, 1.0), ValueError, "create_rff_features: 'coords'", "non-empty"),
    ("features-nan", lambda d: mh.create_rff_features(torch.full((3, 2), float("nan")), 4, 1.0), ValueError, "create_rff_features: 'coords'", "finite"),
    ("features-seed-none", lambda d: mh.create_rff_features(d.Z, 4, 1.0, random_state=None), TypeError, "create_rff_features: 'random_state'", "an int"),
    ("features-seed-2**40", lambda d: mh.create_rff_features(d.Z, 4, 1.0, random_state=2**40), ValueError, "create_rff_features: 'random_state'", "4294967295"),
    ("model-dim", lambda d: mh.create_linear_model(0, 3), ValueError, "create_linear_model: 'input_dim'", "[1, inf]"),
    ("train-epochs", lambda d: mh.train(d.Z, d.Y, lin(), epochs=-5), ValueError, "train: 'epochs'", "got -5"),
    ("train-lr", lambda d: mh.train(d.Z, d.Y, lin(), learning_rate=float("nan")), ValueError, "train: 'learning_rate'", "finite"),
    ("train-threshold", lambda d: mh.train(d.Z, d.Y, lin(), threshold=-1.0), ValueError, "train: 'threshold'", ">= 0"),
    ("train-verbose", lambda d: mh.train(d.Z, d.Y, lin(), verbose="yes"), TypeError, "train: 'verbose'", "a bool"),
    ("train-model-type", lambda d: mh.train(d.Z, d.Y, "model"), TypeError, "train: 'model'", "torch.nn.Module"),
    ("train-model-outputs", lambda d: mh.train(d.Z, d.Y[:, :1], lin()), ValueError, "train: 'model'", "1 outputs"),
    ("train-model-inputs", lambda d: mh.train(d.Z[:, :2], d.Y, lin()), ValueError, "train: 'model'", "rows of 2 values"),
    ("train-model-dtype", lambda d: mh.train(d.Z.double(), d.Y, lin()), ValueError, "train: 'model'", "model.to(coords)"),
    ("train-rows", lambda d: mh.train(d.Z, d.Y[:5], lin()), ValueError, "train: 'pixels'", "20 rows"),
    ("train-nan", lambda d: mh.train(d.Z.masked_fill(d.Z > 1, float("nan")), d.Y, lin()), ValueError, "train: 'coords'", "finite"),
    ("ridge-nan-features", lambda d: mh.fit_ridge(d.Z.masked_fill(d.Z > 1, float("nan")), d.Y), ValueError, "fit_ridge: 'features'", "finite"),
    ("ridge-inf-targets", lambda d: mh.fit_ridge(d.Z, d.Y.masked_fill(d.Y > 1, float("inf"))), ValueError, "fit_ridge: 'targets'", "finite"),
    ("ridge-rows", lambda d: mh.fit_ridge(d.Z, d.Y[:5]), ValueError, "fit_ridge: 'targets'", "20 rows"),
    ("ridge-1d-targets", lambda d: mh.fit_ridge(d.Z, d.Y[:, 0]), ValueError, "fit_ridge: 'targets'", "x[:, None]"),
    ("ridge-3d-features", lambda d: mh.fit_ridge(d.Z[None], d.Y), ValueError, "fit_ridge: 'features'", "2-D"),
    ("ridge-int", lambda d: mh.fit_ridge(d.Z.long(), d.Y), TypeError, "fit_ridge: 'features'", "floating-point"),
    ("ridge-numpy", lambda d: mh.fit_ridge(d.Z.numpy(), d.Y), TypeError, "fit_ridge: 'features'", "torch.from_numpy"),
    ("ridge-singular", lambda d: mh.fit_ridge(torch.ones(20, 4), d.Y, ridge=0.0), ValueError, "fit_ridge: 'ridge'", "singular"),
    ("ridge-empty", lambda d: mh.fit_ridge(torch.empty(0, 4), torch.empty(0, 3)), ValueError, "fit_ridge: 'features'", "non-empty"),
    # plotting
    ("show-none", lambda d: mh.show_images(None), TypeError, "show_images: 'images'", "a list"),
    ("show-empty", lambda d: mh.show_images([]), ValueError, "show_images: 'images'", "non-empty"),
    ("show-hwc", lambda d: mh.show_images([d.img.permute(1, 2, 0)]), ValueError, "show_images: 'images[0]'", ".permute(2, 0, 1)"),
    ("show-numpy", lambda d: mh.show_images([d.img, d.img.numpy()]), TypeError, "show_images: 'images[1]'", "torch.from_numpy"),
    ("show-int64", lambda d: mh.show_images([d.img.long()]), TypeError, "show_images: 'images[0]'", "uint8"),
    ("show-5d", lambda d: mh.show_images(d.img[None, None]), ValueError, "show_images: 'images'", "shape (1, 1, 3, 24, 32)"),
    ("show-too-few-titles", lambda d: mh.show_images([d.img, d.img], ["a"]), ValueError, "show_images: 'titles'", "one title per image (2); got 1"),
    ("show-too-many-titles", lambda d: mh.show_images([d.img], ["a", "b"]), ValueError, "show_images: 'titles'", "got 2"),
    ("show-titles-type", lambda d: mh.show_images([d.img], titles=3), TypeError, "show_images: 'titles'", "a list"),
    ("show-ncols", lambda d: mh.show_images([d.img], ncols=0), ValueError, "show_images: 'ncols'", "[1, inf]"),
    ("show-size", lambda d: mh.show_images([d.img], size=-1), ValueError, "show_images: 'size'", "> 0"),
    ("show-colour", lambda d: mh.show_images([d.masked], missing_color="red"), TypeError, "show_images: 'missing_color'", "(r, g, b)"),
    ("show-colour-range", lambda d: mh.show_images([d.masked], missing_color=(255, 0, 255)), ValueError, "show_images: 'missing_color'", "[0, 1]"),
    ("rgb-list", lambda d: mh.image_to_rgb([1, 2, 3]), TypeError, "image_to_rgb: 'img'", "a torch.Tensor"),
    ("rgb-rgba", lambda d: mh.image_to_rgb(torch.rand(4, 3, 3)), ValueError, "image_to_rgb: 'img'", "img[:3]"),
    ("completion-missing-entry", lambda d: mh.plot_image_completion(d.grid, props=[0.2, 0.5], ranks=[2]), ValueError, "plot_image_completion: 'results'", "(0.5, 2)"),
    ("completion-not-dict", lambda d: mh.plot_image_completion([1], props=[0.2], ranks=[2]), TypeError, "plot_image_completion: 'results'", "a dict"),
    ("completion-props", lambda d: mh.plot_image_completion(d.grid, props=0.2, ranks=[2]), TypeError, "plot_image_completion: 'props'", "[0.2]"),
    ("curves-missing-entry", lambda d: mh.plot_metric_curves(d.grid, props=[0.2], ranks=[2, 3]), ValueError, "plot_metric_curves: 'results'", "(0.2, 3)"),
    ("curves-labelled-grid", lambda d: mh.plot_metric_curves({"a": d.grid, "b": {}}, props=[0.2], ranks=[2], labels=True), ValueError, "plot_metric_curves: 'results['b']'", "(0.2, 2)"),
    ("curves-scoring", lambda d: mh.plot_metric_curves(d.grid, props=[0.2], ranks=[2], scoring="x"), ValueError, "plot_metric_curves: 'scoring'", "'x'"),
    ("loss-list", lambda d: mh.plot_loss_curves([1.0, 2.0]), TypeError, "plot_loss_curves: 'histories'", "{'loss': values}"),
    ("loss-log-of-zero", lambda d: mh.plot_loss_curves({"a": [1.0, 0.0]}), ValueError, "plot_loss_curves: 'histories'", "logy=False"),
    ("loss-2d", lambda d: mh.plot_loss_curves({"a": [[1.0, 2.0]]}), ValueError, "plot_loss_curves: 'histories'", "1-D"),
    # run_grid
    ("grid-props-one", lambda d: mh.run_grid(d.img, props=[1.0], ranks=[2], generator=0), ValueError, "run_grid: 'props'", "no pixel would be observed"),
    ("grid-props-scalar", lambda d: mh.run_grid(d.img, props=0.5, ranks=[2], generator=0), TypeError, "run_grid: 'props'", "[0.5]"),
    ("grid-props-empty", lambda d: mh.run_grid(d.img, props=[], ranks=[2], generator=0), ValueError, "run_grid: 'props'", "non-empty"),
    ("grid-props-nan", lambda d: mh.run_grid(d.img, props=[float("nan")], ranks=[2], generator=0), ValueError, "run_grid: 'props'", "nan"),
    ("grid-props-repeat", lambda d: mh.run_grid(d.img, props=[0.2, 0.2], ranks=[2], generator=0), ValueError, "run_grid: 'props'", "without repeats"),
    ("grid-ranks-big", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2, 99], generator=0), ValueError, "run_grid: 'ranks'", "99 in the list"),
    ("grid-ranks-scalar", lambda d: mh.run_grid(d.img, props=[0.5], ranks=3, generator=0), TypeError, "run_grid: 'ranks'", "[3]"),
    ("grid-ranks-float", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2.0], generator=0), TypeError, "run_grid: 'ranks'", "float 2.0"),
    ("grid-ranks-repeat", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2, 2], generator=0), ValueError, "run_grid: 'ranks'", "without repeats"),
    ("grid-option", lambda d: mh.run_grid(d.img, props=[0.5], ranks=[2], lr=0.1), ValueError, "run_grid: 'lr'", "an option of method 'als'"),
    ("grid-all-hidden", lambda d: mh.run_grid(torch.rand(3, 2, 2), props=[0.999], ranks=[1], generator=1), ValueError, "run_grid: 'props'", "hid all 4 pixels"),
    ("grid-img-nan", lambda d: mh.run_grid(d.masked, props=[0.5], ranks=[2]), ValueError, "run_grid: 'img'", "free of NaN"),
    # masking and metrics
    ("mask-prop-tensor", lambda d: mh.mask_image(d.img, torch.tensor(0.5)), TypeError, "mask_image: 'prop'", "tensor"),
    ("mask-img-uint8", lambda d: mh.mask_image((d.img * 255).byte(), 0.5), TypeError, "mask_image: 'img'", ".float() / 255"),
    ("apply-mask-uint8", lambda d: mh.apply_mask(d.img, d.mask.to(torch.uint8)), TypeError, "apply_mask: 'mask'", ".bool()"),
    ("apply-mask-numpy", lambda d: mh.apply_mask(d.img, d.mask.numpy()), TypeError, "apply_mask: 'mask'", "torch.from_numpy"),
    ("apply-mask-per-channel", lambda d: mh.apply_mask(d.img, d.mask.expand(3, -1, -1)), ValueError, "apply_mask: 'mask'", "mask.any(0)"),
    ("random-mask-count", lambda d: mh.random_mask_image(d.img, 10**6), ValueError, "random_mask_image: 'n_pixels'", "[0, 768]"),
    ("missing-mask-int", lambda d: mh.missing_mask(torch.zeros(3, 4, 4, dtype=torch.long)), TypeError, "missing_mask: 'masked_img'", "floating-point"),
    ("metrics-nan-recon", lambda d: mh.metrics(d.img, d.masked), ValueError, "metrics: 'recon'", "free of NaN"),
    ("metrics-uint8-recon", lambda d: mh.metrics(d.img, (d.img * 255).byte()), TypeError, "metrics: 'recon'", ".float() / 255"),
    ("metrics-numpy", lambda d: mh.metrics(d.img.numpy(), d.img), TypeError, "metrics: 'img'", "torch.from_numpy"),
    ("metrics-mask-int", lambda d: mh.metrics(d.img, d.img, mask=d.mask.int()), TypeError, "metrics: 'mask'", ".bool()"),
    # load_image, center_crop, register_method
    ("load-none", lambda d: mh.load_image(None), TypeError, "load_image: 'name_or_path'", "got NoneType"),
    ("load-size-float", lambda d: mh.load_image("china", size=10.0), TypeError, "load_image: 'size'", "an int or a pair"),
    ("crop-list", lambda d: mh.center_crop([[1]], 1), TypeError, "center_crop: 'img'", "a torch.Tensor"),
    ("crop-size", lambda d: mh.center_crop(d.img, (0, 2)), ValueError, "center_crop: 'size'", "positive"),
    ("register-name", lambda d: mh.register_method(3, lambda m, **k: m), TypeError, "register_method: 'name'", "a non-empty str"),
    ("register-builtin", lambda d: mh.register_method("gd", lambda m, **k: m), ValueError, "register_method: 'name'", "built-in"),
    ("register-func", lambda d: mh.register_method("x", "notfunc"), TypeError, "register_method: 'func'", "a callable"),
    ("register-options", lambda d: mh.register_method("x", lambda m, **k: m, options="alpha"), TypeError, "register_method: 'options'", "['alpha']"),
]
# fmt: on


@pytest.mark.parametrize(
    "call, exc, where, phrase",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_gets_a_clear_error_naming_the_argument(
    d, call, exc, where, phrase
):
    with pytest.raises(exc, match="^" + re.escape(f"{where} must be")) as err:
        call(d)
    assert type(err.value) is exc  # not a subclass raised from deep inside
    assert phrase in str(err.value)
    assert "; got " in str(err.value)


def test_failed_registration_changes_nothing():
    before = dict(mh.METHODS)
    with pytest.raises(ValueError):
        mh.register_method("gd", lambda m, **k: m)
    with pytest.raises(TypeError):
        mh.register_method("x", "notfunc")
    assert mh.METHODS == before


# --- breakdown: NaN or inf inside a method is an error, never a grey image -------------------


def test_gd_that_diverges_raises_naming_method_step_and_fix(d):
    with pytest.raises(FloatingPointError) as err:
        mh.reconstruct(
            d.masked,
            rank=2,
            method="gd",
            lr=1e15,
            loss="sse",
            steps=30,
            generator=0,
        )
    msg = str(err.value)
    assert msg.startswith("reconstruct: method 'gd' broke down")
    assert re.search(r"at step \d+ of 30", msg)
    assert "smaller 'lr'" in msg and "GD_TUNED" in msg


def test_factorize_that_overflows_raises(d):
    with pytest.raises(
        FloatingPointError, match=r"^factorize: method 'gd' broke down"
    ):
        mh.factorize(
            d.A, 2, method="gd", init_scale=1e30, steps=3, generator=0
        )


def test_a_registered_method_returning_nan_raises(d):
    def nan_method(masked, *, rank, generator):
        return torch.full_like(masked, float("nan"))

    mh.register_method("nan_for_test", nan_method)
    try:
        with pytest.raises(
            FloatingPointError,
            match=r"^reconstruct: method 'nan_for_test' broke down: 2304 of 2304",
        ):
            mh.reconstruct(
                d.masked, rank=2, method="nan_for_test", generator=0
            )
    finally:
        del mh.METHODS["nan_for_test"]


def test_rff_adam_and_train_that_diverge_raise(d):
    with pytest.raises(
        FloatingPointError,
        match=r"^reconstruct: method 'rff' \(solver='adam'\) broke down: the loss "
        r"became (nan|inf) at epoch \d+ of 20\. Try a smaller 'learning_rate'",
    ):
        mh.reconstruct(
            d.masked,
            method="rff",
            solver="adam",
            num_features=16,
            learning_rate=1e30,
            epochs=20,
            generator=0,
        )
    with pytest.raises(FloatingPointError, match=r"^train: Adam broke down"):
        mh.train(d.Z * 1e20, d.Y, lin(), learning_rate=1e30, epochs=20)


def test_blog_gd_at_high_rank_and_missing_stays_finite_without_nan_fill(d):
    # the blog post's method diverges in quality here (the book shows it) but never to NaN
    masked, _ = mh.mask_image(d.img, 0.9, generator=0)
    recon = mh.reconstruct(
        masked, rank=20, method="gd", generator=0, steps=300
    )
    assert torch.isfinite(recon).all()


# --- dtypes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(FAST))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_images_are_computed_in_float32(d, method, dtype):
    x = d.masked.to(dtype)
    recon = mh.reconstruct(
        x, rank=4, method=method, generator=0, **FAST[method]
    )
    upcast = mh.reconstruct(
        x.float(), rank=4, method=method, generator=0, **FAST[method]
    )
    assert recon.dtype == torch.float32
    assert torch.equal(recon, upcast)
    full = mh.reconstruct(
        d.masked, rank=4, method=method, generator=0, **FAST[method]
    )
    # half precision rounds the pixels (bfloat16 to 8 bits), not the result
    assert (recon - full).abs().mean() < 0.01


def test_the_audited_half_precision_gd_call_is_no_longer_grey(d):
    recon = mh.reconstruct(d.masked.half(), rank=5, method="gd", generator=0)
    assert recon.std() > 0.1  # a picture, not a uniform 0.5
    assert mh.metrics(d.img, recon)[1] > 20


@pytest.mark.parametrize("method", sorted(FAST))
def test_float64_images_give_float32_results_close_to_float32_inputs(
    d, method
):
    recon = mh.reconstruct(
        d.masked.double(), rank=4, method=method, generator=0, **FAST[method]
    )
    ref = mh.reconstruct(
        d.masked, rank=4, method=method, generator=0, **FAST[method]
    )
    assert recon.dtype == torch.float32
    torch.testing.assert_close(recon, ref, rtol=0, atol=1e-3)


def test_factorize_half_is_computed_and_returned_in_float32(d):
    W, H, _ = mh.factorize(d.A.half(), 3, method="als")
    assert W.dtype == H.dtype == torch.float32
    W32, H32, _ = mh.factorize(d.A.half().float(), 3, method="als")
    assert torch.equal(W @ H, W32 @ H32)
    W, _, _ = mh.factorize(d.A.double(), 3, method="gd", steps=5, generator=0)
    assert W.dtype == torch.float64


def test_keep_observed_with_half_input_copies_the_observed_pixels(d):
    recon = mh.reconstruct(
        d.masked.half(), rank=3, generator=0, keep_observed=True
    )
    assert recon.dtype == torch.float32
    observed = ~d.mask
    assert torch.equal(
        recon[:, observed], d.masked.half().float()[:, observed]
    )


# --- inputs that require grad, that are not contiguous, that must not change ---------------


@pytest.mark.parametrize("method", sorted(FAST))
def test_inputs_that_require_grad_work_in_every_method(d, method):
    x = d.masked.clone().requires_grad_()
    recon = mh.reconstruct(
        x, rank=4, method=method, generator=0, **FAST[method]
    )
    ref = mh.reconstruct(
        d.masked, rank=4, method=method, generator=0, **FAST[method]
    )
    assert torch.equal(recon, ref) and not recon.requires_grad
    assert x.grad is None


def test_inputs_that_require_grad_work_in_the_other_helpers(d):
    img = d.img.clone().requires_grad_()
    A = d.A.clone().requires_grad_()
    W, H, _ = mh.factorize(A, 2, method="gd", steps=5, generator=0)
    assert not W.requires_grad
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    assert not masked.requires_grad
    assert torch.equal(masked.nan_to_num(-1), d.masked.nan_to_num(-1))
    assert mh.metrics(img, img) == (0.0, float("inf"))
    coords, pixels = mh.extract_not_nan_coordinates_pixels(masked)
    Z = d.Z.clone().requires_grad_()
    mh.fit_ridge(Z, d.Y)
    mh.train(Z, d.Y, lin(), epochs=3)
    assert Z.grad is None
    mh.show_images([img])


@pytest.mark.parametrize("method", sorted(FAST))
def test_non_contiguous_inputs_give_the_same_result(d, method):
    x = (
        d.masked.transpose(1, 2).contiguous().transpose(1, 2)
    )  # strides changed
    assert not x.is_contiguous()
    recon = mh.reconstruct(
        x, rank=4, method=method, generator=0, **FAST[method]
    )
    ref = mh.reconstruct(
        d.masked, rank=4, method=method, generator=0, **FAST[method]
    )
    torch.testing.assert_close(recon, ref, rtol=0, atol=1e-5)


def same(a, b):
    return torch.equal(a.nan_to_num(-1.0), b.nan_to_num(-1.0))


@pytest.mark.parametrize("method", sorted(FAST))
@pytest.mark.parametrize("keep_observed", [False, True])
def test_reconstruct_never_modifies_its_input(d, method, keep_observed):
    x = d.masked.clone()
    mh.reconstruct(
        x,
        rank=4,
        method=method,
        generator=0,
        keep_observed=keep_observed,
        **FAST[method],
    )
    assert same(x, d.masked)


def test_a_method_returning_its_input_leaves_the_input_unchanged(d):
    mh.register_method("identity_for_test", lambda m, *, rank, generator: m)
    try:
        x = d.img.clone()
        out = mh.reconstruct(x, rank=2, method="identity_for_test")
        out += 1  # the result is a new tensor, not a view of the input
        assert torch.equal(x, d.img)
    finally:
        del mh.METHODS["identity_for_test"]


def test_the_other_helpers_never_modify_their_inputs(d):
    img, masked, mask = d.img.clone(), d.masked.clone(), d.mask.clone()
    A, Z, Y = d.A.clone(), d.Z.clone(), d.Y.clone()
    mh.factorize(A, 2, method="als")
    mh.factorize(A, 2, method="gd", steps=5, generator=0)
    mh.mask_image(img, 0.5, generator=0)
    mh.apply_mask(img, mask)
    mh.apply_mask(masked, ~mask)
    mh.random_mask_image(img, 10, generator=0)
    mh.block_mask_image(img, height=4, width=4)
    mh.missing_mask(masked)
    mh.metrics(img, img.flip(1), mask=mask)
    mh.run_grid(img, props=[0.3], ranks=[2], generator=0)
    mh.show_images([masked, img, (img * 255).byte()])
    mh.image_to_rgb(masked)
    mh.extract_not_nan_coordinates_pixels(masked)
    mh.create_rff_features(Z, 8, 1.0)
    mh.fit_ridge(Z, Y)
    mh.train(Z, Y, lin(), epochs=3)
    for now, then in [
        (img, d.img),
        (masked, d.masked),
        (A, d.A),
        (Z, d.Z),
        (Y, d.Y),
    ]:
        assert same(now, then)
    assert torch.equal(mask, d.mask)


# --- accepted forms ---------------------------------------------------------------------------


def test_numpy_integers_and_floats_are_accepted(d):
    r1 = mh.reconstruct(d.masked, rank=np.int64(3), generator=np.uint32(5))
    r2 = mh.reconstruct(d.masked, rank=3, generator=5)
    assert torch.equal(r1, r2)
    m1 = mh.mask_image(d.img, np.float32(0.25), generator=np.int64(1))[1]
    assert torch.equal(m1, mh.mask_image(d.img, 0.25, generator=1)[1])
    grid = mh.run_grid(
        d.img, props=np.array([0.2]), ranks=torch.tensor([2]), generator=0
    )
    assert set(grid) == {(0.2, 2)}


def test_the_largest_seed_is_accepted():
    g = check_generator(2**64 - 1, func="t")
    assert g.initial_seed() == 2**64 - 1


def test_tiny_images_reconstruct(d):
    for shape in [(3, 1, 5), (3, 5, 1), (3, 1, 1), (3, 2, 2)]:
        t = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
        for method in ("gd", "als", "rff"):
            opts = {"gd": dict(steps=20), "rff": dict(num_features=8)}.get(
                method, {}
            )
            recon = mh.reconstruct(
                t, rank=1, method=method, generator=0, **opts
            )
            assert recon.shape == shape and torch.isfinite(recon).all()


def test_show_images_shows_uint8_bool_and_grey_images_correctly(d):
    fig = mh.show_images((d.img * 255).round().byte())  # one tensor: one image
    shown = fig.axes[0].images[0].get_array()
    expected = (d.img * 255).round().byte().permute(
        1, 2, 0
    ).float().numpy() / 255
    np.testing.assert_allclose(np.asarray(shown), expected, atol=1e-6)
    fig = mh.show_images([d.mask, d.img[0]], titles=["mask", "red"])
    mask_rgb = np.asarray(fig.axes[0].images[0].get_array())
    assert mask_rgb.shape == (24, 32, 3)
    np.testing.assert_array_equal(mask_rgb[..., 1], d.mask.float().numpy())
    fig = mh.show_images(
        torch.stack([d.img, d.img, d.img])
    )  # a batch: 3 images
    assert len(fig.axes) == 3


def test_show_images_takes_any_iterable_of_images_but_not_a_dict(d):
    fig = mh.show_images({"a": d.img, "b": d.masked}.values())
    assert len(fig.axes) == 2
    fig = mh.show_images(x for x in (d.img, d.img, d.img))
    assert len(fig.axes) == 3
    with pytest.raises(
        TypeError, match=r"^show_images: 'images' .*list\(d.values\(\)\)"
    ):
        mh.show_images({"a": d.img})


def test_show_images_takes_one_title_string_for_one_image(d):
    fig = mh.show_images(d.img, "the photo")
    assert fig.axes[0].get_title() == "the photo"


def test_show_images_caps_ncols_at_the_number_of_images(d):
    fig = mh.show_images([d.img, d.img], ncols=5)
    assert len(fig.axes) == 2
    assert fig.get_size_inches()[0] == pytest.approx(2 * 3.0)


# --- devices ----------------------------------------------------------------------------------


def test_check_device_accepts_none_str_and_device():
    assert check_device(None, func="t") is None
    assert check_device("cpu", func="t") == torch.device("cpu")
    assert check_device(torch.device("cpu"), func="t") == torch.device("cpu")


def test_unavailable_cuda_is_a_value_error_with_the_fix(monkeypatch, d):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        ValueError,
        match=r"^reconstruct: 'device' must be a device available on this machine; "
        r"got 'cuda', which is not available.* Use device=None \(the input's device\), "
        r"'cpu' or mh.default_device\(\)\.",
    ):
        mh.reconstruct(d.masked, rank=2, device="cuda")


def test_unavailable_mps_is_a_value_error(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(
        ValueError, match=r"^t: 'device' .*got 'mps', which is not available"
    ):
        check_device("mps", func="t")


def test_a_cuda_index_beyond_the_devices_is_a_value_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert check_device("cuda:1", func="t") == torch.device("cuda:1")
    with pytest.raises(
        ValueError,
        match=r"^t: 'device' must be a cuda device index in \[0, 1\]; got 'cuda:2'",
    ):
        check_device("cuda:2", func="t")


@pytest.mark.parametrize(
    "device, exc, phrase",
    [
        ("tpu", ValueError, "a device name such as"),
        ("", ValueError, "a device name such as"),
        ("CPU", ValueError, "a device name such as"),
        ("meta", ValueError, "a device that holds data"),
        ("hpu", ValueError, "a 'cpu', 'cuda', 'mps' or 'xpu' device"),
        (5, TypeError, "None, a str"),
        (True, TypeError, "None, a str"),
        (torch.float32, TypeError, "None, a str"),
    ],
)
def test_check_device_rejects(device, exc, phrase):
    with pytest.raises(exc, match="^t: 'device' must be " + re.escape(phrase)):
        check_device(device, func="t")


@pytest.mark.gpu
def test_devices_on_a_cuda_machine(d):
    count = torch.cuda.device_count()
    with pytest.raises(
        ValueError, match=rf"cuda device index in \[0, {count - 1}\]"
    ):
        mh.reconstruct(d.masked, rank=2, device=f"cuda:{count}")
    with pytest.raises(
        ValueError, match=r"'generator' must be a CPU torch.Generator"
    ):
        mh.reconstruct(
            d.masked, rank=2, generator=torch.Generator(device="cuda")
        )
    on_gpu = d.masked.cuda().half().requires_grad_()
    recon = mh.reconstruct(on_gpu, rank=4, method="als", generator=0)
    assert recon.device.type == "cuda" and recon.dtype == torch.float32
    ref = mh.reconstruct(d.masked.half(), rank=4, method="als", generator=0)
    torch.testing.assert_close(recon.cpu(), ref, rtol=1e-3, atol=2e-3)
    recon = mh.reconstruct(
        d.masked, rank=4, method="gd", generator=0, steps=40, device="cuda:0"
    )
    assert recon.device.type == "cpu"
