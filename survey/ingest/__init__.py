"""Ingest survey exports: read, map columns, coerce, validate, store or quarantine.

The names below are imported from their modules when first used (PEP 562): a process that needs only
the readers (the child that reads a ``.sav``, :mod:`survey.ingest.read_worker`) does not import the
store, SQLAlchemy and the checks first (issue 18).
"""
from __future__ import annotations

import importlib
from typing import Any

#: name -> the module of this package that defines it
_WHERE = {
    **dict.fromkeys(("coerce_answers", "parse_date", "parse_number"), "coerce"),
    **dict.fromkeys(("CORRECTABLE", "ID_COLUMNS", "PeriodWarning", "LoadResult", "critical_questions",
                     "ingest_file"), "ingest"),
    **dict.fromkeys(("ColumnMap", "map_columns", "read_mapping"), "mapping"),
    **dict.fromkeys(("REASON_CODES", "render", "rule_text"), "messages"),
    **dict.fromkeys(("DEFAULT_MAX_BYTES", "DEFAULT_MAX_ROWS", "FORMATS", "FileInfo", "RawMeta", "detect_encoding",
                     "file_info", "iter_chunks", "read_csv", "read_file", "read_kobo_csv", "read_sav", "read_xlsx"),
                    "readers"),
    **dict.fromkeys(("console_summary", "neutralise_formula", "printable", "problem_table", "write_report"),
                    "report"),
    **dict.fromkeys(("answer_schema", "validate_answers"), "validate"),
}

__all__ = [
    "DEFAULT_MAX_BYTES", "DEFAULT_MAX_ROWS", "FORMATS", "FileInfo", "RawMeta", "detect_encoding", "file_info", "iter_chunks", "read_file",
    "read_kobo_csv", "read_csv", "read_sav", "read_xlsx",
    "ColumnMap", "map_columns", "read_mapping", "coerce_answers", "parse_number", "parse_date",
    "answer_schema", "validate_answers", "ingest_file", "LoadResult", "render", "REASON_CODES",
    "problem_table", "write_report", "console_summary", "neutralise_formula", "printable",
    "critical_questions", "CORRECTABLE", "ID_COLUMNS", "PeriodWarning", "rule_text",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
