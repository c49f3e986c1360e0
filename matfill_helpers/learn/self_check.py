"""Self-check questions: one from the book's data files, answered in the page.

The questions live in ``book/self_check/<chapter>.yml``, one file per chapter, each question
with an ``id`` unique across the book. ``self_check("masking-nan-mean")`` renders a question as
HTML with a few lines of inline JavaScript (``js/self_check.js``) and CSS
(``js/self_check.css``): the answer is checked in the page, with no kernel and no network, in
the published book and in Jupyter. Each question is one element with the class ``self-check``;
its feedback appears inside it, in a live region that screen readers announce.

A question is either

- ``kind: choice``: ``choices``, a list of ``text`` and ``feedback`` (why that choice is right or
  wrong), exactly one with ``correct: true``; or
- ``kind: number``: a numeric answer that is never typed in the data file. ``compute`` names one
  of the answer functions below (:data:`ANSWERS`) and ``args`` its arguments; the function
  returns named values computed with the package (``answer`` and, for instance, the value a
  common mistake gives). ``answer`` picks the value (default ``"answer"``), ``tolerance`` the
  accepted absolute error (a number or the name of a value; default: exact for an integer
  answer), ``wrong`` lists common wrong values (a number or a name) with the feedback each
  deserves, ``hint`` what to think about after another wrong value, and ``explanation`` the
  worked answer, shown once the answer is right or revealed.

Texts may quote the arguments and the computed values, ``{prop:.0%}`` or ``{answer:.2f}``
(Python's ``str.format``), and mark ```code```, ``*emphasis*`` and ``**strong**``; everything
else is shown as typed (HTML is escaped), so math is written in Unicode: ×, ², √, ≈.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import html
import itertools
import json
import math
import os
import re
import statistics
import string
from importlib import resources
from pathlib import Path

import torch

from .._validation import _describe, _fail

FUNC = "self_check"
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
_COUNTER = itertools.count()
_KINDS = ("choice", "number")
_QUESTION_KEYS = {
    "choice": {"id", "kind", "prompt", "choices", "explanation"},
    "number": {
        "id",
        "kind",
        "prompt",
        "compute",
        "args",
        "answer",
        "tolerance",
        "unit",
        "wrong",
        "hint",
        "explanation",
    },
}


# ---------------------------------------------------------------------------
# Answer functions: each returns a dict of named numbers, "answer" among them.
# ---------------------------------------------------------------------------

ANSWERS = {}


def _answer(fn):
    ANSWERS[fn.__name__] = fn
    return fn


@_answer
def dof(*, m, n, rank):
    """Degrees of freedom of an m x n matrix of rank ``rank``, and what else gets counted."""
    return {
        "answer": rank * (m + n - rank),
        "numbers": rank * (m + n),  # the entries of W and H
        "entries": m * n,
        "percent": 100 * rank * (m + n - rank) / (m * n),
        "numbers_percent": 100 * rank * (m + n) / (m * n),
    }


@_answer
def observed_entries(*, m, n, prop, seed=0, rank=None):
    """Expected observed entries at missing proportion ``prop``; one mask of ``mask_image``.

    With ``rank``, also ``dof``: the degrees of freedom of a rank-``rank`` model.
    """
    from ..core.masking import mask_image

    _, mask = mask_image(torch.zeros(3, m, n), prop, generator=seed)
    sd = math.sqrt(m * n * prop * (1 - prop))
    extra = {} if rank is None else {"dof": dof(m=m, n=n, rank=rank)["answer"]}
    return {
        **extra,
        "answer": (1 - prop) * m * n,
        "drawn": int((~mask).sum()),  # the observed entries of seed's mask
        "missing": prop * m * n,
        "entries": m * n,
        "sd": sd,
        "three_sd": 3 * sd,
    }


@_answer
def binomial_sd(*, m, n, prop):
    """Standard deviation of the number of hidden pixels (binomial)."""
    count = m * n
    return {
        "answer": math.sqrt(count * prop * (1 - prop)),
        "variance": count * prop * (1 - prop),
        "fraction_sd": math.sqrt(prop * (1 - prop) / count),
        "count": count,
    }


def _psnr_of_error(err):
    """PSNR (dB) from ``mh.metrics`` of a grey image against it plus ``err``."""
    from ..core.metrics import metrics

    grey = torch.full((3, 4, 4), 0.5, dtype=torch.float64)
    return metrics(grey, grey + err)[1]


@_answer
def psnr_from_rmse(*, rmse):
    """PSNR (data range 1) of a reconstruction with RMSE ``rmse``, from ``mh.metrics``."""
    return {
        "answer": _psnr_of_error(rmse),
        "mse": rmse**2,
        "no_square": 10 * math.log10(1 / rmse),  # 10 log10(1 / RMSE)
        "negative": -_psnr_of_error(rmse),
    }


@_answer
def rmse_from_psnr(*, psnr):
    """RMSE (data range 1) that scores ``psnr`` dB; checked with ``mh.metrics``."""
    rmse = 10 ** (-psnr / 20)
    if not math.isclose(_psnr_of_error(rmse), psnr, rel_tol=1e-5):
        raise RuntimeError("rmse_from_psnr: mh.metrics disagrees")
    return {
        "answer": rmse,
        "mse": 10 ** (-psnr / 10),  # the MSE, not its square root
    }


@_answer
def data_range_shift(*, data_range):
    """How much PSNR moves when ``data_range`` replaces 1 (torchmetrics, one image pair)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64)
    y = (x + 0.05 * torch.randn(x.shape, generator=g, dtype=x.dtype)).clamp(
        0, 1
    )
    one = float(peak_signal_noise_ratio(y, x, data_range=1.0))
    other = float(peak_signal_noise_ratio(y, x, data_range=data_range))
    return {
        "answer": other - one,
        "opposite": one - other,
        "half": (other - one) / 2,  # 10 log10 R instead of 20 log10 R
    }


