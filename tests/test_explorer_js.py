"""The explorer's JavaScript (matfill_helpers/explore/js/als.js) against the Python helpers it mirrors.

Each test sends inputs to ``tests/js/run_als.js`` under Node.js and compares the answers with
torch: the random numbers and masks bit for bit, the linear algebra in float64 to ~1e-9, and a
whole explorer setting to a hundredth of a dB. Skipped where ``node`` is not installed.
"""

import json
import math
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.explore.browser_explorer import ALS_DEFAULTS, _als_centres
from matfill_helpers.methods import als

pytestmark = pytest.mark.node

HERE = pathlib.Path(__file__).resolve().parent


def run_js(*requests):
    """Answers of tests/js/run_als.js to the requests (dicts with an ``op``), in order."""
    out = subprocess.run(
        [shutil.which("node") or "node", str(HERE / "js" / "run_als.js")],
        input=json.dumps(list(requests)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _randn(*shape, seed):
    return torch.randn(
        *shape,
        generator=torch.Generator().manual_seed(seed),
        dtype=torch.float64,
    )


def _mask(m, n, prop, seed):
    """(m, n) bool, True = missing."""
    return (
        torch.rand(m, n, generator=torch.Generator().manual_seed(seed)) < prop
    )


# torch's random numbers, bit for bit

SEEDS = [0, 1, 42, 12345, 2**31 - 1, 2**32 + 7]
COUNTS = [1, 623, 624, 625, 1249, 96 * 96]


def test_torch_rand_is_reproduced_bit_for_bit():
    requests = [
        dict(op="rand", seed=s, count=c) for s in SEEDS for c in COUNTS
    ]
    answers = run_js(*requests)
    for r, got in zip(requests, answers):
        g = torch.Generator().manual_seed(r["seed"])
        expected = torch.rand(r["count"], generator=g).numpy()
        np.testing.assert_array_equal(
            np.array(got, dtype=np.float32), expected, err_msg=str(r)
        )


@pytest.mark.parametrize("shape", [(96, 96), (28, 36), (1, 7)])
def test_mask_image_is_reproduced_for_every_slider_proportion(shape):
    H, W = shape
    props = [p / 100 for p in range(5, 96)]
    requests = [
        dict(op="mask", seed=s, prop=p, height=H, width=W)
        for s in (0, 9)
        for p in props
    ]
    img = torch.zeros(3, H, W)
    for r, got in zip(requests, run_js(*requests)):
        _, mask = mh.mask_image(img, r["prop"], generator=r["seed"])
        assert got == mask.flatten().int().tolist(), r


def test_the_mask_compares_in_float32_as_torch_does():
    # a float32 draw u next to each slider proportion p: torch compares u < p in float32
    props = [p / 100 for p in range(5, 96)]
    near = [
        float(np.nextafter(np.float32(p), np.float32(d), dtype=np.float32))
        for p in props
        for d in (0, 1)
    ] + [float(np.float32(p)) for p in props]
    requests = [dict(op="below", u=near, prop=p) for p in props]
    u = torch.tensor(near, dtype=torch.float32)
    for r, got in zip(requests, run_js(*requests)):
        assert got == (u < r["prop"]).int().tolist(), r["prop"]
    assert (
        float(np.float32(0.06)) < 0.06
    )  # one case where float64 would disagree


# the start: pyramid fill and SVD


@pytest.mark.parametrize("shape", [(7, 10), (96, 96), (33, 20), (1, 5)])
def test_pyramid_fill_matches_python(shape):
    m, n = shape
    A = _randn(m, n, seed=1)
    M = (~_mask(m, n, 0.6, seed=2)).double()
    M[0, 0] = 1.0  # at least one observed entry
    (got,) = run_js(
        dict(
            op="pyramid",
            A0=(A * M).flatten().tolist(),
            M=M.flatten().tolist(),
            m=m,
            n=n,
        )
    )
    expected = als.pyramid_fill((A * M)[None], M[None])[0]
    np.testing.assert_allclose(
        np.array(got).reshape(m, n), expected.numpy(), atol=1e-6
    )


def test_symmetric_eigen_matches_numpy():
    X = _randn(40, 30, seed=3)
    G = (X.T @ X).numpy()
    (got,) = run_js(dict(op="eigen", G=G.flatten().tolist(), d=30))
    values, V = (
        np.array(got["values"]),
        np.array(got["vectors"]).reshape(30, 30),
    )
    np.testing.assert_allclose(values, np.linalg.eigvalsh(G), rtol=1e-10)
    np.testing.assert_allclose(V.T @ V, np.eye(30), atol=1e-10)
    np.testing.assert_allclose(G @ V, V * values, atol=1e-8)


@pytest.mark.parametrize(
    "shape, k", [((30, 20), 5), ((20, 30), 5), ((16, 16), 16)]
)
def test_svd_init_gives_the_same_factor_up_to_rotation(shape, k):
    m, n = shape
    X = _randn(m, n, seed=4) + 2.0
    (got,) = run_js(dict(op="svdInit", X=X.flatten().tolist(), m=m, n=n, k=k))
    Ht = torch.tensor(got, dtype=torch.float64).view(n, k)
    M = torch.ones(1, m, n, dtype=torch.float64)
    H = als.svd_init(X[None], M, k)[0]  # (k, n)
    # H^T H = V S V^T does not depend on the signs or basis of the singular vectors
    torch.testing.assert_close(Ht @ Ht.T, H.T @ H, atol=1e-9, rtol=1e-9)


# the sweep


@pytest.mark.parametrize("prop", [0.2, 0.5, 0.8, 1.0])
def test_solve_rows_matches_python(prop):
    m, n, k = 12, 15, 4
    A, F = _randn(m, n, seed=5), _randn(n, k, seed=6)
    missing = _mask(m, n, prop, seed=7)
    missing[0, :] = True  # a row with no observed entry: the ridge alone
    missing[1, :] = False  # a fully observed row: the other Gram path
    (got,) = run_js(
        dict(
            op="solveRows",
            mask=missing.flatten().int().tolist(),
            A=A.flatten().tolist(),
            F=F.flatten().tolist(),
            m=m,
            n=n,
            k=k,
            ridge=0.7,
        )
    )
    M = (~missing).double()
    expected = als.solve_rows(M[None], (A * M)[None], F.T[None], 0.7)[0]
    np.testing.assert_allclose(
        np.array(got).reshape(m, k), expected.numpy(), atol=1e-10
    )


def test_factorize_als_matches_python_sweep_for_sweep():
    m, n, k = 20, 26, 6
    channels = [
        _randn(m, 4, seed=10 + c) @ _randn(4, n, seed=20 + c) for c in range(3)
    ]
    missing = _mask(m, n, 0.4, seed=8)
    options = dict(ridge=0.3, maxSweeps=12, tol=1e-4, centre=False)
    (got,) = run_js(
        dict(
            op="factorize",
            channels=[c.flatten().tolist() for c in channels],
            mask=missing.flatten().int().tolist(),
            m=m,
            n=n,
            k=k,
            options=options,
        )
    )
    A = torch.stack(channels)
    A[:, missing] = float("nan")
    W, H, history = als.factorize_als(A, k, ridge=0.3, max_sweeps=12, tol=1e-4)
    assert len(got["history"]) == len(history)
    np.testing.assert_allclose(
        np.array(got["history"]), history.numpy(), rtol=1e-8
    )
    for c in range(3):
        WH = (
            np.array(got["W"][c]).reshape(m, k)
            @ np.array(got["Ht"][c]).reshape(n, k).T
        )
        np.testing.assert_allclose(WH, (W[c] @ H[c]).numpy(), atol=1e-8)


def test_centring_adds_each_channel_mean_of_its_observed_entries_back():
    m, n, k = 10, 12, 3
    channels = [
        _randn(m, n, seed=30 + c) * 0.1 + 0.5 + 0.1 * c for c in range(3)
    ]
    missing = _mask(m, n, 0.3, seed=9)
    base = dict(
        op="factorize",
        channels=[c.flatten().tolist() for c in channels],
        mask=missing.flatten().int().tolist(),
        m=m,
        n=n,
        k=k,
    )
    options = dict(ridge=1.0, maxSweeps=30, tol=1e-6)
    plain, centred = run_js(
        dict(base, options=dict(options, centre=False)),
        dict(base, options=dict(options, centre=True)),
    )
    observed = ~missing
    for c in range(3):
        assert plain["mean"][c] == 0.0
        assert centred["mean"][c] == pytest.approx(
            float(channels[c][observed].mean()), rel=1e-12
        )
    # the JS twin of the centred ALS: the same as the plain one on data with the mean removed
    shifted = [c - float(c[observed].mean()) for c in channels]
    (ref,) = run_js(
        dict(
            base,
            channels=[c.flatten().tolist() for c in shifted],
            options=dict(options, centre=False),
        )
    )
    for c in range(3):
        np.testing.assert_allclose(centred["W"][c], ref["W"][c], atol=1e-10)


# one whole setting, the page's path for a photo, the scores


@pytest.fixture(scope="module")
def small():
    return mh.fit_image(mh.load_image("china"), (24, 32))


@pytest.mark.parametrize(
    "rank, prop, seed", [(3, 0.3, 0), (12, 0.85, 5), (24, 0.06, 2)]
)
def test_explore_setting_matches_python(small, rank, prop, seed):
    setting = dict(
        rank=rank,
        prop=prop,
        seed=seed,
        ridge=ALS_DEFAULTS["ridge"],
        maxSweeps=ALS_DEFAULTS["max_sweeps"],
        tol=ALS_DEFAULTS["tol"],  # explore_setting runs ALS with its defaults
        centre=_als_centres(),
    )
    (got,) = run_js(
        dict(
            op="explore",
            img=small.double().flatten().tolist(),
            height=24,
            width=32,
            setting=setting,
            recon=True,
        )
    )
    out = mh.explore_setting(small, prop=prop, rank=rank, seed=seed)
    assert got["mask"] == out["mask"].flatten().int().tolist()
    assert got["psnrMissing"] == pytest.approx(out["psnr_missing"], abs=0.01)
    assert got["psnr"] == pytest.approx(out["psnr"], abs=0.01)
    assert got["rmseMissing"] == pytest.approx(out["rmse_missing"], rel=1e-3)
    recon = np.array(got["recon"]).reshape(3, 24, 32)
    np.testing.assert_allclose(recon, out["recon"].numpy(), atol=1e-3)


def test_fit_pixels_matches_fit_image():
    g = torch.Generator().manual_seed(11)
    levels = torch.randint(0, 256, (3, 37, 53), generator=g)
    rgba = torch.cat([levels, torch.full((1, 37, 53), 255)]).permute(1, 2, 0)
    requests = [
        dict(
            op="fit",
            rgba=rgba.flatten().tolist(),
            srcHeight=37,
            srcWidth=53,
            height=h,
            width=w,
        )
        for h, w in [(24, 32), (10, 10), (37, 53), (60, 40)]
    ]
    for r, got in zip(requests, run_js(*requests)):
        expected = mh.fit_image(
            levels.float() / 255, (r["height"], r["width"])
        )
        got = np.array(got).reshape(expected.shape) * 255
        diff = np.abs(got - expected.numpy() * 255)
        assert diff.max() <= 1 + 1e-6, r  # a tie may round the other way
        assert (diff < 1e-6).mean() > 0.99, r


def test_metrics_match_python(small):
    recon = (small + 0.05).clamp(0, 1)
    mask = _mask(24, 32, 0.5, seed=12)
    whole, part = run_js(
        dict(
            op="metrics",
            img=small.flatten().tolist(),
            recon=recon.flatten().tolist(),
        ),
        dict(
            op="metrics",
            img=small.flatten().tolist(),
            recon=recon.flatten().tolist(),
            mask=mask.flatten().int().tolist(),
        ),
    )
    rmse, psnr = mh.metrics(small, recon)
    assert whole["rmse"] == pytest.approx(rmse, rel=1e-6)
    assert whole["psnr"] == pytest.approx(psnr, abs=1e-5)
    rmse_m, psnr_m = mh.metrics(small, recon, mask=mask)
    assert part["psnr"] == pytest.approx(psnr_m, abs=1e-5)
    assert math.isfinite(part["rmse"])


def test_node_unit_tests_of_the_javascript_pass():
    out = subprocess.run(
        [
            shutil.which("node") or "node",
            "--test",
            str(HERE / "js" / "als.test.js"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "# fail 0" in out.stdout and "# pass 0" not in out.stdout
