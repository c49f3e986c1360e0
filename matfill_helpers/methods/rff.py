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

import math

import numpy as np
import torch
from sklearn.kernel_approximation import RBFSampler
from torch import nn

from .._validation import (
    _describe,
    _fail,
    check_choice,
    check_device,
    check_generator,
    check_int,
    check_positive,
    check_tensor,
)

#: The options of ``reconstruct(..., method="rff")``.
RFF_OPTIONS = (
    "num_features",
    "sigma",
    "solver",
    "ridge",
    "learning_rate",
    "epochs",
    "threshold",
)
_SKLEARN_SEEDS = 2**32  # RBFSampler takes random_state in [0, 2**32)


def check_rff_options(options, *, func):
    """Check the options of ``method="rff"`` up front; returns them as a new dict."""
    checks = {
        "num_features": lambda v, n: check_int(v, func=func, name=n, low=1),
        "sigma": lambda v, n: check_positive(v, func=func, name=n),
        "solver": lambda v, n: check_choice(
            v, {"ridge", "adam"}, func=func, name=n
        ),
        "ridge": lambda v, n: check_positive(
            v, func=func, name=n, allow_zero=True
        ),
        "learning_rate": lambda v, n: check_positive(v, func=func, name=n),
        "epochs": lambda v, n: check_int(v, func=func, name=n, low=1),
        "threshold": lambda v, n: check_positive(
            v, func=func, name=n, allow_zero=True
        ),
    }
    for name, value in options.items():
        if name not in checks:
            _fail(
                func,
                name,
                f"an option of method 'rff': one of {sorted(checks)}",
                "an unknown option",
            )
        checks[name](value, name)
    return dict(options)


def _check_rows(x, *, func, name, like=None, like_name=None):
    """A finite 2-D float tensor (N, d), N >= 1; as many rows as ``like``, on its device."""
    x = check_tensor(x, func=func, name=name)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        _fail(
            func,
            name,
            "a non-empty 2-D tensor (N, d)",
            f"shape {tuple(x.shape)}",
            "For one column use x[:, None]." if x.ndim == 1 else None,
        )
    if like is not None and x.shape[0] != like.shape[0]:
        _fail(
            func,
            name,
            f"one row per row of '{like_name}' ({like.shape[0]} rows)",
            f"{x.shape[0]} rows",
        )
    if like is not None and x.device != like.device:
        _fail(
            func,
            name,
            f"on the device of '{like_name}' ({like.device})",
            str(x.device),
        )
    if not bool(torch.isfinite(x).all()):
        _fail(func, name, "finite (no NaN or inf)", "NaN or inf values")
    return x


def extract_not_nan_coordinates_pixels(image):
    """Coordinates and colours of the observed (non-NaN) pixels of a (C, m, n) image.

    A pixel is observed when none of its channels is NaN.

    Returns
    -------
    coords : (N, 2) float32, ``[row, col]`` of each observed pixel, row-major order
    pixels : (N, C) float32, their colours

    >>> img = torch.arange(6.).view(1, 2, 3); img[0, 0, 1] = float("nan")
    >>> coords, pixels = extract_not_nan_coordinates_pixels(img)
    >>> coords.tolist(), pixels.flatten().tolist()
    ([[0.0, 0.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], [0.0, 2.0, 3.0, 4.0, 5.0])
    """
    func = "extract_not_nan_coordinates_pixels"
    image = check_tensor(image, func=func, name="image")
    if image.ndim != 3 or 0 in image.shape:
        _fail(
            func,
            "image",
            "a non-empty tensor of shape (C, m, n)",
            f"shape {tuple(image.shape)}",
            "For one channel use image[None]." if image.ndim == 2 else None,
        )
    observed = ~torch.isnan(image).any(dim=0)  # (m, n)
    coords = observed.nonzero().to(torch.float32)  # (N, 2) [row, col]
    pixels = image[:, observed].T.contiguous().to(torch.float32)  # (N, C)
    return coords, pixels


def create_coordinate_map(height, width, *, device=None):
    """All ``[row, col]`` coordinates of a ``height`` x ``width`` image, row-major, shape (m*n, 2).

    >>> create_coordinate_map(2, 3).tolist()
    [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    """
    func = "create_coordinate_map"
    height = check_int(height, func=func, name="height", low=1)
    width = check_int(width, func=func, name="width", low=1)
    device = check_device(device, func=func)
    rows, cols = torch.meshgrid(
        torch.arange(height), torch.arange(width), indexing="ij"
    )
    coords = torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=1)
    return coords.to(device=device, dtype=torch.float32)  # (m*n, 2)


