"""Generate answers and write them as the exports staff receive, for tests.

Answers respect the questionnaire: codes from the lists, numbers in range,
skip logic applied in question order, constraints met (one main difficulty
among those chosen, "no support" alone). Writers produce a KoboToolbox CSV
(group paths, split option columns, ``_uuid``), a CSV of labels (as saved
from Excel or Google Forms), an SPSS file (through the project's exporter) and
an Excel workbook.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from survey.questionnaire import Questionnaire, evaluate, write_sav


def _column(qn: Questionnaire, q, n: int, rng: np.random.Generator) -> pd.Series:
    if q.type == "multiple":
        codes = [c.code for c in qn.choices(q)]
        exclusive = codes[-1] if q.constraint is not None and "count_selected" in q.constraint.source else None
        pool = [c for c in codes if c != exclusive]
        picks = []
        for _ in range(n):
            if exclusive is not None and rng.random() < 0.2:
                picks.append(str(exclusive))
            else:
                k = int(rng.integers(1, min(3, len(pool)) + 1))
                picks.append(" ".join(map(str, sorted(rng.choice(pool, size=k, replace=False)))))
        return pd.Series(picks, dtype=object)
    if q.is_select:
        codes = [c.code for c in qn.choices(q, with_missing=False)] + list(q.missing[:1])
        p = np.full(len(codes), 1.0)
        if q.missing:
            p[-1] = 0.3  # missing codes are rarer
        return pd.Series(rng.choice(codes, size=n, p=p / p.sum()).astype(float))
    if q.is_numeric:
        lo, hi = q.range
        lo = 0 if lo is None else lo
        hi = 100 if hi is None else (dt.date.today().year if hi == "current_year" else min(hi, lo + 200))
        values = rng.integers(int(lo), int(hi) + 1, size=n).astype(float)
        if q.type == "decimal":
            values = np.minimum(values + 0.5, hi)
        return pd.Series(values)
    if q.type == "date":
        return pd.Series([dt.date(2025, 11, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 29, n)],
                         dtype=object)
    if q.id.endswith("phone"):
        return pd.Series([f"09{int(x):08d}" for x in rng.integers(0, 10 ** 8, n)], dtype=object)
    if q.id.endswith("email"):
        return pd.Series([f"dn{i}@congty.vn" for i in range(n)], dtype=object)
    words = ["Thủ tục cấp phép kéo dài", "Chi phí xử lý nước thải cao", "Thiếu hướng dẫn, đề nghị tập huấn",
             "Đất cho khu xử lý chưa được giao"]
    return pd.Series([words[i % len(words)] + f" ({i})" for i in range(n)], dtype=object)


def make_answers(qn: Questionnaire, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` valid answer rows (codes), one column per question."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(index=range(n))
    for q in qn.questions:
        col = _column(qn, q, n, rng)
        frame[q.id] = col.values
        if q.relevant is not None:
            shown = evaluate(q.relevant, frame)
            frame[q.id] = frame[q.id].where(shown, np.nan if col.dtype == float else None)
    if "main_difficulty" in frame:  # constraint: one of the chosen difficulties
        first = frame["difficulty_types"].map(lambda v: float(v.split()[0]) if isinstance(v, str) else np.nan)
        frame["main_difficulty"] = first.where(frame["main_difficulty"].notna())
    return frame


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_kobo_csv(answers: pd.DataFrame, qn: Questionnaire, path: Path, *, sep: str = ";", split: bool = True,
                uuids: list[str] | None = None, encoding: str = "utf-8") -> Path:
    """A KoboToolbox export: ``group/question`` headers, split option columns, Kobo metadata."""
    cols = {}
    for section in qn.sections:
        for q in section.questions:
            cols[f"{section.id}/{q.id}"] = answers[q.id].map(_text)
            if q.type == "multiple" and split:
                for c in qn.choices(q):
                    chosen = answers[q.id].map(lambda v, k=str(c.code): "" if not isinstance(v, str) else
                                               ("1" if k in v.split() else "0"))
                    cols[f"{section.id}/{q.id}/{c.code}"] = chosen
    frame = pd.DataFrame(cols)
    frame["_id"] = range(1, len(frame) + 1)
    frame["_uuid"] = uuids or [f"uuid-{i:05d}" for i in range(len(frame))]
    frame["_submission_time"] = "2025-11-20T08:00:00"
    frame["__version__"] = "v1"
    frame.to_csv(path, sep=sep, index=False, encoding=encoding)
    return path


def labelled(answers: pd.DataFrame, qn: Questionnaire, lang: str = "vi", joiner: str = ", ") -> pd.DataFrame:
    """Answers as labels under label headers, as a Google Forms or Excel export has them."""
    out = {}
    for q in qn.questions:
        col = answers[q.id]
        if q.is_select:
            names = {str(c.code): c.label.get(lang) for c in qn.choices(q)}
            col = col.map(lambda v: "" if _text(v) == "" else joiner.join(names[t] for t in _text(v).split()))
        else:
            col = col.map(_text)
        out[q.label.get(lang)] = col
    return pd.DataFrame(out)


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(text: str) -> str:
    """Text as Windows-1258 holds it: base letters (ă, â, ư...) precomposed, tone marks combining."""
    out, marks = [], []
    for ch in unicodedata.normalize("NFD", text) + "\0":
        if unicodedata.combining(ch) and ch in _TONES:
            marks.append(ch)
        elif unicodedata.combining(ch):
            out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
        else:
            if marks:
                out.extend(marks)
                marks = []
            out.append(ch)
    return "".join(out[:-1])


def to_label_csv(answers: pd.DataFrame, qn: Questionnaire, path: Path, *, lang: str = "vi",
                 encoding: str = "utf-8", sep: str = ",") -> Path:
    frame = labelled(answers, qn, lang)
    if encoding == "cp1258":
        frame = frame.map(windows_1258).rename(columns=windows_1258)
    frame.to_csv(path, sep=sep, index=False, encoding=encoding)
    return path


def to_sav(answers: pd.DataFrame, qn: Questionnaire, path: Path) -> Path:
    return write_sav(qn, path, answers, include_personal=True)


def to_xlsx(answers: pd.DataFrame, qn: Questionnaire, path: Path) -> Path:
    answers.to_excel(path, index=False)
    return path
