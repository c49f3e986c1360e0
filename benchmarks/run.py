"""Benchmark every reconstruction method side by side and print a markdown table.

    python benchmarks/run.py                  # full run: china and flower at 400 x 400 (~17 min on 2 cores)
    python benchmarks/run.py --quick          # 128 x 128 crops (~2 min on 2 cores)
    python benchmarks/run.py --device cuda    # on the GPU, plus the blog post's grid with ALS
    python benchmarks/run.py --out table.md   # also write the report to a file

Every method runs in this one process on the same images and masks (``mh.mask_image`` with seed 0
at 10, 40 and 80 % missing). Times are medians of timed calls after a warm-up (see
``matfill_helpers.benchmark``). The results are also written as JSON under benchmarks/results/.
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
from matfill_helpers import benchmark as bm  # noqa: E402
from matfill_helpers.als import svd_init  # noqa: E402

PROPS = (0.1, 0.4, 0.8)
GRID_PROPS, GRID_RANKS = (0.1, 0.4, 0.8), (50, 100, 300, 400)
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
            f"benchmarks/run.py: --device cuda was asked for, but CUDA is not available here "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}). Run without --device "
            f"for the CPU."
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
        "mode": "quick" if args.quick else "full",
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
    what = f"mh.explorer() update (method {ui.method_dropdown.value!r}, size {tuple(ui.img.shape[1:])})"
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
            f"{gd['seconds'] / als['seconds']:.1f}x faster ({als['seconds']:.3f} s vs {gd['seconds']:.3f} s), "
            f"PSNR missing {als['psnr_missing']:.2f} vs {gd['psnr_missing']:.2f} dB "
            f"({als['psnr_missing'] - gd['psnr_missing']:+.2f} dB); "
            f"target: >= 10x and >= +1.5 dB"
        )
    for image in dict.fromkeys(r["image"] for r in rows):
        for prop in PROPS:
            ours, ref = (
                row("patches", image, prop),
                row("biharmonic", image, prop),
            )
            if ours and ref:
                lines.append(
                    f"- patches vs biharmonic, {image} {round(100 * prop)} %: {ours['psnr_missing']:.2f} vs "
                    f"{ref['psnr_missing']:.2f} dB ({ours['psnr_missing'] - ref['psnr_missing']:+.2f} dB); "
                    f"target: >= 0"
                )
    return lines


def main(argv=None):
    args = parse_args(argv)
    device = check_device(args.device)
    info = header(device, args)
    size = 128 if args.quick else 400
    rank = min(args.rank, size)
    methods = bm.standard_methods(rank=rank)
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
        f"- images: china and flower, {size} x {size}; masks: mh.mask_image(img, p, generator=0), p in {PROPS}\n",
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
    report = (
        ["# matfill benchmark", ""]
        + [f"- {k}: {v}" for k, v in info.items()]
        + ["", table, ""]
    )
    print(table + "\n", flush=True)

    held = {k: v for k, v in methods.items() if k in ("patches", "biharmonic")}
    held_rows = []
    if (
        held and not args.quick
    ):  # images the patch method's defaults were not tuned on
        holdout = {
            "china-br256": mh.load_image("china")[
                :, -256:, -256:
            ].contiguous(),
            "flower-300x500": mh.load_image("flower", size=(300, 500)),
        }
        held_rows = bm.run_methods(
            bm.make_cases(holdout, PROPS, seed=0),
            held,
            repeats=1,
            seed=0,
            warmup=0,
            device=work_device,
            progress=progress,
        )
        section = (
            "## Held-out images\n\nThe bottom-right 256 x 256 corner of china and a 300 x 500 crop of "
            "flower, one timed run each:\n\n" + bm.markdown_table(held_rows)
        )
        print(section + "\n", flush=True)
        report += [section, ""]

    seconds, n, what = explorer_latency(args.quick)
    lat = (
        f"## Explorer update\n\n- {what}: median of {n} changes to uncached settings: {seconds:.3f} s "
        "(target <= 0.5 s)"
    )
    print(lat + "\n", flush=True)
    report += [lat, ""]
    extra = {"explorer": dict(seconds=seconds, changes=n, what=what)}

    if device.type == "cuda":
        totals = gpu_grid(device)
        grid = (
            f"## GPU grid target\n\n- china-400, proportions {GRID_PROPS} x ranks {GRID_RANKS} on "
            f"{info['device']}: ALS total {totals['als']:.3f} s (with the SVD start shared across ranks: "
            f"{totals['als (shared SVD)']:.3f} s), {bm.REFERENCE} total {totals['gd']:.2f} s "
            f"({totals['gd'] / totals['als']:.0f}x); target: ALS <= 1 s"
        )
        print(grid + "\n", flush=True)
        report += [grid, ""]
        extra["gpu_grid"] = totals

    goal = ["## Targets", ""] + targets(rows + held_rows, rank)
    print("\n".join(goal) + "\n")
    report += goal + [
        "",
        f"Total benchmark time: {time.perf_counter() - start:.0f} s",
    ]
    print(report[-1])

    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = results / f"bench-{info['mode']}-{device.type}-{stamp}.json"
    path.write_text(
        json.dumps(
            dict(header=info, rows=rows, held_out_rows=held_rows, **extra),
            indent=1,
        )
    )
    print(f"JSON: {path.relative_to(ROOT)}")
    if args.out:
        args.out.write_text("\n".join(report) + "\n")
        print(f"Report: {args.out}")


if __name__ == "__main__":
    main()
