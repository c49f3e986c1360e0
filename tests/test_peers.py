import sys
import types

import numpy as np
import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.evaluation import benchmark as bm
from matfill_helpers.methods import peers
from matfill_helpers.methods.registry import _RANKLESS

PEERS = {
    "biharmonic": peers.biharmonic,
    "telea": peers.telea,
    "navier_stokes": peers.navier_stokes,
    "fsr": peers.fsr,
    "tv": peers.tv,
    "halrtc": peers.halrtc,
}
OPENCV = ["telea", "navier_stokes", "fsr"]


@pytest.fixture(scope="module")
def photo():
    img = mh.load_image("china", size=(24, 32))
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    return img, masked, mask


def _ramp(m=24, n=32):
    """A colour linear ramp (a different plane per channel), inside (0, 1)."""
    yy, xx = torch.meshgrid(
        torch.linspace(0, 1, m), torch.linspace(0, 1, n), indexing="ij"
    )
    return torch.stack(
        [0.2 + 0.5 * xx, 0.1 + 0.3 * xx + 0.4 * yy, 0.9 - 0.6 * yy]
    )


def _interior_mask(shape, prop, *, border=2, seed=0):
    """A random mask that leaves a ``border`` pixels wide frame observed."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(shape, dtype=torch.bool)
    inner = torch.rand(shape, generator=g) < prop
    mask[border:-border, border:-border] = inner[
        border:-border, border:-border
    ]
    return mask


def _hide(img, mask):
    masked = img.clone()
    masked[:, mask] = float("nan")
    return masked


# ---- registration and the common contract -----------------------------------------------------


def test_every_peer_is_a_registered_rankless_method():
    assert set(PEERS) <= set(mh.METHODS)
    assert set(PEERS) <= _RANKLESS


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_returns_float32_unit_range_finite_image_of_the_input_shape(
    photo, name
):
    img, masked, _ = photo
    recon = PEERS[name](masked)
    assert recon.shape == img.shape and recon.dtype == torch.float32
    assert recon.device == masked.device
    assert bool(torch.isfinite(recon).all())
    assert recon.min() >= 0 and recon.max() <= 1


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_keeps_the_observed_pixels_exactly(photo, name):
    img, masked, mask = photo
    recon = PEERS[name](masked)
    assert torch.equal(recon[:, ~mask], img[:, ~mask])


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_is_deterministic_and_reconstruct_runs_it_without_rank(
    photo, name
):
    img, masked, _ = photo
    direct = PEERS[name](masked)
    assert torch.equal(PEERS[name](masked), direct)
    r0 = mh.reconstruct(masked, method=name, generator=0)
    r1 = mh.reconstruct(masked, method=name, generator=1, rank=3)
    assert torch.equal(r0, direct) and torch.equal(r1, direct)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_beats_the_mean_fill_on_a_photo(photo, name):
    img, masked, mask = photo
    floor = mh.metrics(img, bm.mean_fill(masked), mask=mask)[1]
    assert mh.metrics(img, PEERS[name](masked), mask=mask)[1] > floor + 1.0


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_takes_float64_and_returns_float32(photo, name):
    img, masked, mask = photo
    recon = PEERS[name](masked.double())
    assert recon.dtype == torch.float32
    torch.testing.assert_close(recon, PEERS[name](masked), atol=2e-3, rtol=0)


@pytest.mark.parametrize("name", sorted(PEERS))
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (7, 5), (17, 33)])
def test_peer_fills_small_and_odd_shaped_images(name, shape):
    g = torch.Generator().manual_seed(1)
    img = torch.rand(3, *shape, generator=g)
    mask = torch.rand(shape, generator=g) < 0.5
    mask.view(-1)[0] = False  # at least one observed pixel
    recon = PEERS[name](_hide(img, mask))
    assert recon.shape == img.shape and bool(torch.isfinite(recon).all())
    assert torch.equal(recon[:, ~mask], img[:, ~mask])


# ---- known answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_fills_a_constant_image_with_the_constant(name):
    c = torch.full((3, 24, 32), 102 / 255)  # an 8-bit level: no rounding
    masked, _ = mh.mask_image(c, 0.5, generator=0)
    # OpenCV's Telea estimates gradients from partly filled neighbours: on a random mask its
    # fill of a constant strays by up to 3 levels of 255 (its float32 path by 1.5)
    atol = {"telea": 3.5 / 255, "halrtc": 1e-3}.get(name, 1e-6)
    torch.testing.assert_close(PEERS[name](masked), c, atol=atol, rtol=0)


def test_biharmonic_reproduces_a_linear_ramp():
    ramp = _ramp()
    masked = _hide(ramp, _interior_mask((24, 32), 0.6))
    torch.testing.assert_close(
        peers.biharmonic(masked), ramp, atol=1e-5, rtol=0
    )


def test_tv_nearly_reproduces_a_linear_ramp():
    ramp = _ramp()
    masked = _hide(ramp, _interior_mask((24, 32), 0.6))
    torch.testing.assert_close(peers.tv(masked), ramp, atol=1e-3, rtol=0)
    torch.testing.assert_close(
        peers.tv(masked, iters=5000, tol=0), ramp, atol=1e-5, rtol=0
    )


def test_tv_lowers_the_total_variation_below_the_mean_fill_and_keeps_omega(
    photo,
):
    img, masked, mask = photo
    recon = peers.tv(masked)
    tv_recon = peers._total_variation(recon)
    assert tv_recon < peers._total_variation(bm.mean_fill(masked))
    assert tv_recon < peers._total_variation(peers.biharmonic(masked))
    assert torch.equal(recon[:, ~mask], img[:, ~mask])


def test_tv_longer_runs_do_not_raise_the_total_variation(photo):
    _, masked, _ = photo
    short = peers._total_variation(peers.tv(masked, iters=20, tol=0))
    long = peers._total_variation(peers.tv(masked, iters=500, tol=0))
    assert long <= short


def test_tv_ascent_and_divergence_match_the_gradient_and_its_adjoint():
    g = torch.Generator().manual_seed(0)
    u, px, py = torch.rand(3, 3, 6, 5, generator=g, dtype=torch.float64)
    px[:, :, -1] = 0
    py[:, -1] = 0
    dx, dy = peers._grad(u)
    # the adjoint: <grad u, p> = -<u, div p>
    lhs = float((dx * px + dy * py).sum())
    assert lhs == pytest.approx(-float((u * peers._div(px, py)).sum()))
    # the in-place ascent step equals p + sigma * grad(u), a plain loop as reference
    qx, qy = px.clone(), py.clone()
    peers._ascend(qx, qy, u, 0.5)
    ref_x, ref_y = px.clone(), py.clone()
    for i in range(6):
        for j in range(5):
            if j < 4:
                ref_x[:, i, j] += 0.5 * (u[:, i, j + 1] - u[:, i, j])
            if i < 5:
                ref_y[:, i, j] += 0.5 * (u[:, i + 1, j] - u[:, i, j])
    torch.testing.assert_close(qx, ref_x)
    torch.testing.assert_close(qy, ref_y)


def test_halrtc_recovers_an_exact_low_rank_tensor_from_few_missing_pixels():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 32, generator=g), torch.rand(2, 40, generator=g)
    w = torch.rand(2, 3, generator=g)
    low = torch.einsum("ki,kj,kc->cij", a, b, w)  # rank 2 in every unfolding
    low = low / low.max()
    masked, mask = mh.mask_image(low, 0.1, generator=1)
    recon = peers.halrtc(masked)
    err = (recon - low)[:, mask].norm() / low[:, mask].norm()
    assert err < 1e-4
    floor = (bm.mean_fill(masked) - low)[:, mask].norm() / low[:, mask].norm()
    assert floor > 0.1  # the mean fill is far off: the low rank did the work


def test_halrtc_unfoldings_fold_back_and_are_the_tensors_matricizations():
    X = torch.arange(3 * 4 * 5, dtype=torch.float64).reshape(3, 4, 5)
    for mode in range(3):
        A = peers._unfold(X, mode)
        assert A.shape == (X.shape[mode], X.numel() // X.shape[mode])
        assert torch.equal(peers._fold(A, mode, X.shape), X)
        # the mode-i fibres are its columns (any order of them: the same nuclear norm)
        ref = np.moveaxis(X.numpy(), mode, 0).reshape(X.shape[mode], -1)
        np.testing.assert_allclose(A.numpy(), ref)


def test_halrtc_shrink_soft_thresholds_the_singular_values():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 9, generator=g, dtype=torch.float64)
    S = torch.linalg.svdvals(A)
    t = float(S[1] + S[2]) / 2  # between the second and third
    B, k, top = peers._shrink(A, t)
    assert top == pytest.approx(float(S[0]))
    assert k == 2
    torch.testing.assert_close(torch.linalg.svdvals(B)[:2], S[:2] - t)


def test_halrtc_does_not_stop_while_every_value_is_thresholded_away():
    c = torch.full((3, 8, 8), 0.5)
    masked, _ = mh.mask_image(c, 0.3, generator=0)
    # rho so small that the first step keeps no singular value (the fill would collapse to 0)
    recon = peers.halrtc(masked, rho=1e-6)
    torch.testing.assert_close(recon, c, atol=1e-2, rtol=0)  # collapsed: 0.5


# ---- OpenCV's conventions -----------------------------------------------------------------------


def _smooth(m=48, n=48):
    yy, xx = torch.meshgrid(
        torch.linspace(0, 3, m), torch.linspace(0, 3, n), indexing="ij"
    )
    return torch.stack(
        [
            0.5 + 0.3 * torch.sin(xx) * torch.cos(yy),
            0.5 + 0.2 * torch.cos(xx + yy),
            0.4 + 0.1 * xx,
        ]
    )


@pytest.mark.parametrize("name", OPENCV)
def test_opencv_peers_fill_the_missing_pixels_not_the_observed_ones(name):
    # Telea and NS take mask = missing, FSR mask = valid: a swapped convention leaves the
    # missing pixels unfilled (black) and fails here
    img = _smooth()
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    recon = PEERS[name](masked)
    assert torch.equal(recon[:, ~mask], img[:, ~mask])
    assert (recon - img)[:, mask].abs().mean() < 0.03  # swapped: 0.49


@pytest.mark.parametrize("name", ["telea", "navier_stokes"])
def test_opencv_inpaint_marks_missing_pixels_with_nonzero(name):
    import cv2

    flag = {"telea": cv2.INPAINT_TELEA, "navier_stokes": cv2.INPAINT_NS}[name]
    img = _smooth(16, 16)
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    src = peers._to_u8(masked)
    ref = cv2.inpaint(src, mask.numpy().astype(np.uint8), 3, flag)
    ours = PEERS[name](masked)
    expected = torch.where(mask, peers._from_u8(ref), img)
    assert torch.equal(ours, expected)


def test_fsr_marks_valid_pixels_with_nonzero_and_takes_bgr():
    import cv2

    img = _smooth(32, 32)
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    bgr = np.ascontiguousarray(peers._to_u8(masked)[..., ::-1])
    valid = (~mask).numpy().astype(np.uint8) * 255
    dst = bgr.copy()
    cv2.xphoto.inpaint(bgr, valid, dst, cv2.xphoto.INPAINT_FSR_FAST)
    expected = torch.where(mask, peers._from_u8(dst[..., ::-1]), img)
    assert torch.equal(peers.fsr(masked), expected)


def test_fsr_computes_in_8_bits_a_float32_image_comes_back_unchanged():
    # why fsr converts to 8 bits itself: OpenCV converts a float image in [0, 1] to 8 bits
    # internally and writes its result to a new buffer, not to the dst passed from Python
    import cv2

    img = _smooth(16, 16)
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    bgr = torch.nan_to_num(masked, nan=0.0).permute(1, 2, 0).numpy()[..., ::-1]
    bgr = np.ascontiguousarray(bgr, dtype=np.float32)
    valid = (~mask).numpy().astype(np.uint8) * 255
    dst = bgr.copy()
    cv2.xphoto.inpaint(bgr, valid, dst, cv2.xphoto.INPAINT_FSR_FAST)
    assert np.array_equal(dst, bgr)


def test_fsr_fills_images_whose_sides_are_not_multiples_of_its_block():
    c = torch.full((3, 17, 33), 102 / 255)
    masked, _ = mh.mask_image(c, 0.5, generator=0)
    # without padding OpenCV leaves the partial border blocks black (or off-colour)
    torch.testing.assert_close(peers.fsr(masked), c, atol=1e-6, rtol=0)


def test_fsr_best_quality_is_its_own_fill_and_fills_a_smooth_image():
    img = _smooth(16, 16)
    masked, mask = mh.mask_image(img, 0.3, generator=0)
    best = peers.fsr(masked, quality="best")
    assert not torch.equal(best, peers.fsr(masked))
    assert (best - img)[:, mask].abs().mean() < 0.03


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func, kwargs, exc, match",
    [
        (
            "telea",
            dict(radius=0),
            ValueError,
            r"^telea: 'radius' must be an int in \[1, inf\]; got 0\.$",
        ),
        (
            "navier_stokes",
            dict(radius=-2),
            ValueError,
            r"^navier_stokes: 'radius' must be an int in \[1, inf\]; got -2\.$",
        ),
        (
            "telea",
            dict(radius=2.5),
            TypeError,
            r"^telea: 'radius' must be an int; got float 2\.5\.$",
        ),
        (
            "fsr",
            dict(quality="slow"),
            ValueError,
            r"^fsr: 'quality' must be one of \['best', 'fast'\]; got 'slow'\.$",
        ),
        ("fsr", dict(quality=1), TypeError, r"^fsr: 'quality' must be a str"),
        (
            "tv",
            dict(iters=0),
            ValueError,
            r"^tv: 'iters' must be an int in \[1, inf\]; got 0\.$",
        ),
        (
            "tv",
            dict(tol=-1e-3),
            ValueError,
            r"^tv: 'tol' must be a finite number >= 0; got -0\.001\.$",
        ),
        (
            "halrtc",
            dict(rho=0.0),
            ValueError,
            r"^halrtc: 'rho' must be a finite number > 0; got 0\.0\.$",
        ),
        (
            "halrtc",
            dict(iters=0),
            ValueError,
            r"^halrtc: 'iters' must be an int in \[1, inf\]; got 0\.$",
        ),
        (
            "halrtc",
            dict(tol=float("nan")),
            ValueError,
            r"^halrtc: 'tol' must be a finite number >= 0; got nan\.$",
        ),
    ],
)
def test_peer_rejects_bad_options_naming_itself_and_the_option(
    photo, func, kwargs, exc, match
):
    _, masked, _ = photo
    with pytest.raises(exc, match=match):
        PEERS[func](masked, **kwargs)
    with pytest.raises(exc, match=match):  # the same through reconstruct
        mh.reconstruct(masked, method=func, **kwargs)


def test_reconstruct_refuses_an_option_a_peer_does_not_take(photo):
    _, masked, _ = photo
    with pytest.raises(
        ValueError,
        match=r"^reconstruct: 'radius' must be an option of method 'tv': one of "
        r"\['iters', 'tol'\]; got an unknown option\.$",
    ):
        mh.reconstruct(masked, method="tv", radius=3)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_refuses_an_image_with_no_observed_pixel(name):
    masked = torch.full((3, 4, 4), float("nan"))
    with pytest.raises(
        ValueError,
        match=rf"^{name}: 'masked' must be an image with at least one observed pixel; "
        r"got every pixel NaN\.$",
    ):
        PEERS[name](masked)


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_refuses_values_outside_the_unit_range(name):
    with pytest.raises(
        ValueError, match=rf"^{name}: 'masked' must be in \[0, 1\]"
    ):
        PEERS[name](torch.full((3, 4, 4), 2.0))


@pytest.mark.parametrize("name", OPENCV)
def test_opencv_peer_without_opencv_says_what_to_install(
    photo, name, monkeypatch
):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    with pytest.raises(
        ImportError,
        match=rf"^{name}: needs OpenCV, which is not installed\. Install it with "
        r"`pip install opencv-contrib-python-headless`\.$",
    ):
        PEERS[name](photo[1])


def test_fsr_without_opencvs_contrib_modules_says_what_to_install(
    photo, monkeypatch
):
    monkeypatch.setitem(sys.modules, "cv2", types.ModuleType("cv2"))
    with pytest.raises(
        ImportError,
        match=r"^fsr: needs OpenCV's contrib module xphoto, which this OpenCV lacks\. "
        r"Install `pip install opencv-contrib-python-headless` in place of opencv-python\.$",
    ):
        peers.fsr(photo[1])


def test_biharmonic_without_scikit_image_says_what_to_install(
    photo, monkeypatch
):
    monkeypatch.setitem(sys.modules, "skimage.restoration", None)
    with pytest.raises(
        ImportError,
        match=r"^biharmonic: needs scikit-image, which is not installed\. "
        r"Install it with `pip install scikit-image`\.$",
    ):
        peers.biharmonic(photo[1])
