"""The checkers of the code exercises (``mh.check``).

Every checker passes the chapter's own solution, tells a stub to be
written, and names the typical mistake of a wrong answer with its numbers.
"""

import json
import math
import statistics

import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.learn.check import CheckResult
from tests.notebook_exercises import BOOK, CHAPTERS

CHECKERS = [
    "psnr_from_rmse",
    "rank_r_approx",
    "hide_pixels",
    "scores_on_missing",
    "observed_loss",
    "ridge_row",
    "soft_svd",
    "dof_count",
    "fourier_features",
    "paired_difference",
    "extract_patches",
]


def _stub_exercises():
    """``(chapter, name, stub source, solution source)`` of each chapter."""
    out = []
    for chapter in CHAPTERS:
        cells = json.loads((BOOK / f"{chapter}.ipynb").read_text("utf8"))
        cells = cells["cells"]
        for i, cell in enumerate(cells):
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] != "code" or "stub" not in tags:
                continue
            stub = "".join(cell["source"])
            name = stub.split("def ", 1)[1].split("(", 1)[0]
            later = ["".join(c["source"]) for c in cells[i + 1 :]]
            solution = next(s for s in later if s.startswith(f"def {name}("))
            out.append((chapter, name, stub, solution))
    return out


STUBS = _stub_exercises()


def _namespace():
    return {"torch": torch, "mh": mh, "math": math, "statistics": statistics}


def _define(source, name):
    ns = _namespace()
    exec(source, ns)
    return ns[name]


def test_every_chapter_has_a_stub_with_a_checker():
    assert sorted({chapter for chapter, *_ in STUBS}) == CHAPTERS
    assert {name for _, name, *_ in STUBS} <= set(CHECKERS)
    assert set(CHECKERS) <= set(mh.check.__all__)


@pytest.mark.parametrize(
    "chapter, name, stub, solution", STUBS, ids=[s[0] for s in STUBS]
)
def test_the_chapters_solution_passes_its_checker(
    chapter, name, stub, solution
):
    result = getattr(mh.check, name)(_define(solution, name))
    assert result, result.message
    assert result.passed and result.message.startswith(f"{name} passed")


@pytest.mark.parametrize(
    "chapter, name, stub, solution", STUBS, ids=[s[0] for s in STUBS]
)
def test_a_stub_is_told_to_write_the_body_not_shown_a_traceback(
    chapter, name, stub, solution
):
    result = getattr(mh.check, name)(_define(stub, name))
    assert not result
    assert result.message == (
        f"{name} is not written yet: write the body of {name} (in place "
        "of `raise NotImplementedError`), then run this cell again."
    )


@pytest.mark.parametrize("name", CHECKERS)
def test_a_checker_refuses_what_is_not_a_function(name):
    result = getattr(mh.check, name)(3)
    assert not result
    assert f"mh.check.{name}({name})" in result.message


@pytest.mark.parametrize("name", CHECKERS)
def test_an_error_in_the_learners_function_names_the_case(name):
    def broken(*args, **kwargs):
        return [][1]

    result = getattr(mh.check, name)(broken)
    assert not result
    assert result.message.startswith("case '")
    assert "broken raised IndexError at the line `return [][1]`" in (
        result.message
    )


def test_result_is_truthy_only_when_passed_and_shows_as_html():
    ok, bad = CheckResult("f", True, "f passed."), CheckResult("f", 0, "no")
    assert ok and not bad and bad.passed is False
    assert "code-check-passed" in ok._repr_html_()
    assert "code-check-failed" in bad._repr_html_()
    assert repr(bad) == "\u2717 no"
    assert "&lt;b&gt;" in CheckResult("f", 0, "<b>")._repr_html_()


def _svd(A):
    return torch.linalg.svd(A, full_matrices=False)


def _patches(img, p, s):
    m, n = img.shape[1:]
    return torch.stack(
        [
            img[:, i : i + p, j : j + p].reshape(-1)
            for i in range(0, m - p + 1, s)
            for j in range(0, n - p + 1, s)
        ]
    )


def _mask_per_channel(img, prop, *, generator):
    mask = torch.rand(img.shape, generator=generator) < prop
    return img.masked_fill(mask, float("nan")), mask


def _mask_global_rng(img, prop, *, generator):
    mask = torch.rand(img.shape[1:]) < prop  # ignores the generator
    return img.masked_fill(mask, float("nan")), mask


