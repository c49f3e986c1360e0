import numpy as np
import pytest
import torch

import matfill_helpers as mh
from matfill_helpers import benchmark as bm


@pytest.fixture(scope="module")
def tiny_cases():
    return bm.make_cases(
        {
            "china": mh.load_image("china", size=24),
            "flower": mh.load_image("flower", size=24),
        },
        [0.2, 0.6],
        seed=0,
    )


def test_make_cases_draws_each_mask_from_the_seed(tiny_cases):
    assert [(name, p) for name, p, *_ in tiny_cases] == [
        ("china", 0.2),
        ("china", 0.6),
        ("flower", 0.2),
        ("flower", 0.6),
    ]
    name, p, img, masked, mask = tiny_cases[1]
    expected_masked, expected_mask = mh.mask_image(img, 0.6, generator=0)
    assert torch.equal(mask, expected_mask)
    assert torch.equal(torch.isnan(masked), torch.isnan(expected_masked))


def test_biharmonic_is_scikit_images_inpainting(tiny_cases):
    from skimage.restoration import inpaint_biharmonic

    _, _, img, masked, mask = tiny_cases[0]
    ref = inpaint_biharmonic(
        img.permute(1, 2, 0).numpy(), mask.numpy(), channel_axis=-1
    )
    np.testing.assert_allclose(
        bm.biharmonic(masked).permute(1, 2, 0).numpy(),
        np.clip(ref, 0, 1),
        atol=1e-6,
    )


def test_run_methods_scores_every_case_and_method_against_the_reference(
    tiny_cases,
):
    calls = []

    def fake_reference(masked, generator, device):
        calls.append("ref")
        return torch.nan_to_num(masked, nan=0.5)

    methods = {
        bm.REFERENCE: ("mid-grey fill", fake_reference),
        "biharmonic": ("skimage", lambda m, g, d: bm.biharmonic(m)),
    }
    rows = bm.run_methods(tiny_cases, methods, repeats=2, warmup=16)
    assert len(rows) == len(tiny_cases) * 2
    assert len(calls) == 1 + 2 * len(
        tiny_cases
    )  # one warm-up, then two timed calls per case
    for r in rows:
        assert r["runs"] == 2 and r["seconds"] > 0
        _, _, img, masked, mask = next(
            c for c in tiny_cases if c[0] == r["image"] and c[1] == r["prop"]
        )
        if r["method"] == bm.REFERENCE:
            assert r["speedup"] == 1.0
            assert r["psnr_missing"] == pytest.approx(
                mh.metrics(img, torch.nan_to_num(masked, nan=0.5), mask=mask)[
                    1
                ]
            )
    bih = [r for r in rows if r["method"] == "biharmonic"]
    assert all(
        r["psnr_missing"]
        > [
            q
            for q in rows
            if q["method"] == bm.REFERENCE
            and q["image"] == r["image"]
            and q["prop"] == r["prop"]
        ][0]["psnr_missing"]
        for r in bih
    )


def test_run_methods_times_a_long_call_once_but_the_reference_always_repeats(
    tiny_cases,
):
    slow = {
        bm.REFERENCE: ("", lambda m, g, d: torch.nan_to_num(m, nan=0.5)),
        "other": ("", lambda m, g, d: torch.nan_to_num(m, nan=0.5)),
    }
    rows = bm.run_methods(
        tiny_cases[:1], slow, repeats=3, warmup=0, long_call=1e-9
    )
    assert [r["runs"] for r in rows] == [3, 1]


def test_standard_methods_run_with_the_same_generator_seed(tiny_cases):
    _, _, img, masked, _ = tiny_cases[0]
    methods = bm.standard_methods(rank=5)
    assert list(methods) == [
        "GD (blog)",
        "GD (tuned)",
        "ALS",
        "RFF (Adam)",
        "RFF (ridge)",
        "patches",
        "biharmonic",
    ]
    options, fn = methods["ALS"]
    r1, _ = bm.time_call(fn, masked, seed=0)
    r2, _ = bm.time_call(fn, masked, seed=0)
    assert torch.equal(r1, r2) and r1.shape == img.shape


def test_markdown_table_has_one_line_per_row(tiny_cases):
    rows = bm.run_methods(
        tiny_cases[:2],
        {"biharmonic": ("skimage", lambda m, g, d: bm.biharmonic(m))},
        repeats=1,
        warmup=0,
    )
    table = bm.markdown_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert table[2].startswith("| biharmonic | china | 20 % | skimage |")
    assert table[2].endswith("| 1 |  |")  # no reference run: no speed-up
    html = bm.html_table(rows)
    assert (
        html.count("<tr>") == 1 + len(rows)
        and "<td>biharmonic</td><td>china</td><td>20 %</td>" in html
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(repeats=0),
            r"run_methods: 'repeats' must be an int in \[1, inf\]; got 0",
        ),
        (
            dict(long_call=0.0),
            r"run_methods: 'long_call' must be a finite number > 0; got 0.0",
        ),
        (
            dict(warmup=-1),
            r"run_methods: 'warmup' must be an int in \[0, inf\]; got -1",
        ),
    ],
)
def test_run_methods_rejects_bad_arguments(tiny_cases, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bm.run_methods(
            tiny_cases,
            {"biharmonic": ("", lambda m, g, d: bm.biharmonic(m))},
            **kwargs,
        )


def test_run_methods_rejects_no_methods(tiny_cases):
    with pytest.raises(
        ValueError, match=r"run_methods: 'methods' must be a non-empty dict"
    ):
        bm.run_methods(tiny_cases, {})


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_benchmark_script_asked_for_cuda_without_cuda_exits_with_a_clear_message():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    out = subprocess.run(
        [sys.executable, str(script), "--device", "cuda"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert (
        "--device cuda was asked for, but CUDA is not available" in out.stderr
    )
