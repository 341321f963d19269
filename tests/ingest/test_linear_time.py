"""Reading a cell takes time linear in its length: a few crafted KB cannot stall a load.

Issue 19, item 2. Three faults were found by probing ingest:

- multiple-choice label splitting tried every run of pieces (``"x," * 3000``,
  a 6 KB cell, still running after 240 s);
- number parsing backtracked quadratically (``"1" * 100000 + "x"``: 70 s);
- ``regex()`` constraints ran on Python's backtracking engine
  (``"a@" + "." * 50000 + "@"`` against the e-mail pattern: 17 s).

Each crafted cell is processed by the real function in a forked child that is
killed after :data:`BOUND` seconds, so a regression fails the test instead of
hanging the run (neither a thread nor ``signal.alarm`` can stop every C-level
loop). The new ``parse_number`` and ``_tokens_to_codes`` are also checked
against copies of the old implementations, which serve as oracles.
"""
from __future__ import annotations

import multiprocessing
import re
import time
import traceback
from types import SimpleNamespace
from typing import Any, Callable

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from survey.ingest import ingest_file
from survey.ingest.coerce import _truthy, _tokens_to_codes, cell_text, parse_date, parse_number
from survey.ingest.mapping import fold
from survey.ingest.readers import MAX_CELL_CHARS
from survey.questionnaire import evaluate, load_questionnaire
from survey.questionnaire.model import Choice, Label
from tests.fixtures import make_answers, to_kobo_csv

BOUND = 10.0  # seconds; the fixed code needs well under one for each call here
MB = 1_000_000
EMAIL = "^[^@ ]+@[^@ ]+[.][^@ ]+$"


def finishes_within(seconds: float, func: Callable[..., Any], *args: Any) -> Any:
    """``func(*args)``, run in a forked child killed after ``seconds``; fails the test if it takes longer."""
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - Windows
        pytest.skip("needs fork() to stop a runaway call")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", func(*args)))
        except BaseException:  # noqa: BLE001 - reported to the parent
            send.send(("error", traceback.format_exc()))

    proc = ctx.Process(target=child, daemon=True)
    start = time.perf_counter()
    proc.start()
    done = receive.poll(seconds)
    elapsed = time.perf_counter() - start
    if not done:
        proc.kill()
        proc.join()
        pytest.fail(f"{getattr(func, '__name__', func)} did not finish within {seconds:.0f} s (super-linear time?)")
    status, value = receive.recv()
    proc.join()
    if status == "error":
        pytest.fail(f"{getattr(func, '__name__', func)} raised after {elapsed:.1f} s:\n{value}")
    return value


@pytest.fixture(scope="module")
def monthly():
    return load_questionnaire("monthly_difficulties")


def _question(qn, qid):
    return next(q for q in qn.questions if q.id == qid)


# ----------------------------------------------------------------- the old implementations (oracles)

def old_parse_number(text: str, whole: bool = False) -> float | None:
    """parse_number before issue 19 (quadratic on a long run of digits followed by a letter)."""
    s = re.sub(r"[\s\u00a0]", "", str(text))
    if not re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", s):
        return None
    marks = set(re.findall(r"[.,]", s))
    if len(marks) == 2:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif marks:
        mark = marks.pop()
        groups = s.lstrip("+-").split(mark)
        thousands = len(groups) > 2 or (whole and len(groups[-1]) == 3)
        if thousands and all(len(g) == 3 for g in groups[1:]):
            s = s.replace(mark, "")
        elif len(groups) > 2:
            return None
        else:
            s = s.replace(mark, ".")
    try:
        return float(s)
    except ValueError:
        return None


_OLD_YESNO = {"true": 1, "false": 0, "yes": 1, "no": 0, "có": 1, "không": 0, "co": 1, "khong": 0}


def _old_label_lookup(qn, q) -> dict[str, int]:
    lookup = {}
    for c in qn.choices(q):
        lookup[fold(c.label.vi)] = c.code
        lookup[fold(c.label.en)] = c.code
    if q.type == "yesno":
        lookup.update({k: v for k, v in _OLD_YESNO.items() if k not in lookup})
    return lookup