def _mask_in_place(img, prop, *, generator):
    mask = torch.rand(img.shape[1:], generator=generator) < prop
    img[:, mask] = float("nan")
    return img, mask


def _mask_flipped(img, prop, *, generator):
    mask = torch.rand(img.shape[1:], generator=generator) > prop
    return img.masked_fill(mask, float("nan")), mask


def _scores_all_pixels(img, recon, mask):
    mse = (img - recon).double().pow(2).mean()
    return mse.sqrt().item(), (10 * torch.log10(1 / mse)).item()


def _scores_no_sqrt(img, recon, mask):
    mse = (img[:, mask] - recon[:, mask]).double().pow(2).mean()
    return mse.item(), (10 * torch.log10(1 / mse)).item()


def _row_with_zeros(a, H, ridge):
    a0 = torch.nan_to_num(a)  # the missing entries as zeros
    G = H @ H.T + ridge * torch.eye(H.shape[0], dtype=H.dtype)
    return torch.linalg.solve(G, H @ a0)


def _row_no_ridge(a, H, ridge):
    o = ~torch.isnan(a)
    return torch.linalg.solve(H[:, o] @ H[:, o].T, H[:, o] @ a[o])


def _hard_threshold(A, lam):
    U, S, Vh = _svd(A)
    return (U * torch.where(S > lam, S, 0)) @ Vh


def _no_clamp(A, lam):
    U, S, Vh = _svd(A)
    return (U * (S - lam)) @ Vh


def _rank_plus_one(A, r):
    U, S, Vh = _svd(A)
    return (U[:, : r + 1] * S[: r + 1]) @ Vh[: r + 1]


def _centred(A, r):
    mean = A.mean(0, keepdim=True)
    U, S, Vh = _svd(A - mean)
    return (U[:, :r] * S[:r]) @ Vh[:r] + mean


def _smallest(A, r):
    U, S, Vh = _svd(A)
    return (U[:, -r:] * S[-r:]) @ Vh[-r:]


