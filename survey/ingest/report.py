"""The load report for staff: what was accepted, refused and why, in Vietnamese or English.

Every text comes from the message catalogue (:mod:`survey.i18n`, ids ``ingest.*``).

Everything shown comes from a file someone sent, so it is treated as hostile:
on the console every piece of file text goes through :func:`printable`
(no terminal escape codes, no control characters, cut to a sane length) and
values of personal-data questions are masked; in a written report, text that
a spreadsheet would run as a formula is neutralised and characters an ``.xlsx``
cannot hold are dropped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ExportError
from ..i18n import _
from ..outputs import atomic_path
from .ingest import LoadResult
from ..text import neutralise_formula, printable, spreadsheet_cell
from .messages import render

__all__ = ["spreadsheet_cell", "problem_table", "write_report", "console_summary", "neutralise_formula", "printable"]

#: the problem table's columns, each named by ``ingest.report.column.<name>``
_COLUMNS = ("row", "column", "question", "value", "message", "response_key", "reason")
#: the summary sheet's rows, each named by ``ingest.report.summary.<name>``
_SUMMARY_ROWS = ("file", "format", "encoding", "questionnaire", "period", "load", "rows_read", "accepted",
                 "quarantined", "already_present", "unknown_columns")


def _headers(lang: str) -> dict[str, str]:
    return {c: _(f"ingest.report.column.{c}", lang) for c in _COLUMNS}


def _mask(lang: str) -> str:
    """What a personal value is shown as."""
    return _("ingest.personal_mask", lang)


# =, +, - or @, or tab, CR or LF, first or after white space or control characters (which some
# programs drop when they read the file, leaving the formula first)
def problem_table(result: LoadResult, lang: str = "vi", include_personal: bool = False) -> pd.DataFrame:
    """One row per problem, columns named in ``lang``, sorted by row.

    Values of personal-data questions are masked unless ``include_personal`` is set.
    """
    p = result.problems
    hide = p["question"].isin(result.personal) & (not include_personal)
    params = [{**prm, "value": _mask(lang)} if h else prm for prm, h in zip(p["params"], hide)]
    table = pd.DataFrame({
        "row": p["row"], "column": p["column"], "question": p["question"],
        "value": p["value"].where(~hide, _mask(lang)),
        "message": [render(r, prm, lang) for r, prm in zip(p["reason"], params)],
        "response_key": p["response_key"], "reason": p["reason"],
    }).sort_values(["row", "column"], na_position="first", kind="stable")
    return table.rename(columns=_headers(lang)).reset_index(drop=True)


def _summary(result: LoadResult, lang: str) -> pd.DataFrame:
    values = [result.file, result.format, result.encoding or "", result.survey, result.period, result.load_id,
              result.rows_read, result.accepted, result.quarantined, result.already_present,
              ", ".join(result.unknown_columns)]
    return pd.DataFrame({"": [_(f"ingest.report.summary.{r}", lang) for r in _SUMMARY_ROWS], " ": values})


def write_report(result: LoadResult, path: str | Path, lang: str = "vi", include_personal: bool = False) -> Path:
    """Write the report: ``.xlsx`` (summary and problems sheets) or ``.csv`` (problems, UTF-8 with BOM).

    Values of personal-data questions are masked unless ``include_personal`` is set.

    Texts that start like a formula are neutralised so a spreadsheet never runs them
    (:func:`neutralise_formula`). In an ``.xlsx``, characters a workbook cannot hold
    (control characters other than tab, LF and CR) are dropped and a cell is cut to
    Excel's 32,767 characters. The file is written under a temporary name in the same
    folder and renamed when complete: a failed write leaves no partial report and
    any earlier file as it was.

    Raises
    ------
    ExportError
        For another file type.
    OutputError
        When the file cannot be written (no space, no permission...).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(f"a report is .csv or .xlsx, not {printable(path.suffix, 20)!r}", file=str(path),
                          code="export.report_suffix", params={"suffix": repr(printable(path.suffix, 20))})
    table = problem_table(result, lang, include_personal)
    with atomic_path(path) as tmp:  # a temporary file next to it, renamed onto it when complete
        if suffix == ".csv":
            # BOM: Excel then reads Vietnamese correctly; CRLF rows, so that a value holding a lone CR is
            # quoted (with LF rows it is not, and a spreadsheet starts a new row, unneutralised, at the CR)
            table.map(neutralise_formula).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                _summary(result, lang).map(spreadsheet_cell).to_excel(
                    xw, sheet_name=_("ingest.report.sheet.summary", lang), index=False)
                table.map(spreadsheet_cell).to_excel(xw, sheet_name=_("ingest.report.sheet.problems", lang), index=False)
    return path


def _console_params(params: Any, personal: bool, lang: str) -> dict[str, str]:
    """The parameters of one problem, ready to print: personal values masked, every text made printable."""
    out = {k: printable(v) for k, v in (params.items() if isinstance(params, Mapping) else ())}
    if personal and "value" in out:
        out["value"] = _mask(lang)
    return out


def console_summary(result: LoadResult, lang: str = "vi", top: int = 5, max_columns: int = 10) -> str:
    """A few lines for the terminal: the counts, unknown columns, the commonest problems.

    Every text that comes from the file (its name, column names, values) is passed
    through :func:`printable`, and values of personal-data questions are shown as
    "(dữ liệu cá nhân)" / "(personal data)", so what a file holds can neither
    reach the screen as escape codes nor show a phone number or e-mail address.
    At most ``max_columns`` unknown columns and ``top`` problem groups are listed.
    """
    encoding = f", {printable(result.encoding, 40)}" if result.encoding else ""
    head = _("ingest.console.head", lang, file=printable(result.file, 160), format=printable(result.format, 20),
             encoding=encoding, survey=printable(result.survey, 40), period=printable(result.period, 20),
             load_id=result.load_id)
    lines = [head, printable(result.summary(lang), None)]
    if result.unknown_columns:
        shown = ", ".join(printable(c) for c in result.unknown_columns[:max_columns])
        hidden = len(result.unknown_columns) - max_columns
        if hidden > 0:
            shown += " " + _("ingest.console.more_columns", lang, count=hidden)
        lines.append(_("ingest.console.unknown_columns", lang, columns=shown))
    if result.same_as_stored:
        rows = ", ".join(str(row) for row, _key, _stored in result.same_as_stored[:5])
        more = "…" if len(result.same_as_stored) > 5 else ""
        lines.append(_("ingest.console.same_as_stored", lang, count=len(result.same_as_stored), rows=rows + more))
    problems = result.problems
    if len(problems):
        # one group per (reason, question); its example is the group's own first problem
        counts: Counter = Counter()
        first: dict[tuple, int] = {}
        for i, (reason, question) in enumerate(zip(problems["reason"], problems["question"])):
            group = (reason, None if pd.isna(question) else question)
            counts[group] += 1
            first.setdefault(group, i)
        ranked = sorted(counts, key=lambda g: (-counts[g], first[g]))[:top]
        lines.append(_("ingest.console.frequent", lang))
        personal = set(result.personal)
        for reason, question in ranked:
            example = problems.iloc[first[(reason, question)]]
            params = _console_params(example["params"], question in personal, lang)
            lines.append(f"  {counts[(reason, question)]:>5} × {printable(render(reason, params, lang), None)}")
    return "\n".join(lines)
