"""Benchmark every reconstruction method side by side and print a markdown table.

    python benchmarks/run.py              # full run: china, flower at 400 x 400 (~20 min, 2 cores)
    python benchmarks/run.py --quick      # 128 x 128 crops (a few minutes on 2 cores)
    python benchmarks/run.py --scale      # also: full-size photos, memory, threads (~15 min more)
    python benchmarks/run.py --device cuda    # on the GPU, plus the blog post's grid with ALS
    python benchmarks/run.py --out table.md   # also write the report to a file

Every method runs in this one process on the same images and masks (``mh.mask_image`` with seed 0
at 10, 40 and 80 % missing). Times are medians of timed calls after a warm-up (see
``matfill_helpers.evaluation.benchmark``). Every method runs with fixed defaults: no setting is
chosen by looking at the missing pixels. Each table is followed by the same cases on ``--seeds``
masks (seeds 0..N-1, default 5; one timed run per extra mask): the mean ± standard deviation of the
PSNR on the missing pixels, and per case the best method with its paired lead over the runner-up on
the same masks, called clear only when the lead exceeds its standard deviation. A second table runs
ALS, the patch method, the biharmonic fill and the mean fill (the floor) at 90 and 95 % missing on
china, flower and scikit-image's astronaut, coffee and chelsea; a third, on images the patch method
was not tuned on. ``--scale`` measures, each in a fresh process: the patch method on a 2000 x 3000
photo and on a 1024 x 1024 crop of it (time, peak memory, quality against the method before this
benchmark existed), ALS's peak memory on 1024 x 1024 for ranks up to 500, and 1 against 2 torch
threads on small problems while another process keeps a core busy. The results are also written as
JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import matfill_helpers as mh  # noqa: E402
from matfill_helpers.evaluation import benchmark as bm  # noqa: E402
from matfill_helpers.methods.als import svd_init  # noqa: E402

PROPS = (0.1, 0.4, 0.8)
HIGH_PROPS = (0.9, 0.95)
SKIMAGE = (
    "astronaut",
    "coffee",
    "chelsea",
)  # 256 x 256 centre crops (128 with --quick)
HELD_OUT = (
    "rocket",
    "motorcycle",
)  # scikit-image photos no setting was tuned on
# --scale: the patch method on a photo mosaic (mh.benchmark.photo_mosaic), 50 % missing
SCALE_SHAPE, SCALE_CROP, SCALE_PROP = (2000, 3000), (1024, 1024), 0.5
# rank 50, the chapters' rank; the other options are the defaults (96 groups at these sizes);
# two threads (the target is for 2 cores), whatever THREADS the caller set
SCALE_OPTIONS = dict(rank=50)
# and a single photo at a camera's size: china.jpg Lanczos-resized to 2000 x 3000
SCALE_PHOTO = dict(photo="china", resize=list(SCALE_SHAPE))
# the patch method as it was before these measurements (rank 50, 32 groups, 6 passes, no
# sampling or bands) on the same 1024 x 1024 crop and mask (mh.mask_image seed 1, generator 0):
# PSNR on the missing pixels; it peaked at 2.1 GB and took 57 s on 2 idle cores
BEFORE_1024_PSNR = 27.87
ALS_RANKS = (50, 100, 200, 300, 400, 500)
# --scale: SoftImpute's SVD is capped at this rank (a randomized SVD) on the large photos
SOFT_RANK_CAP = 50
SOFT_PHOTO = dict(photo="china", size=400)
GRID_PROPS, GRID_RANKS = (0.1, 0.4, 0.8), (50, 100, 300, 400)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
EXPLORER_CHANGES = [("rank", r) for r in (11, 12, 13, 14, 15)] + [
    ("prop", p) for p in (0.45, 0.4, 0.35, 0.3)
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--device",
        default="cpu",
        help="where the methods compute: cpu (default) or cuda",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="128 x 128 images: about two minutes on 2 cores",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="also write the report (markdown) to this file",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed calls per case (median reported)",
    )
    parser.add_argument(
        "--methods",
        help="comma-separated subset of: " + ", ".join(bm.standard_methods()),
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also measure full-size photos, peak memory and threads",
    )
    parser.add_argument(
        "--field",
        action="store_true",
        help="also the field side by side: the peers on 9 images, 10-95 %% missing",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="masks per case for the mean ± sd tables (seeds 0..N-1; default 5)",
    )
    parser.add_argument(
        "--rank",
        type=int,
        default=50,
        help="rank of the low-rank methods (default 50)",
    )
    return parser.parse_args(argv)


def check_device(name):
    try:
        device = torch.device(name)
    except RuntimeError as err:
        sys.exit(
            f"benchmarks/run.py: --device {name!r} is not a device name ({err})."
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(
            "benchmarks/run.py: --device cuda was asked for, but CUDA is not "
            f"available here (torch {torch.__version__}, built for CUDA "
            f"{torch.version.cuda}). Run without --device for the CPU."
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        sys.exit(
            "benchmarks/run.py: --device mps was asked for, but MPS is not available here."
        )
    return device


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def header(device, args):
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else cpu_name()
    )
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "device": f"{device} ({name})",
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "mode": ("quick" if args.quick else "full")
        + (" + scale" if args.scale else ""),
        "repeats": args.repeats,
        "GD_TUNED": ", ".join(f"{k}={v}" for k, v in mh.GD_TUNED.items()),
    }


def explorer_latency(quick):
    """Median seconds of one explorer update to an uncached setting, and what was timed."""
    n = 5 if quick else len(EXPLORER_CHANGES)
    times = []
    ui = (
        mh.explorer()
    )  # its defaults: the image, size, method and first setting a reader sees
    what = (
        f"mh.explorer() update (method {ui.method_dropdown.value!r}, "
        f"size {tuple(ui.img.shape[1:])})"
    )
    for slider, value in EXPLORER_CHANGES[:n]:
        control = ui.rank_slider if slider == "rank" else ui.prop_slider
        t0 = time.perf_counter()
        control.value = value  # recomputes synchronously
        times.append(time.perf_counter() - t0)
        if ui.result.get("cached"):
            what += " (warning: a cached setting was timed)"
    ui.close()
    return statistics.median(times), len(times), what


def gpu_grid(device):
    """Total seconds of the blog post's grid (china-400, 3 proportions x 4 ranks), one pass each.

    ``als`` and ``gd`` call ``mh.reconstruct`` from scratch for every cell; ``als (shared SVD)``
    computes ALS's SVD start once per proportion (the mask, hence the start, is the same for every
    rank) and passes each rank its slice as ``H0``: the same results, less work.
    """
    img = mh.load_image("china", size=400)
    masks = {
        p: mh.mask_image(img, p, generator=0)[0].to(device) for p in GRID_PROPS
    }

    def scratch(method):
        for p in GRID_PROPS:
            for r in GRID_RANKS:
                mh.reconstruct(masks[p], rank=r, method=method, generator=0)

    def shared():
        for p in GRID_PROPS:
            M = (~torch.isnan(masks[p])).float()  # (3, H, W)
            H = svd_init(
                torch.nan_to_num(masks[p]), M, max(GRID_RANKS)
            )  # its first r rows: the rank-r start
            for r in GRID_RANKS:
                mh.reconstruct(
                    masks[p], rank=r, method="als", generator=0, H0=H[:, :r]
                )

    out = {}
    for name, run in (
        ("als", lambda: scratch("als")),
        ("als (shared SVD)", shared),
        ("gd", lambda: scratch("gd")),
    ):
        mh.reconstruct(
            masks[0.4],
            rank=GRID_RANKS[0],
            method=name[:3].strip(),
            generator=0,
        )  # warm-up
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        run()
        torch.cuda.synchronize()
        out[name] = time.perf_counter() - t0
    return out


def over_seeds(images, props, methods, first_rows, seeds, **kwargs):
    """Markdown: the cases of ``first_rows`` (seed 0) and of seeds 1..seeds-1, mean ± sd."""
    rows = [dict(r, seed=0) for r in first_rows]
    if seeds > 1:
        rows += bm.run_seeds(
            images,
            props,
            methods,
            seeds=range(1, seeds),
            repeats=1,
            warmup=0,
            **kwargs,
        )
    cells = bm.summarize(rows)
    clear = sum(c["clear"] for c in cells)
    return (
        f"Over {seeds} masks (seeds 0..{seeds - 1}): PSNR on the missing pixels, mean ± sd "
        f"(mean seconds); the best method's paired lead is clear in {clear} of "
        f"{len(cells)} cases.\n\n" + bm.summary_table(cells)
    )


def als_vs_gd_threads(rank, size=400):
    """ALS against the blog's GD on china (``size``: 400 in the full run) at 40 % missing, each
    in a fresh process as a reader runs them: with torch's default threads (``OMP_NUM_THREADS``
    unset) and with one.

    Returns report lines and the measurements.
    """
    lines, out = [], {}
    saved = {k: os.environ.pop(k, None) for k in THREAD_VARS}
    try:
        for setting in ("default", 1):
            res = {
                method: bm.run_in_subprocess(
                    dict(
                        image=dict(photo="china", size=size),
                        prop=0.4,
                        method=method,
                        rank=rank,
                    ),
                    threads=None if setting == "default" else setting,
                )
                for method in ("als", "gd")
            }
            out[str(setting)] = res
            if any("error" in r for r in res.values()):
                lines.append(f"- threads {setting}: failed: {res}")
                continue
            als, gd = res["als"], res["gd"]
            lines.append(
                f"- ALS vs {bm.REFERENCE}, china-{size}, 40 % missing, rank {rank}, "
                f"torch threads {setting} ({als['threads']}), fresh process: "
                f"{als['seconds']:.2f} s vs {gd['seconds']:.2f} s, "
                f"{gd['seconds'] / als['seconds']:.1f}x; target: >= 20x"
            )
    finally:
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v
    return lines, out


#: The field side by side: the peers (registered methods with fixed defaults), and the
#: proportions; images the book's defaults were chosen on, and images they were not.
PEERS = ("biharmonic", "telea", "navier_stokes", "fsr", "tv", "halrtc")
FIELD_PROPS = (0.1, 0.5, 0.8, 0.9, 0.95)
FIELD_TUNED = ("china", "flower", "astronaut", "coffee", "chelsea")


def field_images(crop, quick):
    """(tuned, held out): dicts of name -> (3, m, n) image, ``crop`` pixels a side."""
    tuned = {name: bm.load_photo(name, size=crop) for name in FIELD_TUNED}
    held = {name: bm.load_photo(name, size=crop) for name in HELD_OUT}
    if not quick:
        held["china-br"] = mh.load_image("china")[
            :, -crop:, -crop:
        ].contiguous()
    return tuned, held


def field_methods(rank):
    """The book's best method (patches), ALS and the peers, as ``bm.run_methods`` entries."""

    def rec(method, **options):
        return lambda masked, generator, device: mh.reconstruct(
            masked,
            method=method,
            generator=generator,
            device=device,
            **options,
        )

    methods = {
        "patches": (f"rank {rank}; defaults", rec("patches", rank=rank)),
        "ALS": (f"rank {rank}; defaults", rec("als", rank=rank)),
        "SoftImpute": (
            f"rank cap {rank}; defaults (ridge 1)",
            rec("softimpute", rank=rank),
        ),
    }
    for name in PEERS:
        methods[name] = ("defaults", rec(name))
    return methods