WRONG = [
    (
        "psnr_from_rmse",
        lambda rmse: 10 * math.log10(1 / rmse),
        "case 'RMSE 0.05': your PSNR is 13.01 dB, expected 26.02 dB. That "
        "is 10 log10(1 / RMSE)",
    ),
    (
        "psnr_from_rmse",
        lambda rmse: -20 * math.log(rmse),
        "You used the natural logarithm",
    ),
    (
        "rank_r_approx",
        _rank_plus_one,
        "case '12 x 8, rank 3': your matrix has rank 4, expected 3",
    ),
    ("rank_r_approx", lambda A, r: _rank_plus_one(A, r).T, "transposed"),
    ("rank_r_approx", _smallest, "you kept the 3 smallest singular values"),
    ("rank_r_approx", _centred, "you subtracted a mean, truncated and"),
    (
        "hide_pixels",
        _mask_per_channel,
        "your mask has shape (3, 40, 30), one per channel; it should be "
        "(40, 30)",
    ),
    (
        "hide_pixels",
        _mask_global_rng,
        "two calls with a generator seeded 0 gave different masks",
    ),
    ("hide_pixels", _mask_in_place, "changed its input 'img' in place"),
    ("hide_pixels", _mask_flipped, "That is about 1 - prop"),
    (
        "scores_on_missing",
        _scores_all_pixels,
        "That is the RMSE of all 120 pixels; score only the 54 missing",
    ),
    ("scores_on_missing", _scores_no_sqrt, "That is the MSE"),
    (
        "observed_loss",
        lambda X, A: (X - torch.nan_to_num(A)).pow(2).mean(),
        "case '64 x 48, 40% hidden': your loss counts the missing entries: "
        "with 40 % hidden it should use 1 854 entries, it used 3 072.",
    ),
    ("observed_loss", lambda X, A: (X - A).pow(2).mean(), "your loss is NaN"),
    (
        "observed_loss",
        lambda X, A: torch.nansum((X - A).pow(2)),
        "the sum of the squared errors; divide by the 1 854 observed",
    ),
    (
        "observed_loss",
        lambda X, A: (X - A.nan_to_num_()).pow(2).mean(),
        "changed its input 'A' in place",
    ),
    ("ridge_row", _row_with_zeros, "you used the missing entries as zeros"),
    ("ridge_row", _row_no_ridge, "your w has no ridge"),
    (
        "ridge_row",
        lambda a, H, ridge: _row_no_ridge(a, H, ridge)[None],
        "your w has shape (1, 4); return a vector of shape (4,)",
    ),
    ("soft_svd", _hard_threshold, "(hard thresholding)"),
    ("soft_svd", _no_clamp, "clip them at 0"),
    (
        "soft_svd",
        lambda A, lam: torch.sign(A) * (A.abs() - lam).clamp_min(0),
        "you thresholded the entries of A",
    ),
    (
        "dof_count",
        lambda m, n, r: r * (m + n),
        "case 'a 128 x 128 channel, rank 20' gives 5 120, expected 4 720",
    ),
    ("dof_count", lambda m, n, r: r * (m + n - 1), "Subtract r\u00b2, not r"),
    (
        "fourier_features",
        lambda x, B, phi: torch.cos(x @ B + phi),
        "you left out the factor sqrt(2 / D) = 0.2000",
    ),
    (
        "fourier_features",
        lambda x, B, phi: (2 / B.shape[1]) ** 0.5 * torch.sin(x @ B + phi),
        "you used sin",
    ),
    (
        "fourier_features",
        lambda x, B, phi: torch.cos(x @ B + phi).T,
        "it is transposed",
    ),
    (
        "paired_difference",
        lambda a, b: (
            statistics.fmean(a) - statistics.fmean(b),
            statistics.pstdev([x - y for x, y in zip(a, b)]),
        ),
        "You divided by k = 5; the sample standard deviation divides by "
        "k - 1 = 4",
    ),
    (
        "paired_difference",
        lambda a, b: (
            statistics.fmean(a) - statistics.fmean(b),
            math.hypot(statistics.stdev(a), statistics.stdev(b)),
        ),
        "as if unpaired",
    ),
    (
        "paired_difference",
        lambda a, b: (statistics.fmean(b) - statistics.fmean(a), 0.0),
        "The sign is flipped",
    ),
    (
        "extract_patches",
        lambda img, p, s: _patches(img, p, s).T,
        "expected (20, 48): one row per patch",
    ),
    (
        "extract_patches",
        lambda img, p, s: _patches(img, p, s)[: -img.shape[2] // s + 1],
        "the last patch starts at row m - p = 8",
    ),
    (
        "extract_patches",
        lambda img, p, s: (
            _patches(img.permute(0, 2, 1), p, s)
            .reshape(-1, 3, p, p)
            .transpose(2, 3)
            .reshape(-1, 3 * p * p)
        ),
        "in another order",
    ),
]


@pytest.mark.parametrize(
    "name, fn, expected",
    WRONG,
    ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(WRONG)],
)
def test_a_typical_mistake_is_named(name, fn, expected):
    result = getattr(mh.check, name)(fn)
    assert not result
    assert expected in result.message, result.message


def test_hide_pixels_says_when_the_masks_are_mask_images():
    def hide(img, prop, *, generator):
        return mh.mask_image(img, prop, generator=generator)

    assert "exactly mh.mask_image's" in mh.check.hide_pixels(hide).message


def test_fourier_features_reference_matches_create_rff_features():
    # the checker's formula, with the helper's frequencies and phases
    from sklearn.kernel_approximation import RBFSampler

    coords = torch.rand(9, 2, generator=torch.Generator().manual_seed(0))
    sampler = RBFSampler(n_components=64, gamma=1 / 8, random_state=3)
    sampler.fit(coords.numpy())
    B = torch.from_numpy(sampler.random_weights_).float()
    phi = torch.from_numpy(sampler.random_offset_).float()
    ours = (2 / 64) ** 0.5 * torch.cos(coords @ B + phi)
    theirs = mh.create_rff_features(coords, 64, 2.0, random_state=3)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_dof_count_formula_is_the_rank_of_the_products_jacobian():
    g = torch.Generator().manual_seed(0)
    m, n, r = 6, 5, 2
    W = torch.randn(m, r, generator=g, dtype=torch.float64)
    H = torch.randn(r, n, generator=g, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(
        lambda W, H: W @ H, (W, H)
    )  # d(WH) / dW, d(WH) / dH
    J = torch.cat([j.reshape(m * n, -1) for j in J], dim=1)
    rank = int(torch.linalg.matrix_rank(J))
    assert rank == r * (m + n - r)

    def right(m, n, r):
        return r * (m + n - r)

    assert mh.check.dof_count(right)