@_answer
def keep_observed_gain(*, prop):
    """PSNR on all pixels minus on the missing ones when the observed are copied back.

    Measured with ``mh.metrics`` on an image whose missing fraction is exactly ``prop``
    (``prop`` a multiple of 0.01) and whose only errors are at the missing pixels.
    """
    from ..core.metrics import metrics

    k = round(prop * 100)
    img = torch.full((3, 10, 10), 0.5, dtype=torch.float64)
    mask = torch.zeros(10, 10, dtype=torch.bool)
    mask.view(-1)[:k] = True  # k of 100 pixels missing
    recon = img.clone()
    recon[:, mask] += 0.1  # errors only where pixels are missing
    gain = metrics(img, recon)[1] - metrics(img, recon, mask=mask)[1]
    return {
        "answer": gain,
        "observed_fraction": -10 * math.log10(1 - prop),
        "doubled": 2 * gain,
    }


def _with_singular_values(values, *, shape=None, seed=0):
    """A float64 matrix with the given singular values and random singular vectors."""
    values = torch.tensor(values, dtype=torch.float64)
    k = len(values)
    m, n = shape or (k + 2, k + 1)
    g = torch.Generator().manual_seed(seed)
    U = torch.linalg.qr(torch.randn(m, k, generator=g, dtype=values.dtype))[0]
    V = torch.linalg.qr(torch.randn(n, k, generator=g, dtype=values.dtype))[0]
    return (U * values) @ V.T  # (m, k) (k,) (k, n)


@_answer
def eckart_young(*, singular_values, rank):
    """Squared Frobenius error of the truncated SVD at ``rank`` (computed by truncating)."""
    A = _with_singular_values(singular_values)
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    A_r = (U[:, :rank] * S[:rank]) @ Vh[:rank]
    tail = sorted(singular_values, reverse=True)[rank:]
    kept = sorted(singular_values, reverse=True)[:rank]
    return {
        "answer": float((A - A_r).pow(2).sum()),
        "tail_sum": float(sum(tail)),  # not squared
        "kept_squares": float(sum(s * s for s in kept)),
        "norm": float((A - A_r).norm()),  # the norm, not its square
    }


