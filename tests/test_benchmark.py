import statistics

import numpy as np
import pytest
import torch

import matfill_helpers as mh
from matfill_helpers.evaluation import benchmark as bm


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


def test_biharmonic_is_the_registered_peer_method(tiny_cases):
    from matfill_helpers.methods import peers

    _, _, img, masked, mask = tiny_cases[1]
    assert bm.biharmonic is peers.biharmonic
    assert torch.equal(
        mh.reconstruct(masked, method="biharmonic"), bm.biharmonic(masked)
    )
    assert "biharmonic" in bm.standard_methods()


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


def test_load_photo_reads_both_libraries_bundled_images():
    coffee = bm.load_photo("coffee", size=(20, 30))
    china = bm.load_photo("china", size=16)
    assert coffee.shape == (3, 20, 30) and china.shape == (3, 16, 16)
    torch.testing.assert_close(china, mh.load_image("china", size=16))
    assert 0 <= float(coffee.min()) and float(coffee.max()) <= 1
    assert bm.load_photo("motorcycle").shape == (
        3,
        500,
        741,
    )  # a stereo pair's left view


def test_photo_mosaic_fills_every_pixel_deterministically():
    a = bm.photo_mosaic(260, 900, row=120)
    assert a.shape == (3, 260, 900) and a.dtype == torch.float32
    assert 0 <= float(a.min()) and float(a.max()) <= 1
    torch.testing.assert_close(a, bm.photo_mosaic(260, 900, row=120))
    # every row of tiles is filled: no pixel left at torch.empty's arbitrary values
    assert bool((a.std(dim=(0, 1)) > 0).all())


def test_mean_fill_gives_each_channel_its_observed_mean(tiny_cases):
    _, _, img, masked, mask = tiny_cases[1]
    filled = bm.mean_fill(masked)
    assert torch.equal(filled[:, ~mask], img[:, ~mask])
    for c in range(3):
        assert torch.allclose(
            filled[c][mask], img[c][~mask].mean().expand(int(mask.sum()))
        )
    ((name, (options, fn)),) = bm.floor_method().items()
    assert name == bm.MEAN_FILL and torch.equal(fn(masked, None, None), filled)


def test_run_job_measures_one_reconstruction_in_this_process():
    job = dict(
        image=dict(photo="china", size=24), prop=0.5, method="als", rank=4
    )
    res = bm.run_job(job)
    img = mh.load_image("china", size=24)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    expected = mh.metrics(
        img, mh.reconstruct(masked, rank=4, generator=0), mask=mask
    )[1]
    assert res["psnr_missing"] == pytest.approx(expected)
    assert res["seconds"] > 0 and res["peak_mb"] >= res["base_mb"] > 0
    assert res["shape"] == [3, 24, 24]
    crop = bm.run_job(dict(job, image=dict(mosaic=[300, 400], crop=[32, 48])))
    assert crop["shape"] == [3, 32, 48]


@pytest.mark.slow
def test_run_in_subprocess_reports_results_and_errors():
    job = dict(
        image=dict(photo="china", size=24), prop=0.5, method="als", rank=4
    )
    res = bm.run_in_subprocess(job, threads=1)
    assert res["threads"] == 1 and res["psnr_missing"] == pytest.approx(
        bm.run_job(job)["psnr_missing"], abs=1e-4
    )
    bad = bm.run_in_subprocess(dict(job, method="nmf"))
    assert "method" in bad["error"]


def test_busy_cpu_starts_and_ends_its_process():
    with bm.busy_cpu() as busy:
        assert busy.proc.poll() is None  # spinning
    assert busy.proc.poll() is not None


@pytest.mark.slow
def test_thread_comparison_runs_each_setting_in_its_own_process():
    cases = [
        (
            "ALS 24",
            dict(
                image=dict(photo="china", size=24),
                prop=0.5,
                method="als",
                rank=4,
            ),
        )
    ]
    rows = bm.thread_comparison(cases, busy=False, settings=(1, "auto"))
    assert [(r["case"], r["setting"]) for r in rows] == [
        ("ALS 24", "1"),
        ("ALS 24", "auto"),
    ]
    assert [r["threads"] for r in rows] == [1, 2]  # the process's setting
    assert all(r["psnr_missing"] == rows[0]["psnr_missing"] for r in rows)


