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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ExportError
from ..i18n import LANGS, _
from ..outputs import atomic_path
from .ingest import LoadResult
from ..text import neutralise_formula, printable, spreadsheet_cell
from .messages import render, rule_text

__all__ = ["spreadsheet_cell", "problem_table", "write_report", "console_summary", "neutralise_formula", "printable"]

#: the problem table's columns, each named by ``ingest.report.column.<name>``
_COLUMNS = ("row", "column", "question", "value", "message", "response_key", "reason", "action")
#: the summary sheet's rows, each named by ``ingest.report.summary.<name>``
_SUMMARY_ROWS = ("file", "format", "encoding", "questionnaire", "period", "load", "rows_read", "accepted",
                 "corrected", "quarantined", "already_present", "unknown_columns")


def _action(action: Any, lang: str) -> str:
    """What became of a problem, in words: the value set to missing (response kept), or the response refused."""
    words = {"corrected": _("ingest.report.action.corrected", lang),
             "quarantined": _("ingest.report.action.quarantined", lang)}
    return words.get(action, "") if isinstance(action, str) else ""


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
        "action": [_action(a, lang) for a in (p["action"] if "action" in p else [None] * len(p))],
    }).sort_values(["row", "column"], na_position="first", kind="stable")
    return table.rename(columns=_headers(lang)).reset_index(drop=True)


def _summary(result: LoadResult, lang: str) -> pd.DataFrame:
    values = [result.file, result.format, result.encoding or "", result.survey, result.period, result.load_id,
              result.rows_read, result.accepted, result.corrected, result.quarantined, result.already_present,
              ", ".join(result.unknown_columns)]
    # named headers: a sheet whose first row is blank looks like a report that starts with an empty row
    return pd.DataFrame({_("ingest.report.summary_header.item", lang): [_(f"ingest.report.summary.{r}", lang)
                                                                       for r in _SUMMARY_ROWS],
                         _("ingest.report.summary_header.value", lang): values})


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


def _label(result: LoadResult, question: str, lang: str) -> str:
    """A question's label in ``lang`` (its id when the result does not know it)."""
    labels = result.labels.get(question)
    return labels[LANGS.index(lang)] if labels else question


def _groups(problems: pd.DataFrame) -> dict[tuple, list[int]]:
    """Problem positions by (question, rule broken): the rule is the reason, and for a constraint which one."""
    groups: dict[tuple, list[int]] = {}
    for i, (question, reason, params) in enumerate(zip(problems["question"], problems["reason"], problems["params"])):
        rule = params.get("rule") if isinstance(params, Mapping) else None
        groups.setdefault((None if pd.isna(question) else question, reason, rule), []).append(i)
    return groups


def _group_lines(result: LoadResult, key: tuple, positions: list[int], lang: str, examples: int) -> list[str]:
    """Two lines for one group: its count, question and rule in words, what was done; then examples."""
    question, reason, _rule = key
    problems = result.problems
    personal = question in set(result.personal)
    first = problems.iloc[positions[0]]
    rule = printable(rule_text(reason, _console_params(first["params"], personal, lang), lang), None)
    if question is None:
        head = _("ingest.console.group_row", lang, count=len(positions), rule=rule)
    else:
        head = _("ingest.console.group", lang, count=len(positions), question=printable(question, 60),
                 label=printable(_label(result, question, lang), 90), rule=rule)
    actions = problems["action"].iloc[positions].tolist() if "action" in problems else []
    corrected = sum(a == "corrected" for a in actions)
    quarantined = len(positions) - corrected
    done = (_action("corrected", lang) if not quarantined else _action("quarantined", lang) if not corrected
            else _("ingest.console.action", lang, corrected=corrected, quarantined=quarantined))
    shown = []
    for i in positions[:examples]:
        value = _mask(lang) if personal else printable(problems["value"].iloc[i], 40)
        shown.append(_("ingest.console.example", lang, row=int(problems["row"].iloc[i]), value=value))
    more = len(positions) - examples
    tail = "; ".join(shown) + (" " + _("ingest.console.more_examples", lang, count=more) if more > 0 else "")
    return [f"  {head} — {done}", "      " + _("ingest.console.examples", lang, examples=tail)]


def console_summary(result: LoadResult, lang: str = "vi", top: int = 10, max_columns: int = 10,
                    examples: int = 3) -> str:
    """A few lines for the terminal: the counts, warnings, unknown columns, and the problems grouped.

    Problems are grouped by (question, rule broken); each group shows its count, the
    question's label, the rule in words from the catalogue (never the rule's expression),
    what was done (values set to missing with the response kept, or responses
    quarantined) and up to ``examples`` rows with their values. At most ``top`` groups,
    commonest first, and ``max_columns`` unknown columns are listed.

    Every text that comes from the file (its name, column names, values) is passed
    through :func:`printable`, and values of personal-data questions are shown as
    "(dữ liệu cá nhân)" / "(personal data)", so what a file holds can neither
    reach the screen as escape codes nor show a phone number or e-mail address.
    """
    encoding = f", {printable(result.encoding, 40)}" if result.encoding else ""
    head = _("ingest.console.head", lang, file=printable(result.file, 160), format=printable(result.format, 20),
             encoding=encoding, survey=printable(result.survey, 40), period=printable(result.period, 20),
             load_id=result.load_id)
    lines = [head, printable(result.summary(lang), None)]
    if result.replaced:
        lines.append(_("ingest.console.replaced", lang, **{"responses": 0, "quarantined": 0, **result.replaced}))
    for msgid, params in result.warnings:
        lines.append(_("ingest.console.warning", lang, message=printable(_(msgid, lang, **params), None)))
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
    if len(result.problems):
        groups = _groups(result.problems)
        ranked = sorted(groups, key=lambda g: (-len(groups[g]), groups[g][0]))
        lines.append(_("ingest.console.frequent", lang))
        for key in ranked[:top]:
            lines += _group_lines(result, key, groups[key], lang, examples)
        if len(ranked) > top:
            lines.append("  " + _("ingest.console.more_groups", lang, count=len(ranked) - top))
    return "\n".join(lines)
