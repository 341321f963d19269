"""Every reason a row or cell is refused, as a code; its words are in the message catalogue.

Problems are stored as a reason code and its parameters, and turned into
words only when shown (from ``ingest.reason.<code>`` in :mod:`survey.i18n`),
so one quarantine record reads in either language.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..i18n import _

__all__ = ["REASON_CODES", "render", "rule_text"]

#: every reason code a load can give a refused row or cell
REASON_CODES = ("unknown_code", "unknown_label", "not_a_number", "not_whole", "out_of_range", "bad_date",
                "required_missing", "not_relevant", "constraint", "duplicate_in_file", "conflict_stored",
                "cell_too_long", "nul_in_cell", "formula_without_value", "options_disagree", "empty_row",
                "locality_other_list")


#: the defaults of parameters a message needs that records stored by older versions lack
_DEFAULTS = {"rule": "constraint", "value": "", "question": ""}


def render(reason: str, params: Mapping[str, Any], lang: str = "vi") -> str:
    """The message of one problem in ``lang`` ("vi" or "en"); a rule is named in words, never as its expression."""
    return _(f"ingest.reason.{reason}", lang, **{**_DEFAULTS, **dict(params or {})})


def rule_text(reason: str, params: Mapping[str, Any], lang: str = "vi") -> str:
    """The rule a problem breaks, in words and without the value (``ingest.rule_of.<reason>``), to head
    a group of problems of one question: "số điện thoại phải có 8–15 chữ số", "giá trị không có trong
    danh sách lựa chọn"."""
    return _(f"ingest.rule_of.{reason}", lang, **{**_DEFAULTS, **dict(params or {})})
