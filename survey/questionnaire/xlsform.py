"""Export a questionnaire to XLSForm, the form format of KoboToolbox and ODK.

The workbook has the standard ``survey``, ``choices`` and ``settings`` sheets
with ``label::Vietnamese (vi)`` and ``label::English (en)`` columns.  Three
extra columns (``pgi_type``, ``pgi_missing``, ``pgi_personal``) carry what
XLSForm has no column for; Kobo and pyxform ignore them, and they let
:func:`read_xlsform` recover the definition exactly.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ExportError
from ..lazy_import import lazy_module
from .expressions import SELF, to_xpath
from .model import Question, Questionnaire

# imported at first use: commands that only list or read definitions need neither (issue 18)
pd = lazy_module("pandas")

__all__ = ["write_xlsform", "read_xlsform", "convert_xlsform", "xlsform_list_name", "LANG_COLUMNS"]

LANG_COLUMNS = {"vi": "Vietnamese (vi)", "en": "English (en)"}
SURVEY_COLUMNS = (
    ["type", "name"]
    + [f"label::{v}" for v in LANG_COLUMNS.values()]
    + [f"hint::{v}" for v in LANG_COLUMNS.values()]
    + ["required", "relevant", "constraint"]
    + [f"constraint_message::{v}" for v in LANG_COLUMNS.values()]
    + ["appearance", "pgi_type", "pgi_missing", "pgi_personal"]
)
CHOICE_COLUMNS = ["list_name", "name"] + [f"label::{v}" for v in LANG_COLUMNS.values()]
_XLS_TYPE = {"single": "select_one", "likert": "select_one", "yesno": "select_one",
             "multiple": "select_multiple", "integer": "integer", "decimal": "decimal",
             "text": "text", "date": "date"}
_MESSAGES = {
    "range": ("Giá trị phải nằm trong khoảng {lo} đến {hi}", "The value must be between {lo} and {hi}"),
    "other": ("Câu trả lời không hợp lệ", "The answer is not valid"),
}
#: how a firm reads the bound ``current_year`` in a constraint message, in each language
_CURRENT_YEAR = ("năm hiện tại", "the current year")


def xlsform_list_name(question: Question) -> str | None:
    """The XLSForm list of a select question: its choice list, plus its missing codes."""
    if not question.choices:
        return None
    if not question.missing:
        return question.choices
    return question.choices + "_m" + "_".join(str(m) for m in question.missing)


def _bound_xpath(value) -> str:
    return "number(format-date(today(), '%Y'))" if value == "current_year" else repr(value)


def _constraint(q: Question, types: dict[str, str]) -> tuple[str, str]:
    """XPath constraint and kind of message for one question."""
    parts, kind = [], "other"
    lo, hi = q.range
    bounds = []
    if lo is not None:
        bounds.append(f". >= {_bound_xpath(lo)}")
    if hi is not None:
        bounds.append(f". <= {_bound_xpath(hi)}")
    if bounds:
        kind = "range" if q.constraint is None else "other"
        text = " and ".join(bounds)
        if q.missing:  # declared missing codes are valid answers outside the range
            text = f"({text}) or " + " or ".join(f". = {m}" for m in q.missing)
        parts.append(text)
    if q.constraint is not None:
        parts.append(to_xpath(q.constraint, {**types, SELF: q.type}))
    if len(parts) > 1:
        parts = [f"({p})" for p in parts]
    return " and ".join(parts), kind


def _survey_rows(qn: Questionnaire) -> list[dict]:
    types = {q.id: q.type for q in qn.questions}
    rows: list[dict] = []
    for section in qn.sections:
        rows.append({"type": "begin_group", "name": section.id,
                     **{f"label::{v}": section.label.get(k) for k, v in LANG_COLUMNS.items()}})
        for q in section.questions:
            rows.append(_question_row(q, types))
        rows.append({"type": "end_group", "name": section.id})
    return rows


def _question_row(q: Question, types: dict[str, str]) -> dict:
    list_name = xlsform_list_name(q)
    row = {"type": _XLS_TYPE[q.type] + (f" {list_name}" if list_name else ""), "name": q.id,
           "required": "yes" if q.required else "",
           "relevant": to_xpath(q.relevant, types) if q.relevant else "",
           "appearance": "likert" if q.type == "likert" else "",
           "pgi_type": q.type, "pgi_missing": " ".join(str(m) for m in q.missing),
           "pgi_personal": "yes" if q.personal else ""}
    for lang, col in LANG_COLUMNS.items():
        row[f"label::{col}"] = q.label.get(lang)
        row[f"hint::{col}"] = q.hint.get(lang) if q.hint else ""
    constraint, kind = _constraint(q, types)
    row["constraint"] = constraint
    if constraint:
        lo, hi = q.range
        for i, (lang, col) in enumerate(LANG_COLUMNS.items()):
            words = [_CURRENT_YEAR[i] if b == "current_year" else b for b in (lo, hi)]
            row[f"constraint_message::{col}"] = _MESSAGES[kind][i].format(lo=words[0], hi=words[1])
    return row


def _choice_rows(qn: Questionnaire) -> list[dict]:
    rows, done = [], set()
    for q in qn.questions:
        name = xlsform_list_name(q)
        if not name or name in done:
            continue
        done.add(name)
        for c in qn.choices(q):
            rows.append({"list_name": name, "name": str(c.code),
                         **{f"label::{v}": c.label.get(k) for k, v in LANG_COLUMNS.items()}})
    return rows


def _write_sheet(ws, columns: list[str], rows: list[dict]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(c, "") or None for c in columns])
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        width = 12 if col in ("type", "required", "appearance") else 28
        ws.column_dimensions[get_column_letter(i)].width = width


def write_xlsform(qn: Questionnaire, path: str | Path) -> Path:
    """Write the questionnaire as an XLSForm workbook.

    Returns
    -------
    Path of the written ``.xlsx``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import openpyxl  # only when writing: importing the questionnaires must not load Excel support

    wb = openpyxl.Workbook()
    survey = wb.active
    survey.title = "survey"
    _write_sheet(survey, SURVEY_COLUMNS, _survey_rows(qn))
    _write_sheet(wb.create_sheet("choices"), CHOICE_COLUMNS, _choice_rows(qn))
    settings = {"form_title": qn.title.vi, "form_id": qn.id, "version": qn.version,
                "default_language": LANG_COLUMNS["vi"]}
    _write_sheet(wb.create_sheet("settings"), list(settings), [settings])
    wb.save(path)
    return path


