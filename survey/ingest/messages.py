"""Every reason a row or cell is refused, in Vietnamese and English.

Problems are stored as a reason code and its parameters, and turned into
words only when shown, so one quarantine record reads in either language.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["REASONS", "render", "SUMMARY"]

REASONS: dict[str, tuple[str, str]] = {
    "unknown_code": (
        "Giá trị '{value}' không có trong danh sách lựa chọn của câu '{question}'",
        "'{value}' is not one of the answers of question '{question}'"),
    "unknown_label": (
        "Không nhận ra câu trả lời '{value}' của câu '{question}'",
        "The answer '{value}' to question '{question}' is not recognised"),
    "not_a_number": (
        "'{value}' không phải là số (câu '{question}')",
        "'{value}' is not a number (question '{question}')"),
    "not_whole": (
        "'{value}' phải là số nguyên (câu '{question}')",
        "'{value}' must be a whole number (question '{question}')"),
    "out_of_range": (
        "{value} nằm ngoài khoảng cho phép {low} – {high} (câu '{question}')",
        "{value} is outside the allowed range {low} – {high} (question '{question}')"),
    "bad_date": (
        "'{value}' không phải là ngày hợp lệ (câu '{question}'); dùng dạng 2025-11-30 hoặc 30/11/2025",
        "'{value}' is not a valid date (question '{question}'); use 2025-11-30 or 30/11/2025"),
    "required_missing": (
        "Thiếu câu trả lời bắt buộc cho câu '{question}'",
        "The required question '{question}' is not answered"),
    "not_relevant": (
        "Câu '{question}' có trả lời '{value}' nhưng theo điều kiện ({condition}) câu này không được hỏi",
        "Question '{question}' has the answer '{value}' but should have been skipped ({condition})"),
    "constraint": (
        "Câu trả lời '{value}' của câu '{question}' không thỏa điều kiện {condition}",
        "The answer '{value}' to question '{question}' breaks the rule {condition}"),
    "duplicate_in_file": (
        "Trùng mã phiếu '{value}' với dòng {first_row} trong cùng tệp",
        "The response id '{value}' repeats row {first_row} of the same file"),
    "conflict_stored": (
        "Mã phiếu '{value}' đã có trong dữ liệu với nội dung khác (lần nạp #{load_id}); phiếu mới không được ghi đè",
        "The response id '{value}' is already stored with different answers (load #{load_id}); "
        "the new one did not overwrite it"),
    "cell_too_long": (
        "Ô ở cột '{column}' dài {length} ký tự, quá giới hạn {limit} ký tự; dòng này không được nhận",
        "The cell in column '{column}' is {length} characters long, over the limit of {limit}; "
        "the row was not accepted"),
    "nul_in_cell": (
        "Ô ở cột '{column}' chứa ký tự NUL (mã 0), không lưu được; sửa ô này trong tệp rồi nạp lại",
        "The cell in column '{column}' holds a NUL character (code 0), which cannot be stored; "
        "fix the cell and load the file again"),
    "empty_row": (
        "Dòng trống, không có câu trả lời nào",
        "The row is empty: no answers"),
}

SUMMARY = {
    "vi": "Số dòng đọc: {read} | đã nhận: {accepted} | cách ly: {quarantined} | đã có sẵn: {present}",
    "en": "Rows read: {read} | accepted: {accepted} | quarantined: {quarantined} | already present: {present}",
}


def render(reason: str, params: Mapping[str, Any], lang: str = "vi") -> str:
    """The message of one problem in ``lang`` ("vi" or "en")."""
    vi, en = REASONS[reason]
    template = vi if lang == "vi" else en
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
