"""Check typed answers against the questionnaire.

Per-column rules (answer codes, ranges, whole numbers) are a pandera schema
built from the definition, validated lazily so every failing cell is found
in one pass. Rules across columns (skip logic, required-when-shown,
constraints) are evaluated with the questionnaire's own expressions.
Declared missing codes (98, 99) are always valid answers.
"""
from __future__ import annotations

import ast
import datetime as dt

import numpy as np
import pandas as pd

from ..lazy_import import lazy_module
from ..errors import CheckFailedError
from ..i18n import has_message
from ..places import other_list_unit
from ..questionnaire import Question, Questionnaire, evaluate
from .coerce import blank_values, cell_text
from .mapping import ColumnMap

pa = lazy_module("pandera.pandas")  # imported when answers are first checked, not at start-up

__all__ = ["answer_schema", "validate_answers", "constraint_rule"]


def constraint_rule(q: Question) -> str:
    """The key of a constraint's words in the catalogue (``ingest.rule.<key>``), never its expression.

    The question's own words when the catalogue has them (``ingest.rule.constraint.<question id>``:
    "số điện thoại phải có 8–15 chữ số"); else words for the kind of rule: a pattern
    (``regex``), an answer among those chosen in another question (``selected``), or any other
    condition (``constraint``).
    """
    if has_message(f"ingest.rule.constraint.{q.id}", "vi"):
        return f"constraint.{q.id}"
    tree = q.constraint.tree if q.constraint is not None else None
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        if tree.func.id == "regex":
            return "regex"
        if tree.func.id == "selected" and any(isinstance(a, ast.Name) and a.id == "value" for a in tree.args[1:]):
            return "selected"
    return "constraint"


def _bound(value, today: dt.date) -> float | None:
    return float(today.year) if value == "current_year" else (None if value is None else float(value))


def _range_check(q: Question, today: dt.date) -> pa.Check:
    lo, hi = (_bound(v, today) for v in q.range)
    missing = [float(m) for m in q.missing]

    def inside(s: pd.Series) -> pd.Series:
        ok = pd.Series(True, index=s.index)
        if lo is not None:
            ok &= s >= lo
        if hi is not None:
            ok &= s <= hi
        return ok | s.isin(missing)
    return pa.Check(inside, error="out_of_range")


def _in_schema(q: Question) -> bool:
    """Whether the schema holds a column for the question: single choices and numbers (typed as floats)."""
    return q.type != "multiple" and (q.is_select or q.is_numeric)


def _check_names(q: Question) -> list[str]:
    """The names of the per-column checks of a question's answers (each the ``error`` of one check of
    :func:`_column`): known without building the schema, so that a load whose columns the fast path
    clears never imports pandera (0.2 s of a small load's command, issue 18)."""
    if not _in_schema(q):
        return []
    if q.is_select:
        return ["unknown_code"]
    return (["out_of_range"] if q.range != (None, None) else []) + (["not_whole"] if q.type == "integer" else [])


#: each check of :func:`_check_names`, built for a question: (questionnaire, question, today) -> pandera check
_CHECKS = {
    "unknown_code": lambda qn, q, today: pa.Check.isin([float(c.code) for c in qn.choices(q)], error="unknown_code"),
    "out_of_range": lambda qn, q, today: _range_check(q, today),
    "not_whole": lambda qn, q, today: pa.Check(lambda s: (s - s.round()).abs() < 1e-9, error="not_whole"),
}


def _column(qn: Questionnaire, q: Question, today: dt.date) -> pa.Column:
    return pa.Column(float, [_CHECKS[name](qn, q, today) for name in _check_names(q)], nullable=True,
                     required=False)


_SCHEMAS: dict[tuple[int, dt.date], tuple[Questionnaire, pa.DataFrameSchema]] = {}


def answer_schema(qn: Questionnaire, today: dt.date | None = None) -> pa.DataFrameSchema:
    """The pandera schema of a questionnaire's typed answers (per-column rules); built once per day."""
    today = today or dt.date.today()
    key = (id(qn), today)
    if key not in _SCHEMAS or _SCHEMAS[key][0] is not qn:
        columns = {q.id: _column(qn, q, today) for q in qn.questions if _in_schema(q)}
        _SCHEMAS[key] = (qn, pa.DataFrameSchema(columns, strict=False, coerce=False))
    return _SCHEMAS[key][1]


def _plainly_valid(col: pd.Series, qn: Questionnaire, q: Question, today: dt.date) -> bool:
    """Whether a column passes every per-column rule, checked with numpy in one pass.

    Only a fast path: a column it does not clear is checked by the pandera schema,
    which finds and names the failing cells (most columns of a load are clean, and
    pandera's per-check overhead was most of validating a 300-column file, issue 18).
    """
    if col.dtype != np.float64:
        return False
    values = col.to_numpy()
    values = values[~np.isnan(values)]
    if q.is_select:
        return bool(np.isin(values, [float(c.code) for c in qn.choices(q)]).all())
    ok = np.ones(len(values), dtype=bool)
    if q.range != (None, None):
        lo, hi = (_bound(v, today) for v in q.range)
        inside = np.ones(len(values), dtype=bool)
        if lo is not None:
            inside &= values >= lo
        if hi is not None:
            inside &= values <= hi
        ok &= inside | np.isin(values, [float(m) for m in q.missing])
    if q.type == "integer":
        ok &= np.abs(values - np.round(values)) < 1e-9
    return bool(ok.all())


#: the per-column checks :func:`_plainly_valid` knows how to clear (see :func:`_column`)
_FAST_CHECKS = frozenset({"unknown_code", "out_of_range", "not_whole"})


