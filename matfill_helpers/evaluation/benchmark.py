"""Every method side by side: the same images, the same masks, one process, one table.

``standard_methods`` lists the methods compared in the book (the blog post's gradient descent with
its exact defaults, tuned gradient descent, ALS, random Fourier features with Adam and in closed
form, clustered patch models, and scikit-image's biharmonic inpainting as the classical baseline);
``run_methods`` reconstructs every (image, mask) case with every method, scores it and times it;
``markdown_table`` prints the rows. ``benchmarks/run.py`` is the command-line front end.

Timing: one untimed warm-up call per method (on a small crop, to pay one-time costs such as
library initialisation), then ``repeats`` timed calls per case, reporting the median. A method
whose first timed call on a case exceeds ``long_call`` seconds is timed once on that case (the
reference method is always timed ``repeats`` times). On CUDA every call is followed by a
synchronisation.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from .._validation import (
    _describe,
    _fail,
    check_image,
    check_int,
    check_positive,
)
from ..core.masking import mask_image
from ..core.metrics import metrics
from ..methods.peers import biharmonic  # noqa: F401  (bm.biharmonic)
from ..methods.registry import GD_TUNED, reconstruct

#: The reference every time is compared with: the blog post's method with its exact defaults.
REFERENCE = "GD (blog)"

#: The floor: each missing pixel gets its channel's observed mean (see :func:`mean_fill` for
#: where the methods hold it and where they do not).
MEAN_FILL = "mean fill"

#: scikit-image's bundled colour photos (no download), by the name ``load_photo`` accepts.
SKIMAGE_PHOTOS = {
    "astronaut": "astronaut",
    "coffee": "coffee",
    "chelsea": "chelsea",
    "rocket": "rocket",
    "motorcycle": "stereo_motorcycle",
    "ihc": "immunohistochemistry",
}


def load_photo(name, *, size=None):
    """A bundled photo as a (3, m, n) float32 tensor: ``mh.load_image``'s or scikit-image's.

    ``name``: ``"china"``, ``"flower"`` or a key of ``SKIMAGE_PHOTOS``; ``size`` centre-crops
    as in :func:`~matfill_helpers.load_image`.

    >>> load_photo("coffee", size=64).shape
    torch.Size([3, 64, 64])
    """
    from ..core.images import SAMPLES, _check_size, center_crop, load_image

    names = sorted(SAMPLES) + sorted(SKIMAGE_PHOTOS)
    if not isinstance(name, str) or name not in names:
        _fail(
            "load_photo",
            "name",
            f"one of {names}",
            _describe(name),
            "For an image file of your own use mh.load_image(path).",
            exc=TypeError if not isinstance(name, str) else ValueError,
        )
    if size is not None:
        _check_size(size, func="load_photo")
    if name not in SKIMAGE_PHOTOS:
        return load_image(name, size=size)
    import skimage.data

    arr = getattr(skimage.data, SKIMAGE_PHOTOS[name])()
    arr = (
        arr[0] if isinstance(arr, tuple) else arr
    )  # a stereo pair: the left view
    img = torch.from_numpy(arr[..., :3].copy()).permute(2, 0, 1).float() / 255
    return (img if size is None else center_crop(img, size)).contiguous()


def photo_mosaic(height=2000, width=3000, *, row=500):
    """A large test photo made of bundled ones: rows of photos resized to ``row`` pixels high.

    Nothing is downloaded: scikit-learn's china and flower and scikit-image's photos, each at about
    its own resolution (Lanczos-resized to the row height), side by side until the width is
    filled; rows repeat the sequence shifted by one photo.

    Returns
    -------
    img : torch.Tensor of shape (3, height, width), float32 in [0, 1]

    >>> photo_mosaic(300, 700, row=200).shape
    torch.Size([3, 300, 700])
    """
    names = ["china", "astronaut", "coffee", "flower", "chelsea", "rocket"]
    names.append("motorcycle")
    out = torch.empty(3, height, width)
    for r, top in enumerate(range(0, height, row)):
        left, k = 0, r
        while left < width:
            img = load_photo(names[k % len(names)])  # (3, h, w)
            w = round(img.shape[2] * row / img.shape[1])
            tile = _lanczos(img, row, w)
            h_, w_ = min(row, height - top), min(w, width - left)
            out[:, top : top + h_, left : left + w_] = tile[:, :h_, :w_]
            left, k = left + w, k + 1
    return out


def _lanczos(img, height, width):
    """``img`` (3, m, n) in [0, 1] Lanczos-resized (8-bit, as PIL does) to (3, height, width)."""
    from PIL import Image

    arr = (img.permute(1, 2, 0) * 255).round().byte().numpy()
    out = Image.fromarray(arr).resize((width, height), Image.LANCZOS)
    return torch.from_numpy(np.asarray(out).copy()).permute(2, 0, 1) / 255


def mean_fill(masked_img):
    """The floor: every missing pixel gets its channel's mean over the observed pixels.

    Where the methods hold it (tests/test_floor.py checks each statement):

    - On photographs (china, coffee, chelsea, 50 to 99 % missing) ``"als"``, ``"patches"`` and
      ``"rff"`` (ridge) score at least the mean fill's PSNR on the missing pixels, and with one
      observed pixel they return the mean fill.
    - On data without structure to learn (independent uniform noise) the mean is the best guess
      of a missing value, and every method that fits the observed pixels scores *below* it: by up
      to about 1 dB (ALS, patches) or 3 dB (RFF).
    - On one-pixel stripes RFF falls below it by up to about 3 dB (its features are smoother
      than a period of two pixels); ALS and the patch method stay within 0.2 dB of it or above.
    - GD is not held to it: the blog post's GD (``method="gd"`` with its defaults) falls several
      dB below it on photos from about 80 % missing, and ``GD_TUNED`` at 90 % and above (neither
      centres the data, and GD has no ridge pulling an unobserved entry towards the mean).

    >>> masked = torch.tensor([0.2, float("nan"), 0.4]).view(1, 1, 3).expand(3, 1, 3)
    >>> [round(v, 3) for v in mean_fill(masked)[0, 0].tolist()]
    [0.2, 0.3, 0.4]
    """
    masked_img = check_image(
        masked_img, func="mean_fill", name="masked_img", allow_nan=True
    )
    missing = torch.isnan(masked_img)
    mu = torch.where(missing, 0.0, masked_img).flatten(1).sum(1) / (
        (~missing).flatten(1).sum(1).clamp_min(1)
    )  # (3,)
    return torch.where(missing, mu[:, None, None], masked_img)


def standard_methods(*, rank=50):
    """The compared methods: name -> ``(options, fn)``, ``fn(masked, generator, device) -> recon``.

    ``options`` describes the settings for the table. Every low-rank method gets ``rank``.

    >>> list(standard_methods())[:3]
    ['GD (blog)', 'GD (tuned)', 'ALS']
    """
    rank = check_int(rank, func="standard_methods", name="rank", low=1)

    def rec(method, **options):
        def fn(masked, generator, device):
            return reconstruct(
                masked,
                rank=rank,
                method=method,
                generator=generator,
                device=device,
                **options,
            )

        return fn

    return {
        REFERENCE: (f"rank {rank}; blog post's defaults", rec("gd")),
        "GD (tuned)": (f"rank {rank}; mh.GD_TUNED", rec("gd", **GD_TUNED)),
        "ALS": (f"rank {rank}; defaults", rec("als")),
        "RFF (Adam)": ("solver=adam (blog post's)", rec("rff", solver="adam")),
        "RFF (ridge)": ("solver=ridge", rec("rff", solver="ridge")),
        "patches": (f"rank {rank}; defaults", rec("patches")),
        "biharmonic": (
            "scikit-image, channel_axis=-1",
            lambda masked, generator, device: biharmonic(masked),
        ),
    }


def floor_method():
    """The mean fill as a benchmark method: ``{MEAN_FILL: (options, fn)}``.

    >>> list(floor_method())
    ['mean fill']
    """
    return {
        MEAN_FILL: (
            "each channel's observed mean",
            lambda masked, generator, device: mean_fill(masked),
        )
    }


def _check_images(images, *, func):
    """``images``: a non-empty dict of name -> (3, m, n) image, each checked."""
    if not isinstance(images, dict) or not images:
        _fail(
            func,
            "images",
            "a non-empty dict of name -> (3, m, n) image",
            _describe(images),
            "For one image pass {'name': img}.",
            exc=TypeError,
        )
    for name, img in images.items():
        check_image(img, func=func, name=f"images[{name!r}]")


def _check_rows(rows, *, func, keys):
    """``rows``: a list or tuple of dicts, each holding ``keys`` (as run_methods returns)."""
    if not isinstance(rows, (list, tuple)):
        _fail(
            func,
            "rows",
            "a list of result rows (dicts), as run_methods returns",
            _describe(rows),
            exc=TypeError,
        )
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            _fail(
                func,
                "rows",
                "a list of dicts, as run_methods returns",
                f"{_describe(row)} at index {i}",
                exc=TypeError,
            )
        lacking = [k for k in keys if k not in row]
        if lacking:
            _fail(
                func,
                "rows",
                f"rows with the keys {list(keys)}, as run_methods returns",
                f"a row without {lacking} at index {i}",
            )
    return list(rows)


def make_cases(images, props, *, seed=0):
    """(image name, prop, image, masked, mask) for every image and proportion; masks from ``seed``.

    Each mask is ``mask_image(img, prop, generator=seed)``, as a reader would draw it.

    >>> from matfill_helpers import load_image
    >>> images = {"china": load_image("china", size=16)}
    >>> [(name, p) for name, p, *_ in make_cases(images, [0.1, 0.4])]
    [('china', 0.1), ('china', 0.4)]
    """
    from .experiment import _check_props

    _check_images(images, func="make_cases")
    props = _check_props(props, func="make_cases")
    cases = []
    for name, img in images.items():
        for p in props:
            masked, mask = mask_image(img, p, generator=seed)
            cases.append((name, float(p), img, masked, mask))
    return cases


def _sync(device):
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_call(fn, masked, *, seed=0, device=None):
    """Run ``fn(masked, generator, device)`` once: returns ``(recon on the CPU, seconds)``."""
    g = torch.Generator().manual_seed(seed)
    _sync(device)
    t0 = time.perf_counter()
    recon = fn(masked, g, device)
    _sync(device)
    return recon.cpu(), time.perf_counter() - t0


def run_methods(
    cases,
    methods,
    *,
    repeats=3,
    seed=0,
    device=None,
    long_call=10.0,
    warmup=64,
    reference=REFERENCE,
    keep=False,
    progress=None,
):
    """Reconstruct every case with every method; score and time each.

    Parameters
    ----------
    cases : list of ``(image name, prop, img, masked, mask)`` (see :func:`make_cases`)
    methods : dict name -> ``(options, fn)`` (see :func:`standard_methods`)
    repeats : int >= 1, timed calls per case (the median is reported)
    seed : int, the generator seed of every call (so repeats compute the same thing)
    device : where the methods compute (``None``: the CPU)
    long_call : float, a case whose first timed call takes longer is timed once (not the reference)
    warmup : int, one untimed call per method on the top-left ``warmup`` x ``warmup`` crop of the
        first case first (at least the rank of the low-rank methods); 0 skips the warm-up
    keep : bool, also return each reconstruction (on the CPU) as ``row["recon"]``
    progress : callable(str) or None, told about each finished row

    Returns
    -------
    rows : list of dict with keys ``method, options, image, prop, psnr, psnr_missing, seconds,
        runs, speedup`` (``speedup`` = the reference's seconds on the case / this method's; None
        when the reference was not run), and ``recon`` if ``keep``

    Examples
    --------
    >>> from matfill_helpers import load_image
    >>> cases = make_cases({"china": load_image("china", size=24)}, [0.3])
    >>> methods = {k: v for k, v in standard_methods(rank=5).items() if k in ("ALS", "biharmonic")}
    >>> rows = run_methods(cases, methods, repeats=1, warmup=0)
    >>> [(r["method"], r["runs"], r["psnr_missing"] > 10) for r in rows]
    [('ALS', 1, True), ('biharmonic', 1, True)]
    """
    repeats = check_int(repeats, func="run_methods", name="repeats", low=1)
    long_call = check_positive(long_call, func="run_methods", name="long_call")
    if not methods:
        _fail(
            "run_methods",
            "methods",
            "a non-empty dict name -> (options, fn)",
            "an empty one",
        )
    warmup = check_int(warmup, func="run_methods", name="warmup", low=0)
    if warmup and cases:
        small = cases[0][3][:, :warmup, :warmup].clone()
        if not bool(torch.isnan(small).all()):
            for _, fn in methods.values():
                time_call(
                    fn,
                    small.to(device) if device is not None else small,
                    seed=seed,
                    device=device,
                )
    rows = []
    for name, p, img, masked, mask in cases:
        work = masked.to(device) if device is not None else masked
        for method, (options, fn) in methods.items():
            recon, first = time_call(fn, work, seed=seed, device=device)
            times = [first]
            if first <= long_call or method == reference:
                times += [
                    time_call(fn, work, seed=seed, device=device)[1]
                    for _ in range(repeats - 1)
                ]
            psnr = metrics(img, recon)[1]
            psnr_missing = (
                metrics(img, recon, mask=mask)[1]
                if bool(mask.any())
                else float("inf")
            )
            rows.append(
                dict(
                    method=method,
                    options=options,
                    image=name,
                    prop=p,
                    psnr=psnr,
                    psnr_missing=psnr_missing,
                    seconds=statistics.median(times),
                    runs=len(times),
                    speedup=None,
                )
            )
            if keep:
                rows[-1]["recon"] = recon
            if progress is not None:
                r = rows[-1]
                progress(
                    f"{method:12s} {name:8s} {round(100 * p):3d} %  "
                    f"{r['psnr_missing']:6.2f} dB missing  "
                    f"{r['seconds']:8.3f} s (n={r['runs']})"
                )
    for r in rows:
        ref = [
            q
            for q in rows
            if q["method"] == reference
            and q["image"] == r["image"]
            and q["prop"] == r["prop"]
        ]
        if ref:
            r["speedup"] = ref[0]["seconds"] / r["seconds"]
    return rows


_TABLE_KEYS = (
    "method",
    "image",
    "prop",
    "options",
    "psnr",
    "psnr_missing",
    "seconds",
    "runs",
    "speedup",
)


def _cells(rows, *, func):
    rows = _check_rows(rows, func=func, keys=_TABLE_KEYS)
    head = [
        "method",
        "image",
        "missing",
        "rank / options",
        "PSNR all (dB)",
        "PSNR missing (dB)",
        "time (s)",
        "runs",
        f"speed-up vs {REFERENCE}",
    ]
    body = [
        [
            r["method"],
            r["image"],
            f"{round(100 * r['prop'])} %",
            r["options"],
            f"{r['psnr']:.2f}",
            f"{r['psnr_missing']:.2f}",
            f"{r['seconds']:.3f}",
            str(r["runs"]),
            "" if r["speedup"] is None else f"{r['speedup']:.1f}x",
        ]
        for r in rows
    ]
    return head, body


def markdown_table(rows):
    """The rows of :func:`run_methods` as a markdown table (a line per method, image, proportion).

    >>> row = dict(method="ALS", options="rank 5", image="china", prop=0.4, psnr=22.0,
    ...            psnr_missing=20.0, seconds=0.5, runs=3, speedup=16.0)
    >>> table = markdown_table([row])
    >>> print(table.splitlines()[0][:45]); print(table.splitlines()[2])
    | method | image | missing | rank / options |
    | ALS | china | 40 % | rank 5 | 22.00 | 20.00 | 0.500 | 3 | 16.0x |
    """
    head, body = _cells(rows, func="markdown_table")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def html_table(rows):
    """The same table as :func:`markdown_table`, as HTML (for notebooks and the HTML book).

    >>> table = html_table([])
    >>> table.splitlines()[0], table.count("<th>")
    ('<table>', 9)
    """
    from html import escape

    head, body = _cells(rows, func="html_table")
    out = [
        "<table>",
        "<thead><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead>",
        "<tbody>",
    ]
    out += [
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        for cells in body
    ]
    return "\n".join(out + ["</tbody>", "</table>"])


# ---- several masks: mean, spread and paired differences ------------------------------------


def run_seeds(images, props, methods, *, seeds=(0, 1, 2, 3, 4), **kwargs):
    """:func:`run_methods` on the masks of every seed: rows gain a ``"seed"`` key.

    For each seed ``s`` the masks are ``mask_image(img, p, generator=s)`` (the same for every
    method, nested across ``props``) and every method's generator is seeded with ``s`` too.
    ``kwargs`` go to :func:`run_methods` (``repeats``, ``warmup``, ``keep``, ...); the warm-up
    runs only for the first seed.

    >>> from matfill_helpers import load_image
    >>> methods = {k: v for k, v in standard_methods(rank=4).items() if k == "ALS"}
    >>> rows = run_seeds({"china": load_image("china", size=16)}, [0.3], methods,
    ...                  seeds=[0, 1], repeats=1, warmup=0)
    >>> [(r["method"], r["seed"]) for r in rows]
    [('ALS', 0), ('ALS', 1)]
    """
    seeds = list(seeds)
    if not seeds:
        _fail("run_seeds", "seeds", "a non-empty list of int seeds", "[]")
    rows = []
    for i, s in enumerate(seeds):
        s = check_int(s, func="run_seeds", name="seeds", low=0)
        options = dict(kwargs, seed=s)
        if i:
            options["warmup"] = 0
        for row in run_methods(
            make_cases(images, props, seed=s), methods, **options
        ):
            rows.append(dict(row, seed=s))
    return rows


def _mean_sd(values):
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return mean, sd


def summarize(rows, *, key="psnr_missing"):
    """Mean and standard deviation over the seeds, and which method leads each cell.

    Parameters
    ----------
    rows : rows of :func:`run_seeds` (each with ``"seed"``); every method of a cell must have
        been run on the same seeds, so the differences are paired
    key : the score to summarise (higher is better)

    Returns
    -------
    cells : list of dict, one per (image, prop) in order of appearance, with ``"image"``,
        ``"prop"``, ``"n"`` (seeds), ``"methods"`` (name -> dict ``mean``, ``sd``,
        ``seconds``: the mean time), ``"best"`` (the highest mean), ``"runner_up"``,
        ``"lead"`` and ``"lead_sd"`` (mean and standard deviation over the seeds of the paired
        difference best minus runner-up) and ``"clear"`` (the lead exceeds its spread:
        ``lead > lead_sd``)

    >>> rows = [dict(method=m, image="a", prop=0.5, seed=s, psnr_missing=v, seconds=1.0)
    ...         for m, vals in [("x", [20, 21, 22]), ("y", [19, 20.5, 21])]
    ...         for s, v in enumerate(vals)]
    >>> cell = summarize(rows)[0]
    >>> cell["best"], round(cell["lead"], 2), round(cell["lead_sd"], 2), cell["clear"]
    ('x', 0.83, 0.29, True)
    """
    rows = _check_rows(
        rows, func="summarize", keys=("method", "image", "prop", "seed", key)
    )
    cells = {}
    for r in rows:
        cell = cells.setdefault((r["image"], r["prop"]), {})
        cell.setdefault(r["method"], {})[r["seed"]] = r
    out = []
    for (image, prop), by_method in cells.items():
        seeds = sorted(next(iter(by_method.values())))
        for name, runs in by_method.items():
            if sorted(runs) != seeds:
                _fail(
                    "summarize",
                    "rows",
                    "every method of a cell run on the same seeds",
                    f"{name!r} on seeds {sorted(runs)} and another on {seeds}",
                )
        stats = {}
        for name, runs in by_method.items():
            mean, sd = _mean_sd([runs[s][key] for s in seeds])
            seconds = statistics.fmean(runs[s]["seconds"] for s in seeds)
            stats[name] = dict(mean=mean, sd=sd, seconds=seconds)
        ranked = sorted(stats, key=lambda n: stats[n]["mean"], reverse=True)
        cell = dict(image=image, prop=prop, n=len(seeds), methods=stats)
        cell.update(best=ranked[0], runner_up=None, lead=None, lead_sd=None)
        cell["clear"] = False
        if len(ranked) > 1:
            best, second = by_method[ranked[0]], by_method[ranked[1]]
            lead, lead_sd = _mean_sd(
                [best[s][key] - second[s][key] for s in seeds]
            )
            cell.update(runner_up=ranked[1], lead=lead, lead_sd=lead_sd)
            cell["clear"] = len(seeds) > 1 and lead > lead_sd
        out.append(cell)
    return out


def margins(rows, ours, peers, *, key="psnr_missing"):
    """``ours`` against the best of ``peers`` in every (image, prop) of ``rows``, mask by mask.

    The best peer is the one with the highest mean ``key`` over the masks (seeds); the margin is
    ``ours`` minus it on each mask. Returns ``(image, prop, peer, mean, sd, clear)`` per case,
    clear when the mean margin exceeds its standard deviation.

    >>> rows = [dict(method=m, image="a", prop=0.5, seed=s, psnr_missing=v)
    ...         for m, vs in {"ours": [3, 4], "p": [2, 2.5], "q": [1, 5]}.items()
    ...         for s, v in enumerate(vs)]
    >>> [(c[2], c[3], round(c[4], 3)) for c in margins(rows, "ours", ["p", "q"])]
    [('q', 0.5, 2.121)]
    """
    rows = _check_rows(
        rows, func="margins", keys=("method", "image", "prop", "seed", key)
    )
    score = {
        (r["method"], r["image"], r["prop"], r["seed"]): r[key] for r in rows
    }
    out = []
    for image, prop in dict.fromkeys((r["image"], r["prop"]) for r in rows):
        seeds = sorted(
            {s for (_, i, p, s) in score if (i, p) == (image, prop)}
        )
        here = [p for p in peers if (p, image, prop, seeds[0]) in score]
        if not here or (ours, image, prop, seeds[0]) not in score:
            continue
        means = {
            p: statistics.fmean(score[(p, image, prop, s)] for s in seeds)
            for p in here
        }
        best = max(here, key=means.get)
        d = [
            score[(ours, image, prop, s)] - score[(best, image, prop, s)]
            for s in seeds
        ]
        sd = statistics.stdev(d) if len(d) > 1 else 0.0
        mean = statistics.fmean(d)
        out.append((image, prop, best, mean, sd, mean > sd))
    return out


def summary_table(cells, *, html=False):
    """The cells of :func:`summarize` as a table: mean ± sd (dB) and seconds per method.

    The last column names the best method and its paired lead over the runner-up, ``clear`` when
    the lead exceeds its spread and ``within spread`` otherwise.

    >>> cell = dict(image="a", prop=0.5, n=3, best="x", runner_up="y", lead=0.8, lead_sd=0.3,
    ...             clear=True, methods={"x": dict(mean=21, sd=1, seconds=0.5),
    ...                                  "y": dict(mean=20.2, sd=1.1, seconds=0.1)})
    >>> print(summary_table([cell]).splitlines()[2])
    | a | 50 % | 3 | 21.00 ± 1.00 (0.50 s) | 20.20 ± 1.10 (0.10 s) | x by 0.80 ± 0.30 dB: clear |
    """
    names = []
    for cell in cells:
        names += [m for m in cell["methods"] if m not in names]
    head = ["image", "missing", "masks"] + names + ["best (paired lead)"]
    body = []
    for cell in cells:
        row = [cell["image"], f"{round(100 * cell['prop'])} %", str(cell["n"])]
        for m in names:
            st = cell["methods"].get(m)
            row.append(
                ""
                if st is None
                else f"{st['mean']:.2f} ± {st['sd']:.2f} ({st['seconds']:.2f} s)"
            )
        if cell["lead"] is None:
            row.append(cell["best"])
        else:
            verdict = "clear" if cell["clear"] else "within spread"
            row.append(
                f"{cell['best']} by {cell['lead']:.2f} ± {cell['lead_sd']:.2f} dB: {verdict}"
            )
        body.append(row)
    if not html:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])
    from html import escape

    out = [
        "<table>",
        "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head),
    ]
    out[-1] += "</tr></thead>"
    out.append("<tbody>")
    out += [
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
        for r in body
    ]
    return "\n".join(out + ["</tbody>", "</table>"])


# ---- measurements in a fresh process (peak memory, thread settings) ----------------------------


def _job_image(spec):
    """The (3, m, n) image a job names: ``{"mosaic": [h, w]}`` or ``{"photo": name, "size": s}``,
    the photo optionally Lanczos-resized to ``"resize": [h, w]`` (a full-size photo as a reader's
    camera gives it), then optionally cropped to its top-left ``"crop": [h, w]``."""
    if "mosaic" in spec:
        img = photo_mosaic(*spec["mosaic"])
    else:
        img = load_photo(spec["photo"], size=spec.get("size"))
    if "resize" in spec:
        img = _lanczos(img, *spec["resize"])
    if "crop" in spec:
        h, w = spec["crop"]
        img = img[:, :h, :w].contiguous()
    return img


def run_job(job):
    """Run one reconstruction described by ``job`` (a dict) in this process and measure it.

    Keys: ``image`` (see ``_job_image``), ``prop``, ``method``, ``rank``, ``options`` (dict),
    ``seed`` (the generator, and the mask unless ``mask_seed`` is given; default 0),
    ``auto_threads`` (default True: the package's
    one-thread rule for small problems; False turns it off). Returns a dict with ``seconds``,
    ``cpu_seconds``, ``psnr_missing``, ``peak_mb`` (the process's peak resident memory, so it
    includes Python and torch: see ``base_mb``, the peak before the call) and ``threads``.
    """
    import resource

    from .. import threads

    if not job.get("auto_threads", True):
        threads.SMALL_PROBLEM = 0
    img = _job_image(job["image"])
    seed = job.get("seed", 0)
    masked, mask = mask_image(
        img, job["prop"], generator=job.get("mask_seed", seed)
    )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0, c0 = time.perf_counter(), time.process_time()
    recon = reconstruct(
        masked,
        rank=job.get("rank"),
        method=job["method"],
        generator=seed,
        **job.get("options", {}),
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(
        seconds=seconds,
        cpu_seconds=cpu,
        psnr_missing=metrics(img, recon, mask=mask)[1],
        peak_mb=peak,
        base_mb=base,
        threads=torch.get_num_threads(),
        shape=list(img.shape),
    )


def run_in_subprocess(job, *, threads=None, timeout=900):
    """:func:`run_job` in a fresh Python process (so its peak memory is its own).

    ``threads``: the process's ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` (default:
    inherited). Returns the job's dict, or ``{"error": message}`` if the process failed or timed
    out.
    """
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if threads is not None:  # torch reads MKL_NUM_THREADS last
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    code = (
        "import json, sys; from matfill_helpers.evaluation.benchmark import run_job; "
        "print(json.dumps(run_job(json.loads(sys.argv[1]))))"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(job)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1][:300]}
    return json.loads(out.stdout.strip().splitlines()[-1])


class busy_cpu:
    """Keep one core busy (a Python process spinning ``while True: pass``) inside the block.

    It stands for another program on a shared machine; the process is ended on exit.
    """

    def __enter__(self):
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-c", "while True: pass"]
        )
        time.sleep(0.5)  # let it start spinning
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        return False


#: The thread comparison's cases: (label, job) with small problems a reader runs.
THREAD_CASES = [
    (
        "GD (blog) 64 x 64, rank 50",
        dict(
            image=dict(photo="china", size=64), prop=0.4, method="gd", rank=50
        ),
    ),
    (
        "ALS 128 x 128, rank 50",
        dict(
            image=dict(photo="china", size=128),
            prop=0.4,
            method="als",
            rank=50,
        ),
    ),
    (
        "patches 128 x 128, rank 50",
        dict(
            image=dict(photo="china", size=128),
            prop=0.4,
            method="patches",
            rank=50,
        ),
    ),
]


def thread_comparison(cases=None, *, busy=True, settings=(1, 2, "auto")):
    """Time each case with 1 and 2 torch threads, and with 2 plus the package's rule, each in a
    fresh process, with one core kept busy by another process (``busy=True``).

    Returns rows ``dict(case, setting, seconds, cpu_seconds, psnr_missing)`` (or ``error``).
    """
    cases = THREAD_CASES if cases is None else cases
    rows = []
    with busy_cpu() if busy else _nothing():
        for label, job in cases:
            for setting in settings:
                auto = setting == "auto"
                res = run_in_subprocess(
                    dict(job, auto_threads=auto),
                    threads=2 if auto else setting,
                )
                rows.append(dict(case=label, setting=str(setting), **res))
    return rows


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