@_answer
def product_sd(*, rank, seed=0):
    """Standard deviation of an entry of W H, W and H with N(0, 1) entries (sampled)."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(400, rank, generator=g, dtype=torch.float64)
    H = torch.randn(rank, 400, generator=g, dtype=torch.float64)
    return {
        "answer": math.sqrt(rank),
        "sampled": float((W @ H).std()),
        "variance": float(rank),
    }


@_answer
def gram_rank(*, rank, observed, seed=0):
    """Rank of the r x r matrix H_o H_o^T of a row with ``observed`` observed entries."""
    g = torch.Generator().manual_seed(seed)
    H_o = torch.randn(rank, observed, generator=g, dtype=torch.float64)
    return {
        "answer": int(torch.linalg.matrix_rank(H_o @ H_o.T)),
        "size": rank,
    }


@_answer
def factor_norm(*, singular_values):
    """The smallest ||W||_F^2 + ||H||_F^2 over the factorizations W H = Z (balanced factors)."""
    Z = _with_singular_values(singular_values)
    U, S, Vh = torch.linalg.svd(Z, full_matrices=False)
    k = len(singular_values)
    W, H = U[:, :k] * S[:k].sqrt(), S[:k].sqrt()[:, None] * Vh[:k]
    if not torch.allclose(W @ H, Z):
        raise RuntimeError("factor_norm: the factors do not multiply to Z")
    return {
        "answer": float(W.pow(2).sum() + H.pow(2).sum()),
        "nuclear": float(S.sum()),
        "frobenius_squared": float(Z.pow(2).sum()),
    }


@_answer
def soft_threshold_nuclear(*, singular_values, ridge):
    """Nuclear norm after ``soft_threshold`` (the package's proximal step) at ``ridge``."""
    from ..methods.softimpute import soft_threshold

    A = _with_singular_values(singular_values)
    _, S = soft_threshold(A[None], ridge)
    kept = [s for s in singular_values if s > ridge]
    return {
        "answer": float(S.sum()),
        "hard": float(sum(kept)),  # the large ones kept unchanged
        "original": float(sum(singular_values)),
        "no_clamp": float(sum(s - ridge for s in singular_values)),
        "rank": int((S > 0).sum()),
    }


@_answer
def some_row_empty(*, rows, cols, q):
    """Probability that some of ``rows`` rows of length ``cols`` has no observed entry."""
    one = float(
        torch.distributions.Binomial(cols, torch.tensor(q))
        .log_prob(torch.tensor(0.0))
        .exp()
    )
    return {
        "answer": 1 - (1 - one) ** rows,
        "one_row": one,
        "union_bound": rows * one,
    }


@_answer
def basis_coherence(*, m, r):
    """Coherence of the span of the first ``r`` standard basis vectors of R^m."""
    U = torch.eye(m, r, dtype=torch.float64)  # orthonormal columns
    P = U @ U.T  # (m, m) projection onto the subspace
    mu = m / r * float(torch.diagonal(P).max())  # ||P e_i||^2 = P_ii
    return {
        "answer": mu,
        "no_division": m * float(torch.diagonal(P).max()),  # without 1 / r
        "lowest": 1.0,
    }


@_answer
def rbf_gamma(*, sigma):
    """scikit-learn's ``gamma`` for a kernel of width ``sigma``, as ``create_rff_features``."""
    return {
        "answer": 1.0 / (2.0 * sigma**2),
        "no_two": 1.0 / sigma**2,
        "not_squared": 1.0 / (2.0 * sigma),
        "inverted": 2.0 * sigma**2,
    }


@_answer
def rbf_kernel(*, sigma, distance):
    """The RBF kernel of width ``sigma`` at ``distance`` pixels."""
    return {
        "answer": math.exp(-(distance**2) / (2 * sigma**2)),
        "no_two": math.exp(-(distance**2) / sigma**2),
        "width_not_squared": math.exp(-(distance**2) / (2 * sigma)),
    }


@_answer
def error_shrink(*, factor):
    """By how much the kernel estimate's error shrinks with ``factor`` times the features."""
    return {
        "answer": math.sqrt(factor),
        "linear": factor,
        "squared": factor**2,
    }


@_answer
def first_rank_over(*, m, n, prop):
    """The first rank whose degrees of freedom exceed the expected observed entries."""
    observed = (1 - prop) * m * n
    over = next(
        r for r in range(1, min(m, n) + 1) if r * (m + n - r) > observed
    )
    numbers = next(
        r for r in range(1, min(m, n) + 1) if r * (m + n) > observed
    )
    return {"answer": over, "numbers": numbers, "observed": observed}


@_answer
def dof_per_pixel(*, image, rank):
    """Degrees of freedom per pixel of a rank-``rank`` model of the full sample ``image``."""
    from ..core.images import load_image

    m, n = load_image(image).shape[1:]
    r = min(rank, m, n)  # no m x n matrix has a larger rank
    return {
        "answer": r * (m + n - r) / (m * n),
        "numbers": rank * (m + n) / (m * n),
        "m": m,
        "n": n,
    }


@_answer
def sample_sd(*, values):
    """Sample standard deviation (n - 1) of ``values``, and the population one (n)."""
    return {
        "answer": statistics.stdev(values),
        "population": statistics.pstdev(values),
        "mean": statistics.mean(values),
    }


@_answer
def patch_count(*, size, patch):
    """Overlapping ``patch`` x ``patch`` patches (stride 1) of a ``size`` x ``size`` image."""
    img = torch.zeros(1, 3, size, size)
    rows = torch.nn.functional.unfold(img, patch)  # (1, 3 p^2, count)
    return {
        "answer": rows.shape[-1],
        "pixels": size * size,
        "tiles": (size // patch) ** 2,
        "length": rows.shape[1],  # 3 p^2 numbers per patch
    }


# ---------------------------------------------------------------------------
# Loading and checking the data files.
# ---------------------------------------------------------------------------


def default_folder():
    """The folder of the question files: ``book/self_check`` of this checkout, or of the cwd.

    Returns ``None`` when none is found (the package installed on its own, without the book).
    """
    here = Path(__file__).resolve().parents[2] / "book" / "self_check"
    for folder in (here, Path("self_check"), Path("book", "self_check")):
        if folder.is_dir() and any(folder.glob("*.yml")):
            return folder.resolve()
    return None


def _check_folder(folder):
    if folder is None:
        return default_folder()
    if not isinstance(folder, (str, os.PathLike)):
        _fail(
            FUNC,
            "folder",
            "a folder path (str or os.PathLike) or None",
            _describe(folder),
            exc=TypeError,
        )
    path = Path(folder)
    if not path.is_dir() or not any(path.glob("*.yml")):
        _fail(
            FUNC,
            "folder",
            "a folder holding question files (*.yml)",
            repr(os.fspath(folder)),
            "Leave it out to use the book's folder, book/self_check.",
        )
    return path.resolve()


def load_questions(folder=None):
    """Every question of the ``*.yml`` files of ``folder``, checked: ``{id: question}``.

    Each question is a dict as in its file, with ``chapter`` (the file's name) added and, for a
    numeric one, ``values`` (what its ``compute`` returned). ``folder`` defaults to
    :func:`default_folder`; ``{}`` when there is none.

    Examples
    --------
    >>> questions = load_questions()
    >>> questions["masking-observed"]["chapter"], questions["masking-observed"]["kind"]
    ('masking', 'number')
    """
    folder = _check_folder(folder)
    if folder is None:
        return {}
    stamp = tuple(
        (p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yml"))
    )
    return dict(_load(str(folder), stamp))


@functools.lru_cache(maxsize=8)
def _load(folder, stamp):
    try:
        import yaml
    except ImportError as err:  # pragma: no cover - pyyaml ships with the book
        raise ImportError(
            "self_check: the question files need PyYAML: pip install pyyaml"
        ) from err
    questions = {}
    for name, _ in stamp:
        path = Path(folder, name)
        where = name
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            _fail(FUNC, where, "a valid YAML file", " ".join(str(err).split()))
        if not isinstance(data, dict) or not isinstance(
            data.get("questions"), list
        ):
            _fail(
                FUNC,
                where,
                "a mapping with a list 'questions'",
                _describe(data),
            )
        for q in data["questions"]:
            q = _check_question(q, where)
            if q["id"] in questions:
                _fail(
                    FUNC,
                    f"{where}: {q['id']}",
                    "an id used once in the book",
                    f"'{q['id']}' also in {questions[q['id']]['chapter']}.yml",
                )
            q["chapter"] = path.stem
            questions[q["id"]] = q
    return tuple(questions.items())


def _check_text(q, key, where, *, required=True):
    value = q.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(FUNC, f"{where}: {key}", "a non-empty text", _describe(value))
    return value


def _check_question(q, where):
    if not isinstance(q, dict):
        _fail(FUNC, where, "a list of question mappings", _describe(q))
    qid = q.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        _fail(
            FUNC,
            f"{where}: id",
            "an id of lower-case words joined by '-', such as 'masking-nan-mean'",
            _describe(qid),
        )
    where = f"{where}: {qid}"
    kind = q.get("kind")
    if kind not in _KINDS:
        _fail(FUNC, f"{where}: kind", "'choice' or 'number'", _describe(kind))
    unknown = sorted(set(q) - _QUESTION_KEYS[kind])
    if unknown:
        _fail(
            FUNC,
            where,
            f"a {kind} question with keys {sorted(_QUESTION_KEYS[kind])}",
            f"unknown keys {unknown}",
        )
    q = dict(q)
    _check_text(q, "prompt", where)
    _check_text(q, "explanation", where, required=kind == "number")
    if kind == "choice":
        _check_choices(q, where)
    else:
        _check_number(q, where)
    # every text must format with the question's values
    for text in _texts(q):
        _format(text, q, where)
    return q


def _check_choices(q, where):
    choices = q.get("choices")
    if not isinstance(choices, list) or not 2 <= len(choices) <= 6:
        _fail(
            FUNC,
            f"{where}: choices",
            "a list of 2 to 6 choices",
            _describe(choices),
        )
    for i, c in enumerate(choices):
        if not isinstance(c, dict) or set(c) - {"text", "feedback", "correct"}:
            _fail(
                FUNC,
                f"{where}: choices[{i}]",
                "a mapping with 'text', 'feedback' and optionally 'correct'",
                _describe(c),
            )
        _check_text(c, "text", f"{where}: choices[{i}]")
        _check_text(c, "feedback", f"{where}: choices[{i}]")
        if not isinstance(c.get("correct", False), bool):
            _fail(
                FUNC,
                f"{where}: choices[{i}].correct",
                "true or false",
                _describe(c["correct"]),
            )
    right = [i for i, c in enumerate(choices) if c.get("correct")]
    if len(right) != 1:
        _fail(
            FUNC,
            f"{where}: choices",
            "a list with exactly one choice marked 'correct: true'",
            f"{len(right)} marked",
        )


def _value(q, ref, where, key):
    """A number given in the data, or the name of one of the computed values."""
    values = q["values"]
    if isinstance(ref, str):
        if ref not in values:
            _fail(
                FUNC,
                f"{where}: {key}",
                f"a number or one of the computed values {sorted(values)}",
                repr(ref),
            )
        return float(values[ref])
    if isinstance(ref, bool) or not isinstance(ref, (int, float)):
        _fail(
            FUNC,
            f"{where}: {key}",
            "a number or the name of a computed value",
            _describe(ref),
        )
    return float(ref)


def _check_number(q, where):
    name = q.get("compute")
    if name not in ANSWERS:
        _fail(
            FUNC,
            f"{where}: compute",
            f"one of the answer functions {sorted(ANSWERS)}",
            _describe(name),
        )
    args = q.get("args", {})
    if not isinstance(args, dict):
        _fail(FUNC, f"{where}: args", "a mapping", _describe(args))
    try:
        values = ANSWERS[name](**args)
    except TypeError as err:
        _fail(
            FUNC,
            f"{where}: args",
            f"the arguments of {name}",
            f"{sorted(args)} ({err})",
        )
    q["values"] = {**args, **values}
    answer_key = q.get("answer", "answer")
    if answer_key not in values:
        _fail(
            FUNC,
            f"{where}: answer",
            f"one of the values {name} computes, {sorted(values)}",
            repr(answer_key),
        )
    answer = float(values[answer_key])
    if "tolerance" in q:
        tol = _value(q, q["tolerance"], where, "tolerance")
    elif answer == round(answer):
        tol = 0.0
    else:
        _fail(
            FUNC,
            f"{where}: tolerance",
            "given for an answer that is not a whole number",
            f"the answer {answer!r} and no tolerance",
        )
    if not tol >= 0:
        _fail(FUNC, f"{where}: tolerance", "a number >= 0", repr(tol))
    q["answer_value"], q["tolerance_value"] = answer, tol
    _check_text(q, "hint", where)
    wrong = q.get("wrong", [])
    if not isinstance(wrong, list):
        _fail(FUNC, f"{where}: wrong", "a list", _describe(wrong))
    q["wrong_values"] = []
    for i, w in enumerate(wrong):
        if not isinstance(w, dict) or set(w) != {"value", "feedback"}:
            _fail(
                FUNC,
                f"{where}: wrong[{i}]",
                "a mapping with 'value' and 'feedback'",
                _describe(w),
            )
        _check_text(w, "feedback", f"{where}: wrong[{i}]")
        v = _value(q, w["value"], where, f"wrong[{i}].value")
        if abs(v - answer) <= tol:
            _fail(
                FUNC,
                f"{where}: wrong[{i}].value",
                "a value outside the tolerance of the answer",
                f"{v!r} (the answer is {answer!r} ± {tol!r})",
            )
        if any(abs(v - u) <= tol for u in q["wrong_values"]):
            _fail(
                FUNC,
                f"{where}: wrong[{i}].value",
                "a value apart from the other wrong values",
                f"{v!r}, also an earlier wrong value",
            )
        q["wrong_values"].append(v)


def _texts(q):
    yield q["prompt"]
    for key in ("explanation", "hint"):
        if q.get(key):
            yield q[key]
    for c in q.get("choices", []):
        yield c["text"]
        yield c["feedback"]
    for w in q.get("wrong", []):
        yield w["feedback"]


class _Values(dict):
    def __missing__(self, key):
        raise KeyError(key)


def _format(text, q, where):
    """``text`` with ``{name}`` replaced by the question's values (numbers only)."""
    values = q.get("values", {})
    try:
        return string.Formatter().vformat(text, (), _Values(values))
    except (KeyError, IndexError, ValueError) as err:
        _fail(
            FUNC,
            where,
            "texts whose {...} name values of the question "
            f"({sorted(values) or 'none: use {{ and }} for braces'})",
            f"{text[:60]!r} ({type(err).__name__}: {err})",
        )


_MARKUP = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\*([^*\s][^*]*)\*"), r"<em>\1</em>"),
]


def _html(text, q):
    """The question's ``text``, formatted, escaped, with its few marks made HTML."""
    out = html.escape(_format(text, q, q["id"]).strip(), quote=False)
    for pattern, repl in _MARKUP:
        out = pattern.sub(repl, out)
    return out.replace("\n\n", "<br><br>")


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------


@functools.cache
def _asset(name):
    return (
        resources.files("matfill_helpers.learn")
        .joinpath("js", name)
        .read_text(encoding="utf-8")
    )


def _number(x):
    """A number as the page shows it: an int when whole, else up to 6 significant digits."""
    return str(int(round(x))) if x == round(x) else f"{x:.6g}"


def _payload(q):
    if q["kind"] == "choice":
        right = next(i for i, c in enumerate(q["choices"]) if c.get("correct"))
        data = {
            "kind": "choice",
            "correct": right,
            "feedback": [_html(c["feedback"], q) for c in q["choices"]],
            "explanation": _html(q["explanation"], q)
            if q.get("explanation")
            else "",
        }
    else:
        data = {
            "kind": "number",
            "answer": q["answer_value"],
            "shown": _number(q["answer_value"]),
            "tolerance": q["tolerance_value"],
            "wrong": [
                {"value": v, "feedback": _html(w["feedback"], q)}
                for v, w in zip(q["wrong_values"], q.get("wrong", []))
            ],
            "hint": _html(q["hint"], q),
            "explanation": _html(q["explanation"], q),
            "unit": q.get("unit", ""),
        }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/")  # keep the JSON inside its <script>


def _render_question(q, uid):
    esc = html.escape
    head = (
        f'<div class="self-check" id="{uid}" data-question="{q["id"]}" '
        f'data-kind="{q["kind"]}" data-state="unanswered">'
        f'<p class="self-check-title" id="{uid}-title">Check yourself</p>'
        f'<p class="self-check-prompt" id="{uid}-prompt">'
        f"{_html(q['prompt'], q)}</p>"
    )
    if q["kind"] == "choice":
        buttons = "".join(
            f'<li><button type="button" class="self-check-choice" '
            f'data-choice="{i}" aria-pressed="false">'
            f"{_html(c['text'], q)}</button></li>"
            for i, c in enumerate(q["choices"])
        )
        body = (
            f'<ul class="self-check-choices" role="group" '
            f'aria-labelledby="{uid}-prompt">{buttons}</ul>'
        )
    else:
        unit = (
            f'<span class="self-check-unit">{esc(q["unit"])}</span>'
            if q.get("unit")
            else ""
        )
        body = (
            f'<form class="self-check-form" novalidate>'
            f'<label for="{uid}-input">Your answer</label> '
            f'<span class="self-check-field"><input type="text" '
            f'id="{uid}-input" class="self-check-input" inputmode="decimal" '
            f'autocomplete="off" spellcheck="false" '
            f'aria-describedby="{uid}-prompt">{unit}</span> '
            f'<button type="submit" class="self-check-submit">Check</button> '
            f'<button type="button" class="self-check-reveal">'
            f"Show the answer</button></form>"
        )
    return (
        f"{head}{body}"
        f'<div class="self-check-feedback" id="{uid}-feedback" '
        f'role="status" aria-live="polite"></div>'
        f'<script type="application/json" class="self-check-data">'
        f"{_payload(q)}</script></div>"
    )


class SelfCheck:
    """Self-check questions as HTML that checks the answers in the page (see the module).

    Attributes
    ----------
    ids : tuple of str, the questions shown
    questions : list of dict, the questions as loaded (``[]`` when the files are not found)
    html : str, the HTML fragment (questions, inline style and script)
    """

    def __init__(self, ids, questions, html_text):
        self.ids, self.questions, self.html = ids, questions, html_text

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        if not self.questions:
            return (
                f"SelfCheck({', '.join(self.ids)}: question files not found)"
            )
        lines = [
            f"Check yourself ({q['id']}): {_format(q['prompt'], q, q['id'])}"
            for q in self.questions
        ]
        return "\n".join(" ".join(line.split()) for line in lines)


def _check_ids(ids, known):
    if not ids:
        _fail(
            FUNC,
            "ids",
            "at least one question id, such as 'masking-nan-mean'",
            "none",
            exc=TypeError,
        )
    for qid in ids:
        if not isinstance(qid, str):
            _fail(
                FUNC,
                "ids",
                "question ids (str)",
                _describe(qid),
                exc=TypeError,
            )
    if len(set(ids)) != len(ids):
        _fail(FUNC, "ids", "ids without repeats", repr(ids))
    if known is None:
        return
    for qid in ids:
        if qid not in known:
            close = difflib.get_close_matches(qid, known, n=3)
            fix = (
                f"Did you mean {', '.join(map(repr, close))}?"
                if close
                else "The ids are in book/self_check/<chapter>.yml."
            )
            _fail(FUNC, "ids", "ids of the book's questions", repr(qid), fix)


def self_check(*ids, folder=None):
    """Render the self-check questions ``ids`` from the book's question files.

    Parameters
    ----------
    *ids : str, question ids (``"masking-observed"``), at least one
    folder : str or os.PathLike, optional, the folder of the ``*.yml`` question files
        (default: ``book/self_check`` of this checkout, or ``self_check/`` in the working
        directory)

    Returns
    -------
    SelfCheck, shown in a notebook as the questions (its ``html`` attribute holds the HTML). Where
    the question files cannot be found (the package installed without the book) it shows a
    short note instead of the questions, so that a chapter still runs.

    Examples
    --------
    >>> out = self_check("masking-nan-mean")
    >>> out.html.count('class="self-check"'), out.ids
    (1, ('masking-nan-mean',))
    """
    if folder is None:
        folder_path = default_folder()
    else:
        folder_path = _check_folder(folder)
    known = load_questions(folder_path) if folder_path else None
    _check_ids(ids, known)
    if known is None:
        note = (
            '<div class="self-check-unavailable"><p>Self-check question'
            f"{'s' if len(ids) > 1 else ''} {html.escape(', '.join(ids))}: the "
            "question files (book/self_check/*.yml) are not next to this "
            "notebook. The questions are on the book's page of this chapter."
            "</p></div>"
        )
        return SelfCheck(tuple(ids), [], note)
    questions = [known[qid] for qid in ids]
    digest = hashlib.sha1("|".join(ids).encode()).hexdigest()[:6]
    n = next(_COUNTER)
    parts = [
        _render_question(q, f"sc-{digest}-{n}-{i}")
        for i, q in enumerate(questions)
    ]
    text = (
        f'<div class="self-check-output">'
        f"<style>{_asset('self_check.css')}</style>{''.join(parts)}"
        f"<script>{_asset('self_check.js')}</script></div>"
    )
    return SelfCheck(tuple(ids), questions, text)
