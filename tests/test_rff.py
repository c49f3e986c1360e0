import numpy as np
import pytest
import torch
from sklearn.kernel_approximation import RBFSampler

import matfill_helpers as mh


def blog_loop_fixed(image):
    """The blog post's loop with its axis fix: rows over the height, columns over the width.

    The post wrote ``for y in range(height): for x in range(width): image[0][x][y]``, which indexes
    rows with a column counter: on a non-square image it raises IndexError or skips pixels.
    """
    _, height, width = image.shape
    coords, pixels = [], []
    for row in range(height):
        for col in range(width):
            if image[0][row][col].isnan():
                continue
            coords.append([row, col])
            pixels.append(image[:, row, col].tolist())
    return torch.tensor(coords, dtype=torch.float32), torch.tensor(
        pixels, dtype=torch.float32
    )


def blog_loop_original(image):
    _, height, width = image.shape
    coords = []
    for y in range(height):
        for x in range(width):
            if image[0][x][y].isnan():
                continue
            coords.append([x, y])
    return torch.tensor(coords, dtype=torch.float32)


def test_vectorised_extraction_equals_fixed_loop_on_non_square_image():
    img = mh.load_image("flower", size=(9, 14))
    masked, _ = mh.mask_image(img, 0.3, generator=0)
    coords, pixels = mh.extract_not_nan_coordinates_pixels(masked)
    ref_coords, ref_pixels = blog_loop_fixed(masked)
    assert torch.equal(coords, ref_coords)
    assert torch.equal(pixels, ref_pixels)
    assert (
        coords[:, 0].max() <= 8 and coords[:, 1].max() <= 13
    )  # rows < H, cols < W


def test_seed_post_loop_fails_on_non_square_but_agrees_as_a_set_on_square():
    wide = torch.zeros(3, 4, 6)
    with pytest.raises(IndexError):
        blog_loop_original(wide)
    square, _ = mh.mask_image(mh.load_image("china", size=8), 0.3, generator=1)
    ours, _ = mh.extract_not_nan_coordinates_pixels(square)
    theirs = blog_loop_original(square)
    assert sorted(map(tuple, ours.tolist())) == sorted(
        map(tuple, theirs.tolist())
    )


def test_create_coordinate_map_equals_the_loop():
    ref = torch.tensor(
        [[r, c] for r in range(3) for c in range(5)], dtype=torch.float32
    )
    assert torch.equal(mh.create_coordinate_map(3, 5), ref)


def test_create_rff_features_matches_rbfsampler():
    coords = mh.create_coordinate_map(4, 5)
    feats = mh.create_rff_features(coords, 32, 3.0, random_state=7)
    ref = RBFSampler(
        n_components=32, gamma=1 / 18, random_state=7
    ).fit_transform(coords.numpy().astype(np.float64))
    np.testing.assert_allclose(feats.numpy(), ref, rtol=1e-5, atol=1e-6)
    # the kernel it approximates: z(x).z(y) ~ exp(-|x-y|^2 / (2 sigma^2))
    many = mh.create_rff_features(
        torch.tensor([[0.0, 0.0], [0.0, 3.0]]), 20000, 3.0, random_state=0
    )
    assert (many[0] @ many[1]).item() == pytest.approx(np.exp(-0.5), abs=0.03)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (
            (torch.zeros(3, 2), 0, 1.0),
            ValueError,
            r"create_rff_features: 'num_features' must be an int in \[1, inf\]; got 0",
        ),
        (
            (torch.zeros(3, 2), 8, -1.0),
            ValueError,
            r"create_rff_features: 'sigma' must be a finite number > 0; got -1.0",
        ),
        (
            (np.zeros((3, 2)), 8, 1.0),
            TypeError,
            r"create_rff_features: 'coords' must be a torch.Tensor",
        ),
    ],
)
def test_create_rff_features_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        mh.create_rff_features(*args)


def test_fit_ridge_equals_least_squares_for_tiny_ridge():
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(200, 10, generator=g)
    Y = torch.randn(200, 3, generator=g)
    model = mh.fit_ridge(Z, Y, ridge=0.0)
    X = torch.cat([Z, torch.ones(200, 1)], 1).double()
    sol = torch.linalg.lstsq(X, Y.double()).solution  # (11, 3)
    torch.testing.assert_close(
        model.weight.double(), sol[:10].T, rtol=1e-4, atol=1e-5
    )
    torch.testing.assert_close(
        model.bias.double(), sol[10], rtol=1e-4, atol=1e-5
    )


def test_train_with_adam_reduces_loss_and_matches_closed_form_direction():
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(300, 5, generator=g)
    Y = Z @ torch.randn(5, 3, generator=g)
    model = mh.create_linear_model(5, 3, generator=0)
    history = mh.train(
        Z, Y, model, learning_rate=0.05, epochs=2000, threshold=1e-10
    )
    assert history[-1] < 1e-4 < history[0]
    m2 = mh.create_linear_model(5, 3, generator=0)
    torch.testing.assert_close(
        m2(Z[:2]), mh.create_linear_model(5, 3, generator=0)(Z[:2])
    )


def test_rff_reconstruction_fills_a_smooth_image_well():
    rows, cols = torch.meshgrid(
        torch.linspace(0, 1, 24), torch.linspace(0, 1, 32), indexing="ij"
    )
    img = torch.stack(
        [
            0.5 + 0.4 * torch.sin(3 * rows),
            0.5 + 0.4 * torch.cos(2 * cols),
            0.5 * (rows + cols),
        ]
    )
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    for solver in ["ridge", "adam"]:
        recon = mh.reconstruct(
            masked,
            method="rff",
            num_features=400,
            sigma=4.0,
            solver=solver,
            generator=0,
            epochs=3000,
        )
        assert mh.metrics(img, recon, mask=mask)[1] > 25.0, solver


def test_rff_rejects_unknown_solver(small_img):
    masked, _ = mh.mask_image(small_img, 0.3, generator=0)
    with pytest.raises(
        ValueError,
        match=r"reconstruct: 'solver' must be one of \['adam', 'ridge'\]; got 'sgd'",
    ):
        mh.reconstruct(
            masked, method="rff", solver="sgd", num_features=16, generator=0
        )
