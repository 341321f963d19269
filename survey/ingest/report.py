"""The load report for staff: what was accepted, refused and why, in Vietnamese or English."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ExportError
from .ingest import LoadResult
from .messages import render

__all__ = ["problem_table", "write_report", "console_summary", "neutralise_formula"]

_HEADERS = {
    "vi": {"row": "Dòng", "column": "Cột", "question": "Câu hỏi", "value": "Giá trị", "message": "Vấn đề",
           "response_key": "Mã phiếu", "reason": "Mã lỗi"},
    "en": {"row": "Row", "column": "Column", "question": "Question", "value": "Value", "message": "Problem",
           "response_key": "Response id", "reason": "Reason code"},
}
_SUMMARY_ROWS = {
    "vi": ["Tệp", "Định dạng", "Mã hóa", "Bảng hỏi", "Kỳ", "Lần nạp", "Số dòng đọc", "Đã nhận", "Cách ly",
           "Đã có sẵn", "Cột không nhận ra (giữ trong bản lưu gốc)"],
    "en": ["File", "Format", "Encoding", "Questionnaire", "Period", "Load", "Rows read", "Accepted",
           "Quarantined", "Already present", "Unknown columns (kept in the raw archive)"],
}


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula (=, +, -, @) with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


_MASK = {"vi": "(dữ liệu cá nhân)", "en": "(personal data)"}


def problem_table(result: LoadResult, lang: str = "vi", include_personal: bool = False) -> pd.DataFrame:
    """One row per problem, columns named in ``lang``, sorted by row.

    Values of personal-data questions are masked unless ``include_personal`` is set.
    """
    p = result.problems
    hide = p["question"].isin(result.personal) & (not include_personal)
    params = [{**prm, "value": _MASK[lang]} if h else prm for prm, h in zip(p["params"], hide)]
    table = pd.DataFrame({
        "row": p["row"], "column": p["column"], "question": p["question"],
        "value": p["value"].where(~hide, _MASK[lang]),
        "message": [render(r, prm, lang) for r, prm in zip(p["reason"], params)],
        "response_key": p["response_key"], "reason": p["reason"],
    }).sort_values(["row", "column"], na_position="first", kind="stable")
    return table.rename(columns=_HEADERS[lang]).reset_index(drop=True)


def _summary(result: LoadResult, lang: str) -> pd.DataFrame:
    values = [result.file, result.format, result.encoding or "", result.survey, result.period, result.load_id,
              result.rows_read, result.accepted, result.quarantined, result.already_present,
              ", ".join(result.unknown_columns)]
    return pd.DataFrame({"": _SUMMARY_ROWS[lang], " ": values})


def write_report(result: LoadResult, path: str | Path, lang: str = "vi", include_personal: bool = False) -> Path:
    """Write the report: ``.xlsx`` (summary and problems sheets) or ``.csv`` (problems, UTF-8 with BOM).

    Values of personal-data questions are masked unless ``include_personal`` is set.

    Texts that start like a formula are neutralised so a spreadsheet never runs them.

    Raises
    ------
    ExportError
        For another file type.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = problem_table(result, lang, include_personal).map(neutralise_formula)
    if path.suffix.lower() == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel then reads Vietnamese correctly
    elif path.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            _summary(result, lang).map(neutralise_formula).to_excel(
                xw, sheet_name="Tóm tắt" if lang == "vi" else "Summary", index=False)
            table.to_excel(xw, sheet_name="Vấn đề" if lang == "vi" else "Problems", index=False)
    else:
        raise ExportError(f"a report is .csv or .xlsx, not {path.suffix!r}", file=str(path))
    return path


def console_summary(result: LoadResult, lang: str = "vi", top: int = 5) -> str:
    """A few lines for the terminal: the counts, unknown columns, the commonest problems."""
    head = (f"{result.file} ({result.format}{', ' + result.encoding if result.encoding else ''}) -> "
            f"{result.survey} {result.period}, load #{result.load_id}")
    lines = [head, result.summary(lang)]
    if result.unknown_columns:
        label = "Cột không nhận ra" if lang == "vi" else "Unknown columns"
        lines.append(f"{label}: {', '.join(result.unknown_columns)}")
    if result.same_as_stored:
        rows = ", ".join(str(r) for r, _, _ in result.same_as_stored[:5])
        more = "…" if len(result.same_as_stored) > 5 else ""
        lines.append((f"Lưu ý: {len(result.same_as_stored)} dòng ({rows}{more}) có câu trả lời giống hệt phiếu đã lưu "
                      "với mã khác; kiểm tra xem cùng một cuộc khảo sát có bị nạp từ hai tệp không")
                     if lang == "vi" else
                     (f"Note: {len(result.same_as_stored)} rows ({rows}{more}) have exactly the answers of responses "
                      "already stored under another id; check that one survey was not loaded from two exports"))
    if len(result.problems):
        counts = result.problems.groupby(["reason", "question"], dropna=False).size().sort_values(ascending=False)
        label = "Vấn đề thường gặp" if lang == "vi" else "Most frequent problems"
        lines.append(f"{label}:")
        for (reason, question), n in counts.head(top).items():
            example = result.problems[(result.problems.reason == reason)].iloc[0]
            lines.append(f"  {n:>5} × {render(reason, example['params'], lang)}")
    return "\n".join(lines)