def field_section(args, rank, device, progress):
    """Markdown: the field side by side over ``args.seeds`` masks, and the margins."""
    crop = 128 if args.quick else 256
    tuned, held = field_images(crop, args.quick)
    methods = field_methods(rank)
    seeds = range(max(1, args.seeds))
    parts = [
        "## The field side by side",
        "",
        f"The patch method (the book's best), ALS and the field's tools ({', '.join(PEERS)}), "
        f"every one with fixed defaults, on {crop} x {crop} centre crops, the same "
        f"{len(seeds)} masks per case (seeds 0..{len(seeds) - 1}): PSNR on the missing "
        "pixels, mean ± sd (mean seconds per image).",
    ]
    report = {}
    for label, images in (("tuned on", tuned), ("not tuned on", held)):
        rows = bm.run_seeds(
            images,
            FIELD_PROPS,
            methods,
            seeds=seeds,
            repeats=1,
            warmup=0,
            device=device,
            progress=progress,
        )
        cells = bm.summarize(rows)
        marg = bm.margins(rows, "patches", PEERS)
        report[label] = rows
        parts += [
            "",
            f"### Images the defaults were {label}: {', '.join(images)}",
            "",
            bm.summary_table(cells),
            "",
            "The patch method against the best peer of each case (paired over the masks):",
            "",
        ]
        parts += [
            f"- {image} {round(100 * prop)} %: {peer}, patches {avg:+.2f} ± {sd:.2f} dB"
            + (" (clear)" if clear else "")
            for image, prop, peer, avg, sd, clear in marg
        ]
        at_least = [m for m in marg if m[1] >= 0.5]
        if at_least:
            low = min(at_least, key=lambda m: m[3])
            parts.append(
                f"- smallest margin from 50 % missing up: {low[3]:+.2f} ± {low[4]:.2f} dB "
                f"({low[0]} {round(100 * low[1])} %, against {low[2]}); target: >= 0"
            )
    return "\n".join(parts), report