def old_tokens_to_codes(value, qn, q) -> tuple[list[int], list[str]]:
    """_tokens_to_codes before issue 19 (cubic in the number of pieces)."""
    valid = {c.code for c in qn.choices(q)}
    text = cell_text(value).strip()
    tokens = text.split()
    if tokens and all(re.fullmatch(r"\d+(\.0)?", t) for t in tokens):
        codes = [int(float(t)) for t in tokens]
        return [c for c in codes if c in valid], [str(c) for c in codes if c not in valid]
    lookup = _old_label_lookup(qn, q)
    if fold(text) in lookup:
        return [lookup[fold(text)]], []
    parts = [p for p in re.split(r"\s*[;,|]\s*", text) if p]
    codes, unknown, i = [], [], 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            code = lookup.get(fold(", ".join(parts[i:j])))
            if code is not None:
                codes.append(code)
                i = j
                break
        else:
            part = parts[i]
            if re.fullmatch(r"\d+", part) and int(part) in valid:
                codes.append(int(part))
            else:
                unknown.append(part)
            i += 1
    return codes, unknown


# ----------------------------------------------------------------- same results as before

def test_oracles_are_the_old_code_on_known_cases():
    assert old_parse_number("1.250.000") == parse_number("1.250.000") == 1250000.0
    assert old_parse_number("12,5") == parse_number("12,5") == 12.5


_NUMBER_CHARS = "0123456789.,+- \u00a0٣x"


def _grouped() -> st.SearchStrategy[str]:
    """Numbers as people write them: a sign, digit groups joined by dots or commas, spaces."""
    groups = st.lists(st.text("0123456789", min_size=0, max_size=4), min_size=1, max_size=5)
    marks = st.lists(st.sampled_from([".", ",", " ", ", ", "\u00a0"]), min_size=4, max_size=4)
    sign = st.sampled_from(["", "", "+", "-", " -"])
    tail = st.sampled_from(["", "", "", "x", ".", ",", "đ", " "])
    return st.builds(lambda s, g, m, t: s + "".join(x + m[i % 4] for i, x in enumerate(g[:-1])) + g[-1] + t,
                     sign, groups, marks, tail)


@settings(max_examples=800, deadline=None)
@given(text=st.one_of(_grouped(), st.text(_NUMBER_CHARS, max_size=24), st.text(max_size=12)), whole=st.booleans())
def test_parse_number_agrees_with_the_old_one(text, whole):
    assert parse_number(text, whole=whole) == old_parse_number(text, whole=whole)


@pytest.mark.parametrize("text", ["12,5", "12.5", "1.250.000", "1,250,000", "1.250,5", "1,250.5", "-3", "+4,0",
                                  "1 250 000", "1\u00a0250", "1.250", "1,25", "", ".", ",,", "+-1", "1-", "abc",
                                  "1.2.3", "12,3456", "١٢٣", "1" * 400])
@pytest.mark.parametrize("whole", [False, True])
def test_parse_number_agrees_on_examples(text, whole):
    assert parse_number(text, whole=whole) == old_parse_number(text, whole=whole)


class _Lists:
    """Stands in for a Questionnaire: ``_tokens_to_codes`` only asks for a question's choices."""

    def __init__(self, choices):
        self._choices = list(choices)

    def choices(self, q, with_missing=True):
        return self._choices

    def __repr__(self) -> str:
        return f"_Lists({self._choices!r})"


_WORD = st.text("aAbcđĐeếỆoơu;\u037e", min_size=1, max_size=4)
_LABEL = st.builds(lambda ws, js: "".join(w + js[i % len(js)] for i, w in enumerate(ws[:-1])) + ws[-1],
                   st.lists(_WORD, min_size=1, max_size=4),
                   st.lists(st.sampled_from([" ", ", ", ",", " | ", "; ", ",, ", "  "]), min_size=1, max_size=3))
_JOINERS = st.sampled_from([", ", ",", ";", " ; ", " | ", "|", ", , ", " "])


@st.composite
def _multiple(draw):
    """A made-up multiple-choice question, and a cell joining some of its labels (with some noise)."""
    labels = draw(st.lists(st.tuples(_LABEL, _LABEL), min_size=1, max_size=5))
    qtype = draw(st.sampled_from(["multiple", "multiple", "yesno"]))
    choices = [Choice(code, Label(vi, en)) for code, (vi, en) in enumerate(labels, start=1)]
    pieces = draw(st.lists(st.one_of(
        st.sampled_from([c.label.vi for c in choices] + [c.label.en for c in choices]),
        st.sampled_from([c.label.vi.upper() for c in choices] + [" " + c.label.en + "  " for c in choices]),
        st.sampled_from(["1", "2", "7", "01", "1.0", "yes", "Không", "x"]),
        _WORD), min_size=1, max_size=6))
    joiners = draw(st.lists(_JOINERS, min_size=len(pieces), max_size=len(pieces)))
    cell = "".join(p + j for p, j in zip(pieces[:-1], joiners)) + pieces[-1]
    return _Lists(choices), SimpleNamespace(id="m", type=qtype), cell


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_multiple())
def test_tokens_to_codes_agrees_with_the_old_one_on_label_joins(case):
    qn, q, cell = case
    assert _tokens_to_codes(cell, qn, q) == old_tokens_to_codes(cell, qn, q)


