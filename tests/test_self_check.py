"""Self-check questions: the data files, their answers, the chapters' cells, the HTML.

Every numeric answer of ``book/self_check/*.yml`` is recomputed here another way than the
package's answer function does (a formula against a helper, or a helper against a formula), so a
question cannot carry a wrong answer. The built pages are checked by the test marked ``book``
(``make book`` first); the answers in the page by ``tests/test_self_check_browser.py``.
"""

import importlib
import json
import math
import re

import pytest
import torch
from bs4 import BeautifulSoup

import matfill_helpers as mh
from tests.chromium import HTML
from tests.test_notebooks import BOOK, NOTEBOOKS

sc = importlib.import_module("matfill_helpers.learn.self_check")

FOLDER = BOOK / "self_check"
CALL = re.compile(r"""mh\.self_check\(\s*((?:"[^"]+"\s*,?\s*)+)\)""")


@pytest.fixture(scope="module")
def questions():
    return sc.load_questions(FOLDER)


def _cells(nb_path):
    """(question ids, tags) of each code cell of a chapter that calls mh.self_check."""
    found = []
    for c in json.loads(nb_path.read_text())["cells"]:
        source = "".join(c["source"])
        if c["cell_type"] == "code" and "self_check(" in source:
            m = CALL.fullmatch(source.strip())
            assert m, (
                f"{nb_path.name}: not a plain self_check call: {source!r}"
            )
            ids = re.findall(r'"([^"]+)"', m.group(1))
            found.append((ids, set(c["metadata"].get("tags", []))))
    return found