def targets(rows, rank):
    """Lines comparing the measured rows with the project's targets."""
    lines = []

    def row(method, image, prop):
        hits = [
            r
            for r in rows
            if r["method"] == method
            and r["image"] == image
            and r["prop"] == prop
        ]
        return hits[0] if hits else None

    als, gd = row("ALS", "china", 0.4), row(bm.REFERENCE, "china", 0.4)
    if als and gd:
        lines.append(
            f"- ALS vs {bm.REFERENCE}, china 40 % missing, rank {rank}: "
            f"{gd['seconds'] / als['seconds']:.1f}x faster "
            f"({als['seconds']:.3f} s vs {gd['seconds']:.3f} s, "
            f"medians of {als['runs']} and {gd['runs']}), "
            f"PSNR missing {als['psnr_missing']:.2f} vs "
            f"{gd['psnr_missing']:.2f} dB "
            f"({als['psnr_missing'] - gd['psnr_missing']:+.2f} dB); "
            f"target: >= 20x and >= +1.5 dB"
        )
    cases = dict.fromkeys((r["image"], r["prop"]) for r in rows)
    for image, prop in cases:
        ours, ref = row("patches", image, prop), row("biharmonic", image, prop)
        if ours and ref:
            lines.append(
                f"- patches vs biharmonic, {image} {round(100 * prop)} %: "
                f"{ours['psnr_missing']:.2f} vs {ref['psnr_missing']:.2f} dB "
                f"({ours['psnr_missing'] - ref['psnr_missing']:+.2f} dB); "
                f"target: >= 0"
            )
    margins = []  # (margin over the mean fill, the lowest method's row) per case
    for image, prop in cases:
        floor = row(bm.MEAN_FILL, image, prop)
        others = [
            r
            for r in rows
            if (r["image"], r["prop"]) == (image, prop)
            and r["method"] != bm.MEAN_FILL
        ]
        if floor and others:
            worst = min(others, key=lambda r: r["psnr_missing"])
            margins.append(
                (worst["psnr_missing"] - floor["psnr_missing"], worst)
            )
    if margins:
        low, r = min(margins, key=lambda m: m[0])
        below = sum(m < 0 for m, _ in margins)
        lines.append(
            f"- floor: {len(margins) - below} of {len(margins)} cases with "
            f"every method at or above the mean fill; smallest margin "
            f"{low:+.2f} dB ({r['method']}, {r['image']} "
            f"{round(100 * r['prop'])} %); target: none below"
        )
    return lines