def _run_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_targets_report_the_speed_ratio_high_missing_margins_and_the_floor():
    run = _run_script()

    def row(method, prop, psnr, seconds=1.0, image="china"):
        return dict(
            method=method,
            image=image,
            prop=prop,
            psnr_missing=psnr,
            seconds=seconds,
            runs=3,
        )

    rows = [
        row(bm.REFERENCE, 0.4, 18.0, seconds=10.0),
        row("ALS", 0.4, 20.0, seconds=0.4),
        row("patches", 0.9, 22.5),
        row("biharmonic", 0.9, 22.2),
        row("ALS", 0.9, 15.0),
        row(bm.MEAN_FILL, 0.9, 10.0),
    ]
    lines = run.targets(rows, 50)
    assert lines[0].startswith(
        f"- ALS vs {bm.REFERENCE}, china 40 % missing, rank 50: 25.0x faster"
    )
    assert "+2.00 dB" in lines[0] and ">= 20x" in lines[0]
    assert (
        "- patches vs biharmonic, china 90 %: 22.50 vs 22.20 dB (+0.30 dB)"
        in lines[1]
    )
    assert lines[2] == (
        "- floor: 1 of 1 cases with every method at or above the mean fill; smallest margin "
        "+5.00 dB (ALS, china 90 %); target: none below"
    )


def test_scale_section_reports_every_measurement(monkeypatch):
    run = _run_script()
    monkeypatch.setattr(run, "SCALE_SHAPE", (64, 96))
    monkeypatch.setattr(run, "SCALE_CROP", (32, 32))
    monkeypatch.setattr(
        run, "SCALE_OPTIONS", dict(rank=5, clusters=4, iters=2)
    )
    monkeypatch.setattr(run, "ALS_RANKS", (2, 4))
    monkeypatch.setattr(run, "SOFT_RANK_CAP", 4)
    monkeypatch.setattr(run, "SOFT_PHOTO", dict(photo="china", size=40))
    monkeypatch.setattr(
        run, "SCALE_PHOTO", dict(photo="china", size=40, resize=[48, 72])
    )
    monkeypatch.setattr(
        run.bm, "run_in_subprocess", lambda job, **kw: bm.run_job(job)
    )
    fake = [dict(case="GD 8", setting="1", seconds=0.1, cpu_seconds=0.1)]
    monkeypatch.setattr(run.bm, "thread_comparison", lambda: fake)
    lines, out = run.scale_section(lambda line: None)
    assert sorted(out) == [
        "als_rank_2",
        "als_rank_4",
        "patches_china",
        "patches_crop",
        "patches_full",
        "softimpute_china-40",
        "softimpute_mosaic",
        "threads",
    ]
    assert lines[2].startswith(
        "- patches (rank=5, clusters=4, iters=2) on china.jpg resized to "
        "48 x 72 photo"
    )
    assert "<= 60 s" in lines[2]
    assert out["patches_china"]["shape"] == [3, 48, 72]
    assert lines[3].startswith(
        "- SoftImpute (ridge 1, rank cap 4: randomized SVD) on china-40"
    )
    assert "peak" in lines[4] and "PSNR missing" in lines[4]
    assert (
        "on the 32 x 32 photo" in lines[0] and "before: 27.87 dB" in lines[0]
    )
    assert "on the 64 x 96 photo" in lines[1] and "<= 60 s" in lines[1]
    assert lines[5].startswith("- ALS rank 2 on 1024 x 1024 (2 sweeps): peak")
    assert lines[-1] == "  - GD 8, threads 1: 0.10 s (0.10 s of CPU)"


def test_run_seeds_gives_every_method_the_masks_of_each_seed():
    images = {"china": mh.load_image("china", size=20)}
    methods = {
        k: v
        for k, v in bm.standard_methods(rank=3).items()
        if k in ("ALS", "GD (tuned)")
    }
    rows = bm.run_seeds(
        images,
        [0.3, 0.6],
        methods,
        seeds=[2, 5],
        repeats=1,
        warmup=0,
        keep=True,
    )
    assert len(rows) == 2 * 2 * 2
    for r in rows:
        _, mask = mh.mask_image(
            images["china"], r["prop"], generator=r["seed"]
        )
        assert torch.equal(
            torch.isnan(r["recon"]).any(0), torch.zeros_like(mask)
        )
        expected = mh.metrics(images["china"], r["recon"], mask=mask)[1]
        assert r["psnr_missing"] == pytest.approx(expected)


