"""Ingest survey exports: read, map columns, coerce, validate, store or quarantine."""
from .coerce import coerce_answers, parse_date, parse_number
from .ingest import CORRECTABLE, ID_COLUMNS, PeriodWarning, LoadResult, critical_questions, ingest_file
from .mapping import ColumnMap, map_columns, read_mapping
from .messages import REASON_CODES, render, rule_text
from .readers import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, FORMATS, FileInfo, RawMeta, detect_encoding, file_info, iter_chunks, read_csv, read_file, read_kobo_csv,
    read_sav, read_xlsx,
)
from .report import console_summary, neutralise_formula, printable, problem_table, write_report
from .validate import answer_schema, validate_answers

__all__ = [
    "DEFAULT_MAX_BYTES", "DEFAULT_MAX_ROWS", "FORMATS", "FileInfo", "RawMeta", "detect_encoding", "file_info", "iter_chunks", "read_file",
    "read_kobo_csv", "read_csv", "read_sav", "read_xlsx",
    "ColumnMap", "map_columns", "read_mapping", "coerce_answers", "parse_number", "parse_date",
    "answer_schema", "validate_answers", "ingest_file", "LoadResult", "render", "REASON_CODES",
    "problem_table", "write_report", "console_summary", "neutralise_formula", "printable",
    "critical_questions", "CORRECTABLE", "ID_COLUMNS", "PeriodWarning", "rule_text",
]