def scale_section(progress):
    """The --scale measurements, each in a fresh process: report lines and JSON."""
    out, lines = {}, []
    opts = dict(SCALE_OPTIONS)
    rank = opts.pop("rank")
    job = dict(
        prop=SCALE_PROP, method="patches", rank=rank, options=opts, mask_seed=1
    )
    settings = ", ".join(f"{k}={v}" for k, v in SCALE_OPTIONS.items())
    for name, image in (
        ("crop", dict(mosaic=SCALE_SHAPE, crop=SCALE_CROP)),
        ("full", dict(mosaic=SCALE_SHAPE)),
        ("china", SCALE_PHOTO),
    ):
        res = bm.run_in_subprocess(dict(job, image=image), threads=2)
        out[f"patches_{name}"] = res
        progress(f"patches {name}: {res}")
        if "error" in res:
            lines.append(f"- patches on {image}: failed: {res['error']}")
            continue
        h, w = res["shape"][1:]
        what = "china.jpg resized to" if name == "china" else "the"
        lines.append(
            f"- patches ({settings}) on {what} {h} x {w} photo, "
            f"{round(100 * SCALE_PROP)} % missing: {res['seconds']:.1f} s "
            f"({res['cpu_seconds']:.1f} s of CPU, {res['threads']} threads), "
            f"peak {res['peak_mb']:.0f} MB (Python and torch alone: "
            f"{res['base_mb']:.0f} MB), PSNR missing "
            f"{res['psnr_missing']:.2f} dB"
            + (
                f" (before: {BEFORE_1024_PSNR:.2f} dB; target: no worse)"
                if name == "crop"
                else "; target: <= 60 s and <= 3000 MB on 2 cores"
            )
        )
    for name, image in (
        ("china-" + str(SOFT_PHOTO["size"]), SOFT_PHOTO),
        ("mosaic", dict(mosaic=SCALE_SHAPE)),
    ):
        res = bm.run_in_subprocess(
            dict(
                image=image,
                prop=SCALE_PROP,
                method="softimpute",
                rank=SOFT_RANK_CAP,
                options=dict(ridge=1.0),
                mask_seed=1,
            ),
            threads=2,
        )
        out[f"softimpute_{name}"] = res
        progress(f"SoftImpute {name}: {res}")
        lines.append(
            f"- SoftImpute (ridge 1, rank cap {SOFT_RANK_CAP}: randomized SVD) on {name}, "
            f"{round(100 * SCALE_PROP)} % missing: "
            + (
                f"{res['seconds']:.1f} s ({res['cpu_seconds']:.1f} s of CPU, "
                f"{res['threads']} threads), peak {res['peak_mb']:.0f} MB (Python and torch "
                f"alone: {res['base_mb']:.0f} MB), PSNR missing {res['psnr_missing']:.2f} dB"
                if "error" not in res
                else f"failed: {res['error']}"
            )
        )
    for r in ALS_RANKS:
        res = bm.run_in_subprocess(
            dict(
                image=dict(mosaic=SCALE_SHAPE, crop=SCALE_CROP),
                prop=SCALE_PROP,
                method="als",
                rank=r,
                options=dict(max_sweeps=2),  # the peak is reached in a sweep
            )
        )
        out[f"als_rank_{r}"] = res
        progress(f"ALS rank {r}: {res}")
        lines.append(
            f"- ALS rank {r} on 1024 x 1024 (2 sweeps): "
            + (
                f"peak {res['peak_mb']:.0f} MB (Python and torch alone: "
                f"{res['base_mb']:.0f} MB), {res['seconds']:.1f} s"
                if "error" not in res
                else f"failed: {res['error']}"
            )
            + "; target: <= 2000 MB"
        )
    rows = bm.thread_comparison()
    out["threads"] = rows
    lines.append(
        "- one core kept busy by another process; each case in a fresh "
        "process with OMP_NUM_THREADS = 1 or 2 (the package's one-thread "
        "rule off), and 2 with the rule on ('auto'):"
    )
    for r in rows:
        lines.append(
            f"  - {r['case']}, threads {r['setting']}: "
            + (
                f"{r['seconds']:.2f} s ({r['cpu_seconds']:.2f} s of CPU)"
                if "error" not in r
                else f"failed: {r['error']}"
            )
        )
    return lines, out


