"""Random Fourier features of pixel coordinates: the blog post's baseline, vectorised.

A pixel's colour is modelled as a linear function of random Fourier features of its (row, col)
coordinates, ``z(x) = sqrt(2 / D) cos(x @ Omega + b)`` with ``Omega ~ N(0, 1 / sigma^2)``
(scikit-learn's ``RBFSampler`` with ``gamma = 1 / (2 sigma^2)``), which approximates an RBF kernel
of width ``sigma`` pixels (Rahimi and Recht 2007; Tancik et al. 2020).

Coordinates are ``[row, col]`` pairs in row-major order. The blog post's loop indexed
``image[:, x, y]`` with ``x`` running over the *width*, which swaps rows and columns and fails on
non-square images; here rows and columns are always right.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.kernel_approximation import RBFSampler
from torch import nn

from ._validation import _fail, check_int, check_positive, check_tensor


def extract_not_nan_coordinates_pixels(image):
    """Coordinates and colours of the observed (non-NaN) pixels of a (C, H, W) image.

    Returns
    -------
    coords : (N, 2) float32, ``[row, col]`` of each observed pixel, row-major order
    pixels : (N, C) float32, their colours

    >>> img = torch.arange(6.).view(1, 2, 3); img[0, 0, 1] = float("nan")
    >>> coords, pixels = extract_not_nan_coordinates_pixels(img)
    >>> coords.tolist(), pixels.flatten().tolist()
    ([[0.0, 0.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], [0.0, 2.0, 3.0, 4.0, 5.0])
    """
    check_tensor(
        image, func="extract_not_nan_coordinates_pixels", name="image"
    )
    if image.ndim != 3:
        _fail(
            "extract_not_nan_coordinates_pixels",
            "image",
            "a tensor of shape (C, H, W)",
            f"shape {tuple(image.shape)}",
        )
    observed = ~torch.isnan(image).any(dim=0)  # (H, W)
    coords = observed.nonzero().to(
        torch.float32
    )  # (N, 2) [row, col], row-major
    pixels = (
        image[:, observed].T.contiguous().to(torch.float32)
    )  # (C, N) -> (N, C)
    return coords, pixels


def create_coordinate_map(height, width, *, device=None):
    """All ``[row, col]`` coordinates of a ``height`` x ``width`` image, row-major, shape (H*W, 2).

    >>> create_coordinate_map(2, 3).tolist()
    [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    """
    height = check_int(
        height, func="create_coordinate_map", name="height", low=1
    )
    width = check_int(width, func="create_coordinate_map", name="width", low=1)
    rows, cols = torch.meshgrid(
        torch.arange(height), torch.arange(width), indexing="ij"
    )
    return (
        torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=1)
        .to(torch.float32)
        .to(device)
    )


def create_rff_features(coords, num_features, sigma, *, random_state=42):
    """Random Fourier features (N, num_features) of ``coords`` (N, d), RBF width ``sigma``.

    The same ``random_state`` gives the same random frequencies, so features of training and
    query coordinates match.

    >>> create_rff_features(torch.zeros(5, 2), 16, 2.0).shape
    torch.Size([5, 16])
    """
    check_tensor(coords, func="create_rff_features", name="coords")
    num_features = check_int(
        num_features, func="create_rff_features", name="num_features", low=1
    )
    sigma = check_positive(sigma, func="create_rff_features", name="sigma")
    rff = RBFSampler(
        n_components=num_features,
        gamma=1.0 / (2.0 * sigma**2),
        random_state=random_state,
    )
    feats = rff.fit_transform(coords.detach().cpu().numpy().astype(np.float64))
    return torch.from_numpy(feats).to(torch.float32).to(coords.device)


def create_linear_model(input_dim, output_dim, *, generator=None, device=None):
    """``nn.Linear(input_dim, output_dim)`` initialised from ``generator`` (PyTorch's default law).

    >>> create_linear_model(4, 3, generator=torch.Generator().manual_seed(0)).weight.shape
    torch.Size([3, 4])
    """
    from ._validation import check_generator

    input_dim = check_int(
        input_dim, func="create_linear_model", name="input_dim", low=1
    )
    output_dim = check_int(
        output_dim, func="create_linear_model", name="output_dim", low=1
    )
    g = check_generator(generator, func="create_linear_model")
    model = nn.utils.skip_init(nn.Linear, input_dim, output_dim)
    bound = 1.0 / input_dim**0.5
    with torch.no_grad():
        model.weight.copy_(
            torch.empty(output_dim, input_dim).uniform_(
                -bound, bound, generator=g
            )
        )
        model.bias.copy_(
            torch.empty(output_dim).uniform_(-bound, bound, generator=g)
        )
    return model.to(device)


def train(
    coords,
    pixels,
    model,
    *,
    learning_rate=0.01,
    epochs=1000,
    threshold=1e-6,
    verbose=False,
):
    """Fit ``model(coords) ~ pixels`` by Adam on the MSE, the blog post's loop and early stopping.

    Stops when the loss changes by less than ``threshold`` between two epochs. Returns the list of
    losses, one per epoch run.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    criterion = nn.MSELoss()
    history, previous = [], float("inf")
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(coords), pixels)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        if abs(previous - history[-1]) < threshold:
            break
        previous = history[-1]
        if verbose and epoch % 100 == 0:
            print(f"Epoch {epoch} loss: {history[-1]:.6f}")
    return history


def fit_ridge(features, targets, *, ridge=1e-3):
    """Closed-form ridge regression with an unpenalised bias: returns an ``nn.Linear``.

    Solves ``(Zc^T Zc + ridge * N * I) w = Zc^T Yc`` on centred features and targets, so ``ridge``
    is per sample and does not depend on how many pixels are observed.

    >>> Z = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    >>> model = fit_ridge(Z, Z @ torch.tensor([[1.], [2.], [3.]]) + 0.5, ridge=1e-8)
    >>> [round(v, 3) for v in model.weight.flatten().tolist()], round(model.bias.item(), 3)
    ([1.0, 2.0, 3.0], 0.5)
    """
    ridge = check_positive(
        ridge, func="fit_ridge", name="ridge", allow_zero=True
    )
    Z, Y = features.double(), targets.double()
    zm, ym = Z.mean(0), Y.mean(0)
    Zc, Yc = Z - zm, Y - ym  # (N, D), (N, C)
    G = Zc.T @ Zc + ridge * Z.shape[0] * torch.eye(
        Z.shape[1], dtype=Z.dtype, device=Z.device
    )  # (D, D)
    Wt = torch.linalg.solve(G, Zc.T @ Yc)  # (D, C)
    model = nn.utils.skip_init(
        nn.Linear, Z.shape[1], Y.shape[1], device=features.device
    )
    with torch.no_grad():
        model.weight.copy_(Wt.T.float())
        model.bias.copy_((ym - zm @ Wt).float())
    return model


def reconstruct_rff(
    masked_img,
    *,
    generator,
    num_features=1000,
    sigma=2.0,
    solver="ridge",
    ridge=1e-4,
    learning_rate=0.01,
    epochs=1000,
    threshold=1e-6,
):
    """Fill a masked (3, H, W) image with a linear model on RFF of pixel coordinates (unclamped)."""
    _, Hh, Ww = masked_img.shape
    coords, pixels = extract_not_nan_coordinates_pixels(
        masked_img
    )  # (N, 2), (N, 3)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    feats = create_rff_features(
        coords, num_features, sigma, random_state=seed
    )  # (N, D)
    if solver == "ridge":
        model = fit_ridge(feats, pixels, ridge=ridge)
    elif solver == "adam":
        model = create_linear_model(
            num_features, 3, generator=generator, device=masked_img.device
        )
        train(
            feats,
            pixels,
            model,
            learning_rate=learning_rate,
            epochs=epochs,
            threshold=threshold,
        )
    else:
        _fail("reconstruct", "solver", "'ridge' or 'adam'", repr(solver))
    grid = create_coordinate_map(Hh, Ww, device=masked_img.device)  # (H*W, 2)
    with torch.no_grad():
        out = model(
            create_rff_features(grid, num_features, sigma, random_state=seed)
        )  # (H*W, 3)
    return out.T.reshape(3, Hh, Ww)