def _row(method, seed, value, image="a", prop=0.5):
    return dict(
        method=method,
        image=image,
        prop=prop,
        seed=seed,
        psnr_missing=value,
        seconds=1.0,
    )


def test_summarize_calls_a_lead_clear_only_when_the_paired_difference_exceeds_its_spread():
    # x beats y by exactly 0.1 dB on every mask: tiny but consistent, so clear
    rows = [_row("x", s, 20 + s + 0.1) for s in range(5)]
    rows += [_row("y", s, 20 + s) for s in range(5)]
    # z beats y on average but loses on two of five masks: within its spread
    rows += [_row("y", s, 20.0, prop=0.8) for s in range(5)]
    rows += [
        _row("z", s, v, prop=0.8)
        for s, v in enumerate([21, 19, 21.5, 19.2, 20.8])
    ]
    steady, noisy = bm.summarize(rows)
    assert (steady["best"], steady["runner_up"], steady["clear"]) == (
        "x",
        "y",
        True,
    )
    assert steady["lead"] == pytest.approx(0.1) and steady[
        "lead_sd"
    ] == pytest.approx(0, abs=1e-9)
    assert steady["methods"]["x"]["sd"] == pytest.approx(
        statistics.stdev(range(5))
    )
    assert (noisy["best"], noisy["clear"]) == ("z", False)
    table = bm.summary_table([steady, noisy])
    assert "x by 0.10 ± 0.00 dB: clear" in table and "within spread" in table
    assert bm.summary_table([steady], html=True).count("<tr>") == 2


def test_summarize_refuses_methods_run_on_different_seeds():
    rows = [_row("x", 0, 20), _row("x", 1, 21), _row("y", 0, 20)]
    with pytest.raises(
        ValueError, match="summarize: 'rows' must be every method"
    ):
        bm.summarize(rows)


def test_als_vs_gd_threads_reports_default_and_one_thread(monkeypatch):
    import os

    run = _run_script()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    lines, out = run.als_vs_gd_threads(4, size=16)
    assert set(out) == {"default", "1"} and len(lines) == 2
    assert out["1"]["als"]["threads"] == 1
    assert "torch threads default" in lines[0] and "x; target" in lines[0]
    assert os.environ["OMP_NUM_THREADS"] == "1"  # the caller's setting is back


def test_margins_pair_the_book_method_with_the_best_peer_mask_by_mask():
    rows = [
        dict(method=m, image="a", prop=0.8, seed=s, psnr_missing=v)
        for m, values in {
            "patches": [20.0, 21.0, 22.0],
            "fsr": [19.5, 20.8, 21.4],  # the best peer on average
            "tv": [19.9, 19.0, 19.0],
        }.items()
        for s, v in enumerate(values)
    ]
    ((image, prop, peer, mean, sd, clear),) = bm.margins(
        rows, "patches", ["fsr", "tv"]
    )
    assert (image, prop, peer) == ("a", 0.8, "fsr")
    assert mean == pytest.approx((0.5 + 0.2 + 0.6) / 3)
    assert sd == pytest.approx(statistics.stdev([0.5, 0.2, 0.6]))
    assert clear  # 0.43 > 0.21


def test_the_field_runs_the_books_methods_and_every_peer():
    run = _run_script()
    methods = run.field_methods(rank=3)
    assert list(methods) == ["patches", "ALS", "SoftImpute", *run.PEERS]
    img = mh.load_image("flower", size=24)
    masked, mask = mh.mask_image(img, 0.5, generator=0)
    for name, (_, fn) in methods.items():
        recon = fn(masked.clone(), 0, "cpu")
        assert recon.shape == img.shape, name
        assert bool(((recon >= 0) & (recon <= 1)).all()), name
        # every method beats a blank (all-zero) fill on the missing pixels
        assert (
            mh.metrics(img, recon, mask=mask)[1]
            > mh.metrics(img, torch.zeros_like(img), mask=mask)[1]
        ), name