def _write(folder, text, name="chapter.yml"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


CHOICE = """\
questions:
  - id: demo-choice
    kind: choice
    prompt: Which?
    choices:
      - text: "A </script> <b>bold</b> `code`"
        correct: true
        feedback: Because.
      - text: B
        feedback: Not B.
"""


# --- the data files -------------------------------------------------------------------------


def test_every_chapter_has_a_question_file_and_nothing_else_does(questions):
    chapters = {p.stem for p in NOTEBOOKS}
    files = {p.stem for p in FOLDER.glob("*.yml")}
    assert files == chapters
    assert {q["chapter"] for q in questions.values()} == chapters


def test_every_chapter_has_three_to_six_questions(questions):
    for chapter in (p.stem for p in NOTEBOOKS):
        n = sum(q["chapter"] == chapter for q in questions.values())
        assert 3 <= n <= 6, (chapter, n)


def test_question_ids_are_unique_across_the_files():
    import yaml

    ids = [
        q["id"]
        for path in sorted(FOLDER.glob("*.yml"))
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]
    assert len(ids) == len(set(ids)) >= 33


def test_each_question_id_starts_with_its_chapter(questions):
    for qid, q in questions.items():
        assert qid.startswith(q["chapter"].replace("_", "-") + "-"), qid


def test_every_choice_question_has_one_right_answer_and_feedback_for_each(
    questions,
):
    choice = [q for q in questions.values() if q["kind"] == "choice"]
    assert len(choice) >= 20
    for q in choice:
        assert sum(bool(c.get("correct")) for c in q["choices"]) == 1, q["id"]
        for c in q["choices"]:
            assert len(c["feedback"].split()) >= 8, (q["id"], c["text"])


def test_every_numeric_question_teaches_after_a_wrong_answer(questions):
    numeric = [q for q in questions.values() if q["kind"] == "number"]
    assert len(numeric) >= 20
    for q in numeric:
        assert q["wrong"], f"{q['id']}: no common wrong value"
        assert q["hint"] and q["explanation"], q["id"]
        for v in q["wrong_values"]:
            assert abs(v - q["answer_value"]) > q["tolerance_value"], q["id"]


# --- the answers, recomputed ----------------------------------------------------------------


def _dof(m, n, rank):
    return rank * (m + n - rank)


def _rff_kernel(sigma, distance):
    """The kernel the features of ``mh.create_rff_features`` estimate, at ``distance``."""
    x = torch.tensor([[0.0, 0.0], [distance, 0.0]], dtype=torch.float64)
    z = mh.create_rff_features(x, 40_000, sigma, random_state=0)  # (2, D)
    return float(z[0] @ z[1])


def _some_row_empty_by_masks(rows, cols, q, draws=1000):
    g = torch.Generator().manual_seed(0)
    img = torch.zeros(3, rows, cols)
    hits = sum(
        bool(mh.mask_image(img, 1 - q, generator=g)[1].all(dim=1).any())
        for _ in range(draws)
    )
    return hits / draws


# compute name -> (args, answer key) -> the answer, found another way (helpers where there are)
RECOMPUTE = {
    "dof": lambda a, key: (
        _dof(a["m"], a["n"], a["rank"])
        if key == "answer"
        else 100 * _dof(a["m"], a["n"], a["rank"]) / (a["m"] * a["n"])
    ),
    "observed_entries": lambda a, key: (1 - a["prop"]) * a["m"] * a["n"],
    "binomial_sd": lambda a, key: math.sqrt(
        a["m"] * a["n"] * a["prop"] * (1 - a["prop"])
    ),
    "psnr_from_rmse": lambda a, key: -20 * math.log10(a["rmse"]),
    "rmse_from_psnr": lambda a, key: _rmse_for(a["psnr"]),
    "data_range_shift": lambda a, key: 20 * math.log10(a["data_range"]),
    "keep_observed_gain": lambda a, key: -10 * math.log10(a["prop"]),
    "eckart_young": lambda a, key: sum(
        s * s for s in sorted(a["singular_values"])[: -a["rank"]]
    ),
    "product_sd": lambda a, key: math.sqrt(a["rank"]),
    "gram_rank": lambda a, key: min(a["rank"], a["observed"]),
    "factor_norm": lambda a, key: 2 * sum(a["singular_values"]),
    "soft_threshold_nuclear": lambda a, key: sum(
        max(s - a["ridge"], 0) for s in a["singular_values"]
    ),
    "some_row_empty": lambda a, key: (
        1 - (1 - (1 - a["q"]) ** a["cols"]) ** a["rows"]
    ),
    "basis_coherence": lambda a, key: a["m"] / a["r"],
    "rbf_gamma": lambda a, key: 1 / (2 * a["sigma"] ** 2),
    "rbf_kernel": lambda a, key: math.exp(
        -(a["distance"] ** 2) / (2 * a["sigma"] ** 2)
    ),
    "error_shrink": lambda a, key: math.sqrt(a["factor"]),
    "first_rank_over": lambda a, key: (
        math.floor(a["m"] * (1 - math.sqrt(a["prop"]))) + 1
    ),
    "dof_per_pixel": lambda a, key: _dof_per_pixel(a["image"], a["rank"]),
    "sample_sd": lambda a, key: float(
        torch.tensor(a["values"], dtype=torch.float64).std()
    ),
    "patch_count": lambda a, key: (a["size"] - a["patch"] + 1) ** 2,
}


def _rmse_for(psnr):
    """The RMSE whose PSNR, by ``mh.metrics``, is ``psnr``: bisection on the helper."""
    grey = torch.full((3, 4, 4), 0.5, dtype=torch.float64)
    lo, hi = 1e-6, 0.5
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if mh.metrics(grey, grey + mid)[1] > psnr:
            lo = mid
        else:
            hi = mid
    return mid


def _dof_per_pixel(image, rank):
    m, n = mh.load_image(image).shape[1:]
    return _dof(m, n, min(rank, m, n)) / (m * n)


def test_every_answer_function_in_use_is_recomputed_here(questions):
    used = {q["compute"] for q in questions.values() if q["kind"] == "number"}
    assert used <= set(RECOMPUTE), used - set(RECOMPUTE)
    assert set(RECOMPUTE) <= set(sc.ANSWERS)


def test_every_numeric_answer_equals_an_independent_computation(questions):
    numeric = [q for q in questions.values() if q["kind"] == "number"]
    for q in numeric:
        key = q.get("answer", "answer")
        expected = RECOMPUTE[q["compute"]](q.get("args", {}), key)
        assert math.isclose(
            q["answer_value"], expected, rel_tol=1e-5, abs_tol=1e-9
        ), (q["id"], q["answer_value"], expected)


def test_the_degrees_of_freedom_formula_is_the_rank_of_the_products_jacobian():
    g = torch.Generator().manual_seed(0)
    m, n, r = 7, 5, 2
    W = torch.randn(m, r, generator=g, dtype=torch.float64)
    H = torch.randn(r, n, generator=g, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda w, h: w @ h, (W, H))
    J = torch.cat([j.reshape(m * n, -1) for j in J], dim=1)  # (mn, r(m+n))
    assert (
        int(torch.linalg.matrix_rank(J)) == sc.dof(m=m, n=n, rank=r)["answer"]
    )


def test_the_observed_count_of_a_real_mask_is_within_the_tolerance():
    out = sc.observed_entries(m=128, n=128, prop=0.4)
    _, mask = mh.mask_image(torch.zeros(3, 128, 128), 0.4, generator=0)
    assert out["drawn"] == int((~mask).sum())
    assert abs(out["drawn"] - out["answer"]) <= out["three_sd"]


def test_the_binomial_spread_matches_masks_drawn_by_mask_image():
    g = torch.Generator().manual_seed(1)
    img = torch.zeros(3, 100, 100)
    counts = torch.tensor(
        [
            float(mh.mask_image(img, 0.5, generator=g)[1].sum())
            for _ in range(400)
        ]
    )
    expected = sc.binomial_sd(m=100, n=100, prop=0.5)["answer"]
    assert abs(float(counts.std()) / expected - 1) < 0.15


def test_some_row_empty_matches_masks_drawn_by_mask_image():
    p = sc.some_row_empty(rows=100, cols=100, q=0.05)["answer"]
    seen = _some_row_empty_by_masks(100, 100, 0.05)
    assert abs(seen - p) < 4 * math.sqrt(p * (1 - p) / 1000)


def test_the_kernel_answers_match_the_features_of_create_rff_features():
    for sigma, d in ((4.0, 3.0), (0.5, 1.0)):
        k = sc.rbf_kernel(sigma=sigma, distance=d)["answer"]
        assert abs(_rff_kernel(sigma, d) - k) < 0.03
        gamma = sc.rbf_gamma(sigma=sigma)["answer"]
        assert math.isclose(math.exp(-gamma * d * d), k)


def test_the_sampled_spread_of_a_random_product_is_the_answer():
    out = sc.product_sd(rank=25)
    assert abs(out["sampled"] / out["answer"] - 1) < 0.05


# --- the chapters ---------------------------------------------------------------------------


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_chapter_asks_three_to_six_of_its_own_questions(
    nb_path, questions
):
    cells = _cells(nb_path)
    ids = [qid for cell_ids, _ in cells for qid in cell_ids]
    assert 3 <= len(ids) <= 6, ids
    for qid in ids:
        assert qid in questions, f"{nb_path.name}: unknown question {qid!r}"
        assert questions[qid]["chapter"] == nb_path.stem, qid
    for _, tags in cells:
        assert "remove-input" in tags and "remove-cell" not in tags


def test_every_question_is_asked_exactly_once_in_the_book(questions):
    asked = [
        qid for p in NOTEBOOKS for cell_ids, _ in _cells(p) for qid in cell_ids
    ]
    assert sorted(asked) == sorted(questions)


# --- the HTML -------------------------------------------------------------------------------


def test_each_question_is_one_self_check_element_with_its_feedback_inside():
    out = mh.self_check("masking-nan-mean", "masking-observed")
    soup = BeautifulSoup(out.html, "html.parser")
    roots = soup.select(".self-check")
    assert [r["data-question"] for r in roots] == [
        "masking-nan-mean",
        "masking-observed",
    ]
    for root in roots:
        live = root.select(".self-check-feedback")
        assert len(live) == 1 and live[0]["aria-live"] == "polite"
        assert root.select("script.self-check-data")
    assert len(roots[0].select("button.self-check-choice")) == 4
    form = roots[1].select_one("form")
    assert form.select_one("label")["for"] == form.select_one("input")["id"]
    assert form.select_one("button[type=submit]")


def test_the_numeric_answer_in_the_page_is_the_computed_one(questions):
    out = mh.self_check("completion-some-row")
    soup = BeautifulSoup(out.html, "html.parser")
    data = json.loads(soup.select_one("script.self-check-data").string)
    q = questions["completion-some-row"]
    assert data["answer"] == q["answer_value"]
    assert [w["value"] for w in data["wrong"]] == q["wrong_values"]
    assert "0.448" in data["explanation"]


def test_the_style_and_the_script_are_inlined_and_nothing_is_fetched():
    html = mh.self_check("preface-psnr").html
    assert "window.matfillSelfCheck" in html and ".self-check {" in html
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and " src=" not in html


def test_element_ids_are_unique_across_outputs():
    a, b = mh.self_check("preface-psnr"), mh.self_check("preface-psnr")
    ids_a = set(re.findall(r'\bid="([^"]+)"', a.html))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b.html))
    assert ids_a and not ids_a & ids_b