def create_rff_features(coords, num_features, sigma, *, random_state=42):
    """Random Fourier features (N, num_features) of ``coords`` (N, d), RBF width ``sigma``.

    The same ``random_state`` (an int in [0, 2**32)) gives the same random frequencies, so
    features of training and query coordinates match. The features are float32 on ``coords``'s
    device.

    >>> create_rff_features(torch.zeros(5, 2), 16, 2.0).shape
    torch.Size([5, 16])
    """
    func = "create_rff_features"
    coords = _check_rows(coords, func=func, name="coords")
    num_features = check_int(
        num_features, func=func, name="num_features", low=1
    )
    sigma = check_positive(sigma, func=func, name="sigma")
    random_state = check_int(  # None would draw from NumPy's global RNG
        random_state,
        func=func,
        name="random_state",
        low=0,
        high=_SKLEARN_SEEDS - 1,
    )
    rff = RBFSampler(
        n_components=num_features,
        gamma=1.0 / (2.0 * sigma**2),
        random_state=random_state,
    )
    feats = rff.fit_transform(coords.cpu().numpy().astype(np.float64))
    return torch.from_numpy(feats).to(torch.float32).to(coords.device)


def create_linear_model(input_dim, output_dim, *, generator=None, device=None):
    """``nn.Linear(input_dim, output_dim)`` initialised from ``generator`` (PyTorch's default law).

    >>> create_linear_model(4, 3, generator=torch.Generator().manual_seed(0)).weight.shape
    torch.Size([3, 4])
    """
    func = "create_linear_model"
    input_dim = check_int(input_dim, func=func, name="input_dim", low=1)
    output_dim = check_int(output_dim, func=func, name="output_dim", low=1)
    g = check_generator(generator, func=func)
    device = check_device(device, func=func)
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


def _check_model(model, coords, pixels, *, func):
    if not isinstance(model, nn.Module):
        _fail(
            func, "model", "a torch.nn.Module", _describe(model), exc=TypeError
        )
    params = list(model.parameters())
    if not any(p.requires_grad for p in params):
        _fail(
            func,
            "model",
            "a module with trainable parameters",
            f"{type(model).__name__} with none",
        )
    for p in params:
        if p.device != coords.device or p.dtype != coords.dtype:
            _fail(
                func,
                "model",
                f"on the device and dtype of 'coords' ({coords.device}, {coords.dtype})",
                f"parameters on {p.device}, {p.dtype}",
                "Move it with model.to(coords).",
            )
    try:
        with torch.no_grad():
            out = model(coords[:1])
    except RuntimeError as err:
        _fail(
            func,
            "model",
            f"a module that takes 'coords' rows of {coords.shape[1]} values",
            f"an error: {err}",
        )
    if tuple(out.shape) != (1, pixels.shape[1]):
        _fail(
            func,
            "model",
            f"a module with {pixels.shape[1]} outputs (the columns of 'pixels')",
            f"output of shape {tuple(out.shape)} for one row",
        )