def _cleared(column: pd.Series, qn: Questionnaire, q: Question, today: dt.date) -> bool:
    """Whether the fast path clears a column: only when it knows every check the schema holds for it
    (any other check goes to pandera)."""
    return set(_check_names(q)) <= _FAST_CHECKS and _plainly_valid(column, qn, q, today)


def _column_problems(answers: pd.DataFrame, qn: Questionnaire, cmap: ColumnMap, today: dt.date) -> list[dict]:
    suspect = [q.id for q in qn.questions if _in_schema(q) and q.id in answers.columns
               and not _cleared(answers[q.id], qn, q, today)]
    if not suspect:
        return []
    schema = answer_schema(qn, today)  # pandera, for the columns the fast path did not clear
    try:
        schema.select_columns(suspect).validate(answers[suspect], lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    out = []
    broken = cases[cases["index"].isna()]
    if len(broken):  # a check that raised: never let it pass as "no problem"
        first = broken.iloc[0]
        raise CheckFailedError(f"validation check {first['check']!r} on {first['column']!r} failed: "
                               f"{first['failure_case']}", code="ingest.check_failed",
                               params={"check": str(first["check"]), "column": str(first["column"]),
                                       "reason": str(first["failure_case"])})
    for rec in cases.itertuples(index=False):
        q = qn.question(rec.column)
        value = cell_text(rec.failure_case)
        params = {"question": q.id, "value": value}
        if rec.check == "unknown_code" and q.choices == "locality":  # a code of the list before/after 1 July 2025
            other = other_list_unit(qn, rec.failure_case)
            if other is not None:
                out.append({"row": int(rec.index), "column": _file_column(cmap, q.id), "question": q.id,
                            "value": value, "reason": "locality_other_list", "params": {**params, **other}})
                continue
        if rec.check == "out_of_range":
            lo, hi = (_bound(v, today) for v in q.range)
            params.update(low="" if lo is None else f"{lo:g}", high="" if hi is None else f"{hi:g}")
        out.append({"row": int(rec.index), "column": _file_column(cmap, q.id), "question": q.id,
                    "value": value, "reason": str(rec.check), "params": params})
    return out


def _file_column(cmap: ColumnMap, qid: str) -> str | None:
    return cmap.column_of(qid) if (qid in cmap.single or qid in cmap.split) else None


def _answered(answers: pd.DataFrame, qid: str) -> np.ndarray:
    """Row by row, whether the question has an answer: present, and for a text something other than spaces."""
    col = answers[qid]
    if pd.api.types.is_numeric_dtype(col):  # numbers and codes: answered means present
        return col.notna().to_numpy()
    if isinstance(col.dtype, pd.StringDtype):  # texts: something other than spaces, in pandas' string kernels
        return (col.str.strip().str.len() > 0).to_numpy(dtype=bool, na_value=False)
    answered = col.notna().to_numpy().copy()
    # only the present values are looked at, with pandas' string methods when they are texts
    # (a conversion of the whole column to the string dtype was most of validating texts, issue 18)
    answered[answered] = ~blank_values(col.to_numpy()[answered])
    return answered


def _rule_problems(answers: pd.DataFrame, qn: Questionnaire, cmap: ColumnMap, today: dt.date) -> list[dict]:
    """The rules broken, row by row: an answer where its question is not shown, a required one missing, a
    constraint broken. Masks are numpy arrays, and a rule no row breaks adds nothing: a chunk's fixed
    cost (three pandas operations per question and rule, each checking its index) was a fifth of a
    Kobo chunk's checks (issue 18)."""
    out: list[dict] = []

    def add(mask: np.ndarray, q: Question, reason: str, **params) -> None:
        if not mask.any():
            return
        for row in answers.index[mask]:
            value = cell_text(answers.at[row, q.id])
            out.append({"row": int(row), "column": _file_column(cmap, q.id), "question": q.id, "value": value,
                        "reason": reason, "params": {"question": q.id, "value": value, **params}})

    def holds(expr, **kwargs) -> np.ndarray:
        return evaluate(expr, answers, today=today, **kwargs).to_numpy(dtype=bool)

    always = np.ones(len(answers), dtype=bool)
    shown_when: dict[str, np.ndarray] = {}  # many questions share a condition ("had_difficulty == 1"): once each
    for q in qn.questions:
        answered = _answered(answers, q.id)
        shown = always
        if q.relevant is not None:
            if q.relevant.source not in shown_when:
                shown_when[q.relevant.source] = holds(q.relevant)
            shown = shown_when[q.relevant.source]
            add(answered & ~shown, q, "not_relevant", condition=q.relevant.source)
        if q.required:
            add(shown & ~answered, q, "required_missing")
        if q.constraint is not None:
            real = answered & ~answers[q.id].isin([float(m) for m in q.missing]).to_numpy() if q.missing else answered
            ok = holds(q.constraint, self_column=q.id)
            add(real & ~ok, q, "constraint", condition=q.constraint.source, rule=constraint_rule(q))
    return out


def validate_answers(answers: pd.DataFrame, qn: Questionnaire, cmap: ColumnMap,
                     today: dt.date | None = None) -> list[dict]:
    """Every rule broken by typed answers, as problem records (see :func:`coerce_answers`).

    Parameters
    ----------
    today : date, optional
        Date of collection for ``current_year`` bounds (default: today).
    """
    today = today or dt.date.today()
    problems = _column_problems(answers, qn, cmap, today)
    problems += _rule_problems(answers, qn, cmap, today)
    return problems