@settings(max_examples=300, deadline=None)
@given(case=_multiple(), noise=st.text(" ,;|\t\n\u00a0\u2003123abx", max_size=16))
def test_tokens_to_codes_agrees_with_the_old_one_on_noise(case, noise):
    qn, q, cell = case
    cell = noise + cell + noise[::-1]
    assert _tokens_to_codes(cell, qn, q) == old_tokens_to_codes(cell, qn, q)


_SURVEYS = {qid: load_questionnaire(qid) for qid in ("monthly_difficulties", "pgi_feedback")}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_tokens_to_codes_agrees_on_the_real_questionnaires(data):
    qn = _SURVEYS[data.draw(st.sampled_from(sorted(_SURVEYS)), label="survey")]
    multiples = [q for q in qn.questions if q.type == "multiple"]
    assume(multiples)
    q = data.draw(st.sampled_from(multiples), label="question")
    lang = data.draw(st.sampled_from(["vi", "en"]), label="lang")
    labels = [c.label.get(lang) for c in qn.choices(q)]
    pieces = data.draw(st.lists(st.one_of(st.sampled_from(labels), st.sampled_from(["Khác", "x", "3", "99"])),
                                min_size=1, max_size=5), label="pieces")
    cell = data.draw(_JOINERS, label="joiner").join(pieces)
    assert _tokens_to_codes(cell, qn, q) == old_tokens_to_codes(cell, qn, q)


def test_labels_holding_commas_are_still_found(monthly):
    q = _question(monthly, "difficulty_types")
    cell = "Thu gom, xử lý chất thải rắn, Xử lý nước thải, Yêu cầu quan trắc tự động, kết nối dữ liệu, Khác"
    assert _tokens_to_codes(cell, monthly, q) == ([4, 3, 6, 10], [])


def test_huge_codes_are_unknown_not_a_crash(monthly):
    """The old code raised on these (float overflow; int() of more than 4300 digits)."""
    q = _question(monthly, "difficulty_types")
    assert _tokens_to_codes("3 " + "1" * 400, monthly, q) == ([3], ["1" * 400])
    assert _tokens_to_codes("1" * 5000 + ", Khác", monthly, q) == ([10], ["1" * 5000])
    assert _tokens_to_codes("0" * 50 + "3, x", monthly, q) == ([3], ["x"])


# ----------------------------------------------------------------- crafted cells finish fast

def _tokens(cell: str) -> tuple[int, int]:
    qn = load_questionnaire("monthly_difficulties")
    codes, unknown = _tokens_to_codes(cell, qn, _question(qn, "difficulty_types"))
    return len(codes), len(unknown)