def main(argv=None):
    args = parse_args(argv)
    device = check_device(args.device)
    info = header(device, args)
    size = 128 if args.quick else 400
    rank = min(args.rank, size)
    methods = bm.standard_methods(rank=rank)
    # SoftImpute (the convex nuclear-norm problem, lambda = ALS's default ridge; no rank)
    methods["SoftImpute"] = (
        "ridge 1.0 (ALS's default lambda), no rank cap",
        lambda masked, generator, device: mh.reconstruct(
            masked,
            method="softimpute",
            ridge=1.0,
            generator=generator,
            device=device,
        ),
    )
    if args.methods:
        unknown = sorted(set(args.methods.split(",")) - set(methods))
        if unknown:
            sys.exit(
                f"benchmarks/run.py: unknown method(s) {unknown}; choose from {list(methods)}"
            )
        methods = {
            k: v for k, v in methods.items() if k in args.methods.split(",")
        }
    print("# matfill benchmark\n")
    for key, value in info.items():
        print(f"- {key}: {value}")
    print(
        f"- images: china and flower, {size} x {size}; masks: "
        f"mh.mask_image(img, p, generator=0), p in {PROPS}\n",
        flush=True,
    )

    cases = bm.make_cases(
        {name: mh.load_image(name, size=size) for name in ("china", "flower")},
        PROPS,
        seed=0,
    )
    start = time.perf_counter()
    work_device = None if device.type == "cpu" else device

    def progress(line):
        print("  " + line, file=sys.stderr, flush=True)

    rows = bm.run_methods(
        cases,
        methods,
        repeats=args.repeats,
        seed=0,
        warmup=min(size, max(64, rank)),
        long_call=3.0 if args.quick else 10.0,
        device=work_device,
        progress=progress,
    )
    table = bm.markdown_table(rows)
    seeds = max(1, args.seeds)
    table += "\n\n" + over_seeds(
        {name: mh.load_image(name, size=size) for name in ("china", "flower")},
        PROPS,
        methods,
        rows,
        seeds,
        device=work_device,
        progress=progress,
    )
    report = (
        ["# matfill benchmark", ""]
        + [f"- {k}: {v}" for k, v in info.items()]
        + ["", table, ""]
    )
    print(table + "\n", flush=True)

    high = {
        k: v
        for k, v in methods.items()
        if k in ("ALS", "patches", "biharmonic")
    }
    high.update(bm.floor_method())
    crop = 128 if args.quick else 256
    high_images = {
        name: mh.load_image(name, size=size) for name in ("china", "flower")
    }
    high_images.update(
        {name: bm.load_photo(name, size=crop) for name in SKIMAGE}
    )
    high_rows = bm.run_methods(
        bm.make_cases(high_images, HIGH_PROPS, seed=0),
        high,
        repeats=1,
        seed=0,
        warmup=0,
        device=work_device,
        progress=progress,
    )
    section = (
        f"## 90 and 95 % missing\n\nchina and flower at {size} x {size}, "
        f"scikit-image's {', '.join(SKIMAGE)} at {crop} x {crop} (centre "
        "crops); one timed run each:\n\n"
        + bm.markdown_table(high_rows)
        + "\n\n"
        + over_seeds(
            high_images,
            HIGH_PROPS,
            high,
            high_rows,
            seeds,
            device=work_device,
            progress=progress,
        )
    )
    print(section + "\n", flush=True)
    report += [section, ""]

    held = {k: v for k, v in high.items() if k != "ALS"}
    held_rows = []
    if held and not args.quick:  # images no default was tuned on
        holdout = {
            "china-br256": mh.load_image("china")[
                :, -256:, -256:
            ].contiguous(),
            "flower-300x500": mh.load_image("flower", size=(300, 500)),
        }
        holdout.update(
            {name: bm.load_photo(name, size=256) for name in HELD_OUT}
        )
        held_rows = bm.run_methods(
            bm.make_cases(holdout, PROPS + HIGH_PROPS, seed=0),
            held,
            repeats=1,
            seed=0,
            warmup=0,
            device=work_device,
            progress=progress,
        )
        section = (
            "## Held-out images\n\nThe bottom-right 256 x 256 corner of "
            "china, a 300 x 500 crop of flower and 256 x 256 centre crops of "
            f"scikit-image's {' and '.join(HELD_OUT)}, one timed run each:"
            "\n\n"
            + bm.markdown_table(held_rows)
            + "\n\n"
            + over_seeds(
                holdout,
                PROPS + HIGH_PROPS,
                held,
                held_rows,
                seeds,
                device=work_device,
                progress=progress,
            )
        )
        print(section + "\n", flush=True)
        report += [section, ""]

    if args.field:
        section, extra_field = field_section(args, rank, work_device, progress)
        print(section + "\n", flush=True)
        report += [section, ""]
    else:
        extra_field = None

    seconds, n, what = explorer_latency(args.quick)
    lat = (
        f"## Explorer update\n\n- {what}: median of {n} changes to uncached "
        f"settings: {seconds:.3f} s (target <= 0.5 s)"
    )
    print(lat + "\n", flush=True)
    report += [lat, ""]
    extra = {"explorer": dict(seconds=seconds, changes=n, what=what)}
    if extra_field is not None:
        extra["field"] = extra_field

    if device.type == "cuda":
        totals = gpu_grid(device)
        grid = (
            f"## GPU grid target\n\n- china-400, proportions {GRID_PROPS} x "
            f"ranks {GRID_RANKS} on {info['device']}: ALS total "
            f"{totals['als']:.3f} s (with the SVD start shared across ranks: "
            f"{totals['als (shared SVD)']:.3f} s), {bm.REFERENCE} total "
            f"{totals['gd']:.2f} s "
            f"({totals['gd'] / totals['als']:.0f}x); target: ALS <= 1 s"
        )
        print(grid + "\n", flush=True)
        report += [grid, ""]
        extra["gpu_grid"] = totals

    if args.scale:
        lines, extra["scale"] = scale_section(progress)
        section = "## Scale\n\n" + "\n".join(lines)
        print(section + "\n", flush=True)
        report += [section, ""]

    thread_lines, extra["als_vs_gd_threads"] = als_vs_gd_threads(rank, size)
    goal = (
        ["## Targets", ""]
        + targets(rows + high_rows + held_rows, rank)
        + thread_lines
    )
    print("\n".join(goal) + "\n")
    report += goal + [
        "",
        f"Total benchmark time: {time.perf_counter() - start:.0f} s",
    ]
    print(report[-1])

    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    mode = info["mode"].replace(" + ", "-")
    path = results / f"bench-{mode}-{device.type}-{stamp}.json"
    path.write_text(
        json.dumps(
            dict(
                header=info,
                rows=rows,
                high_missing_rows=high_rows,
                held_out_rows=held_rows,
                **extra,
            ),
            indent=1,
        )
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    if args.out:
        args.out.write_text("\n".join(report) + "\n")
        print(f"Report: {args.out}")


if __name__ == "__main__":
    main()