def test_text_is_escaped_and_only_the_few_marks_become_html(tmp_path):
    folder = _write(tmp_path / "q", CHOICE)
    html = mh.self_check("demo-choice", folder=folder).html
    assert (
        "A &lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; <code>code</code>" in html
    )
    assert html.count("</script>") == 2  # the data and the script
    assert "<b>bold" not in html


def test_the_plain_text_repr_names_the_question():
    assert "Check yourself (masking-nan-mean)" in repr(
        mh.self_check("masking-nan-mean")
    )


def test_without_the_question_files_a_chapter_still_runs(monkeypatch):
    monkeypatch.setattr(sc, "default_folder", lambda: None)
    out = mh.self_check("masking-nan-mean")
    assert 'class="self-check"' not in out.html
    assert "book/self_check" in out.html and out.questions == []


# --- bad arguments and bad data -------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((), {}, TypeError, "'ids' must be at least one question id"),
        ((3,), {}, TypeError, "'ids' must be question ids"),
        (
            ("masking-nan-men",),
            {},
            ValueError,
            "'ids' must be ids of the book's questions; got 'masking-nan-men'."
            " Did you mean 'masking-nan-mean'",
        ),
        (
            ("preface-psnr", "preface-psnr"),
            {},
            ValueError,
            "'ids' must be ids without repeats",
        ),
        (("preface-psnr",), {"folder": 3}, TypeError, "'folder' must be"),
        (
            ("preface-psnr",),
            {"folder": "/no/such/folder"},
            ValueError,
            "'folder' must be a folder holding question files",
        ),
    ],
)
def test_self_check_rejects_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match="^self_check: " + re.escape(match)):
        mh.self_check(*args, **kwargs)