@pytest.mark.parametrize("cell, expected", [
    pytest.param("x," * 3000, (0, 3000), id="probe-6KB"),
    pytest.param("x," * (MB // 2), (0, MB // 2), id="1MB"),
    pytest.param("Xử lý nước thải, " * (MB // 17), (MB // 17, 0), id="1MB-of-labels"),
    pytest.param("Thu gom, " * (MB // 9), (0, MB // 9), id="1MB-half-labels"),
    pytest.param("a" + " " * MB + "b", (0, 1), id="1MB-of-spaces"),
    pytest.param("1" * MB, (0, 1), id="1MB-digits"),
    pytest.param("1" * MB + ", x", (0, 2), id="1MB-digits-and-a-label"),
])
def test_multiple_choice_cell_is_linear(cell, expected):
    assert finishes_within(BOUND, _tokens, cell) == expected


@pytest.mark.parametrize("cell, expected", [
    pytest.param("1" * 100_000 + "x", None, id="probe-100KB"),
    pytest.param("1" * MB + "x", None, id="1MB"),
    pytest.param("1." * (MB // 2) + "x", None, id="1MB-dotted"),
    pytest.param("-" + "1" * MB + "-", None, id="1MB-signs"),
    pytest.param("," * MB, None, id="1MB-no-digit"),
    pytest.param("123." * (MB // 4) + "5", None, id="1MB-groups"),
    pytest.param("1" + ".000" * (MB // 4), float("inf"), id="1MB-thousands"),
])
@pytest.mark.parametrize("whole", [False, True])
def test_number_cell_is_linear(cell, expected, whole):
    assert finishes_within(BOUND, parse_number, cell, whole) == expected


def _email_check(cell: str) -> list[bool]:
    qn = load_questionnaire("monthly_difficulties")
    constraint = _question(qn, "contact_email").constraint
    assert EMAIL in constraint.source  # the probe's pattern is the one the questionnaire declares
    frame = pd.DataFrame({"contact_email": [cell, "dn1@congty.vn"]})
    return evaluate(constraint, frame, self_column="contact_email").tolist()


@pytest.mark.parametrize("cell", [
    pytest.param("a@" + "." * 50_000 + "@", id="probe-50KB"),
    pytest.param("a@" + "." * MB + "@", id="1MB"),
    pytest.param("a" * MB + "@", id="1MB-before-at"),
    pytest.param("a@" + "b" * MB + " ", id="1MB-after-at"),
])
def test_regex_constraint_is_linear(cell):
    assert finishes_within(BOUND, _email_check, cell) == [False, True]


@pytest.mark.parametrize("cell", ["2025-11-30" + " " * MB + "x", "3" * MB + "/11/2025", "2025-11-30" + ":" * MB,
                                  "1" * MB])
def test_date_cell_is_linear(cell):
    assert finishes_within(BOUND, parse_date, cell) is None


def _fold_and_truthy(cell: str) -> tuple[int, float]:
    return len(fold(cell)), _truthy(cell, {"x"})


@pytest.mark.parametrize("cell, folded, flag", [
    (" \u00a0\t" * MB, 0, "nan"), ("A" + " \t" * MB + "b", 3, "-1.0"), ("x," * MB, 2 * MB, "-1.0")])
def test_split_option_cell_is_linear(cell, folded, flag):
    """One 0/1 column per option: each cell is folded and compared with the yes/no words."""
    length, value = finishes_within(BOUND, _fold_and_truthy, cell)
    assert (length, str(value)) == (folded, flag)


# ----------------------------------------------------------------- end to end

def _crafted_load(csv_path: str, db: str) -> dict:
    result = ingest_file(csv_path, "monthly_difficulties", "2025-11", db=db)
    reasons = {(int(r), q, reason) for r, q, reason in
               result.problems[["row", "question", "reason"]].itertuples(index=False)}
    return {"counts": (result.rows_read, result.accepted, result.quarantined), "reasons": reasons}


def test_crafted_cells_load_end_to_end(tmp_path, monthly):
    """Crafted cells in a multiple-choice, a number and the e-mail column: the load finishes fast.

    Cells longer than the reader's limit (MAX_CELL_CHARS) send their row to
    quarantine unread, so the crafted cells are just under it; 16 distinct
    ones, so that each fault alone would blow the bound (the old number parsing
    took about 4 s per cell, the old e-mail check 7 s, the old label splitting hours).
    """
    n, crafted = 24, 16
    answers = make_answers(monthly, n, seed=11).astype({"difficulty_types": object, "cost_estimate": object,
                                                        "contact_email": object})
    size = MAX_CELL_CHARS - 20
    for i in range(crafted):
        answers.loc[i, "had_difficulty"] = 1.0
        answers.loc[i, "difficulty_types"] = ("x," * size)[: size - i]
        answers.loc[i, "cost_estimate"] = "1" * (size - i) + "x"
        answers.loc[i, "contact_email"] = "a@" + "." * (size - i) + "@"
    answers.loc[crafted, "difficulty_types"] = "x," * (MB // 2)  # 1 MB, far too long: quarantined
    path = to_kobo_csv(answers, monthly, tmp_path / "crafted.csv", split=False)
    got = finishes_within(2 * BOUND, _crafted_load, str(path), f"sqlite:///{tmp_path}/s.sqlite")
    rows_read, accepted, quarantined = got["counts"]
    assert rows_read == n and quarantined >= crafted + 1 and accepted + quarantined == n
    for i in range(crafted):
        row = i + 2  # file rows: the header is row 1
        assert (row, "difficulty_types", "unknown_code") in got["reasons"]
        assert (row, "cost_estimate", "not_a_number") in got["reasons"]
        assert any(r == row and q == "contact_email" for r, q, _ in got["reasons"])