def read_xlsform(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read an XLSForm workbook back: ``{"survey", "choices", "settings"}`` frames of text.

    Raises
    ------
    ExportError
        If a sheet is missing.
    """
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read XLSForm: {exc}", file=str(path), code="questionnaire.xlsform_unreadable",
                          params={"reason": str(exc)}) from None
    for name in ("survey", "choices", "settings"):
        if name not in sheets:
            raise ExportError(f"the workbook has no '{name}' sheet", file=str(path), code="questionnaire.xlsform_sheet",
                              params={"name": name})
    return {k: v.fillna("") for k, v in sheets.items()}


def convert_xlsform(path: str | Path) -> str:
    """Convert an XLSForm to an XForm with pyxform, as KoboToolbox and ODK do.

    Returns
    -------
    str
        The XForm XML.

    Raises
    ------
    ExportError
        With pyxform's message when the form would be rejected.
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        result = convert(xlsform=str(path), validate=False)
    except PyXFormError as exc:
        raise ExportError(f"pyxform rejects the form: {exc}", file=str(path), code="questionnaire.xlsform_rejected",
                          params={"reason": str(exc)}) from None
    if result.warnings:
        raise ExportError("pyxform warns about the form: " + "; ".join(result.warnings), file=str(path),
                          code="questionnaire.xlsform_warnings", params={"warnings": "; ".join(result.warnings)})
    return result.xform