def _adam(
    coords, pixels, model, *, learning_rate, epochs, threshold, verbose, where
):
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    criterion = nn.MSELoss()
    history, previous = [], float("inf")
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(coords), pixels)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        if not math.isfinite(history[-1]):
            raise FloatingPointError(
                f"{where} broke down: the loss became {history[-1]} at epoch "
                f"{epoch + 1} of {epochs}. Try a smaller 'learning_rate' "
                f"(got {learning_rate:g})."
            )
        if abs(previous - history[-1]) < threshold:
            break
        previous = history[-1]
        if verbose and epoch % 100 == 0:
            print(f"Epoch {epoch} loss: {history[-1]:.6f}")
    return history


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

    Parameters
    ----------
    coords : torch.Tensor of shape (N, d), float, finite (features of the observed pixels)
    pixels : torch.Tensor of shape (N, C), float, finite (their colours)
    model : torch.nn.Module mapping (N, d) to (N, C), on ``coords``'s device and dtype; trained
        in place
    learning_rate : float > 0
    epochs : int >= 1, at most this many Adam steps
    threshold : float >= 0; stop when the loss changes by less than this between two epochs
    verbose : bool, print the loss every 100 epochs

    Returns
    -------
    history : list of float, the loss of each epoch run

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or inf (too large a ``learning_rate``).

    >>> Z = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    >>> model = create_linear_model(3, 1, generator=0)
    >>> history = train(Z, Z.sum(1, keepdim=True), model, learning_rate=0.1, epochs=300)
    >>> history[-1] < 1e-3 * history[0]
    True
    """
    func = "train"
    coords = _check_rows(coords, func=func, name="coords")
    pixels = _check_rows(
        pixels, func=func, name="pixels", like=coords, like_name="coords"
    )
    _check_model(model, coords, pixels, func=func)
    learning_rate = check_positive(
        learning_rate, func=func, name="learning_rate"
    )
    epochs = check_int(epochs, func=func, name="epochs", low=1)
    threshold = check_positive(
        threshold, func=func, name="threshold", allow_zero=True
    )
    if not isinstance(verbose, bool):
        _fail(func, "verbose", "a bool", _describe(verbose), exc=TypeError)
    return _adam(
        coords,
        pixels,
        model,
        learning_rate=learning_rate,
        epochs=epochs,
        threshold=threshold,
        verbose=verbose,
        where="train: Adam",
    )


def fit_ridge(features, targets, *, ridge=1e-3):
    """Closed-form ridge regression with an unpenalised bias: returns an ``nn.Linear``.

    Solves ``(Zc^T Zc + ridge * N * I) w = Zc^T Yc`` on centred features and targets, so ``ridge``
    is per sample and does not depend on how many pixels are observed.

    Parameters
    ----------
    features : torch.Tensor of shape (N, D), float, finite
    targets : torch.Tensor of shape (N, C), float, finite, on the features' device
    ridge : float >= 0 (0 only works when the centred features have full column rank)

    Returns
    -------
    model : torch.nn.Linear(D, C), float32, on the features' device

    >>> Z = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    >>> model = fit_ridge(Z, Z @ torch.tensor([[1.], [2.], [3.]]) + 0.5, ridge=1e-8)
    >>> [round(v, 3) for v in model.weight.flatten().tolist()], round(model.bias.item(), 3)
    ([1.0, 2.0, 3.0], 0.5)
    """
    func = "fit_ridge"
    features = _check_rows(features, func=func, name="features")
    targets = _check_rows(
        targets, func=func, name="targets", like=features, like_name="features"
    )
    ridge = check_positive(ridge, func=func, name="ridge", allow_zero=True)
    Z, Y = features.double(), targets.double()
    zm, ym = Z.mean(0), Y.mean(0)
    Zc, Yc = Z - zm, Y - ym  # (N, D), (N, C)
    G = Zc.T @ Zc + ridge * Z.shape[0] * torch.eye(
        Z.shape[1], dtype=Z.dtype, device=Z.device
    )  # (D, D)
    Wt, info = torch.linalg.solve_ex(G, Zc.T @ Yc)  # (D, C)
    if bool(info != 0) or not bool(torch.isfinite(Wt).all()):
        _fail(
            func,
            "ridge",
            "> 0 for these features (their centred Gram matrix is singular)",
            repr(ridge),
            "Use a small positive ridge such as 1e-6.",
        )
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
    """Fill a masked (3, m, n) image with a linear model on RFF of pixel coordinates (unclamped).

    Called by ``reconstruct(..., method="rff")``, which checks ``masked_img``; the options are
    checked here too.
    """
    opts = check_rff_options(
        dict(
            num_features=num_features,
            sigma=sigma,
            solver=solver,
            ridge=ridge,
            learning_rate=learning_rate,
            epochs=epochs,
            threshold=threshold,
        ),
        func="reconstruct",
    )
    num_features, sigma = int(opts["num_features"]), float(opts["sigma"])
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
    else:
        model = create_linear_model(
            num_features, 3, generator=generator, device=masked_img.device
        )
        _adam(
            feats,
            pixels,
            model,
            learning_rate=learning_rate,
            epochs=epochs,
            threshold=threshold,
            verbose=False,
            where="reconstruct: method 'rff' (solver='adam')",
        )
    grid = create_coordinate_map(Hh, Ww, device=masked_img.device)  # (m*n, 2)
    with torch.no_grad():
        out = model(
            create_rff_features(grid, num_features, sigma, random_state=seed)
        )  # (m*n, 3)
    return out.T.reshape(3, Hh, Ww)