BAD_DATA = [
    (CHOICE.replace("        feedback: Not B.\n", ""), "choices[1]: feedback"),
    (
        CHOICE.replace(
            "feedback: Not B.", "feedback: Not B.\n        correct: true"
        ),
        "exactly one choice marked 'correct: true'; got 2 marked",
    ),
    (CHOICE.replace("kind: choice", "kind: essay"), "kind' must be 'choice'"),
    (CHOICE.replace("id: demo-choice", "id: Demo"), "id' must be an id"),
    (
        CHOICE.replace("prompt: Which?", "prompt: Which {x}?"),
        "texts whose {...}",
    ),
    (CHOICE + "  - {\n", "must be a valid YAML file"),
    (
        "questions:\n  - id: demo-n\n    kind: number\n    prompt: P\n"
        "    compute: nothing\n    hint: H\n    explanation: E\n",
        "compute' must be one of the answer functions",
    ),
    (
        "questions:\n  - id: demo-n\n    kind: number\n    prompt: P\n"
        "    compute: rbf_kernel\n    args: {sigma: 1, distance: 1}\n"
        "    hint: H\n    explanation: E\n",
        "tolerance' must be given for an answer that is not a whole number",
    ),
    (
        "questions:\n  - id: demo-n\n    kind: number\n    prompt: P\n"
        "    compute: dof\n    args: {m: 4, n: 4, rank: 1}\n    hint: H\n"
        "    explanation: E\n    wrong:\n      - {value: answer, feedback: F}\n",
        "must be a value outside the tolerance of the answer",
    ),
    (
        "questions:\n  - id: demo-n\n    kind: number\n    prompt: P\n"
        "    compute: dof\n    args: {m: 4, n: 4, rank: 1}\n    hint: H\n"
        "    explanation: E\n    wrong:\n      - {value: tally, feedback: F}\n",
        "must be a number or one of the computed values",
    ),
]


@pytest.mark.parametrize("text, match", BAD_DATA)
def test_a_bad_question_file_is_refused_naming_the_file_and_question(
    tmp_path, text, match
):
    folder = _write(tmp_path / "q", text)
    with pytest.raises(ValueError, match=r"^self_check: '?chapter\.yml"):
        sc.load_questions(folder)
    with pytest.raises(ValueError, match=re.escape(match)):
        sc.load_questions(folder)


def test_an_id_used_twice_is_refused(tmp_path):
    folder = _write(tmp_path / "q", CHOICE, "one.yml")
    _write(folder, CHOICE, "two.yml")
    with pytest.raises(ValueError, match="an id used once in the book"):
        sc.load_questions(folder)


# --- the built pages ------------------------------------------------------------------------


@pytest.mark.book
@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_built_chapter_page_shows_its_questions(nb_path):
    path = HTML / "book" / f"{nb_path.stem}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book` first")
    soup = BeautifulSoup(path.read_text(), "html.parser")
    shown = [el["data-question"] for el in soup.select(".self-check")]
    asked = [qid for cell_ids, _ in _cells(nb_path) for qid in cell_ids]
    assert 3 <= len(shown) <= 6 and shown == asked
    for el in soup.select(".self-check"):
        assert el.select(".self-check-feedback[aria-live]")
