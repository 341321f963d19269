"""Text from outside (firms' answers, file names, headers) made safe for where it is shown.

- :func:`printable`: one line for a terminal, no escape codes or control characters;
- :func:`neutralise_formula`: a spreadsheet never runs a cell as a formula;
- :func:`spreadsheet_cell`: both, plus what an .xlsx cell cannot hold.

Used by the load report, the reports and the command line alike, so it sits below them all.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["printable", "neutralise_formula", "spreadsheet_cell"]

_FORMULA = re.compile(r"[\s\x00-\x1f\x7f-\x9f]*[=+\-@]|[\t\r\n]")


def neutralise_formula(value: object) -> object:
    """Prefix with an apostrophe text that a spreadsheet would run as a formula.

    That is text starting with ``=``, ``+``, ``-`` or ``@``, with a tab, carriage
    return or line feed, or with white space (or control characters) followed by
    one of these (OWASP, "CSV injection"). Anything else, and non-text values,
    are returned unchanged.
    """
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


# escape sequences: CSI (ESC [ ... final), OSC / DCS / SOS / PM / APC strings (up to BEL or ESC \ or the end),
# and two-character escapes (ESC + one character); then any C0 or C1 control or DEL left over
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?"
                      r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[\x20-\x7e]?")
_BREAKS = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")  # shown as one space each run
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")  # incl. bidi overrides


def printable(text: Any, limit: int | None = 80) -> str:
    """``text`` made safe to print on a terminal: one line, no escape codes or control characters.

    Terminal escape sequences (ESC ..., e.g. ``\\x1b[2J`` that clears the screen or
    ``\\x1b]0;...\\x07`` that sets the window title) are removed, as are every C0
    and C1 control character, DEL and the Unicode bidirectional overrides; line
    breaks and tabs become spaces. The result is cut to ``limit`` characters,
    ending with "…" when cut (``None``: no limit). ``None`` and NaN give "".
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = str(text)
    text = _ESCAPES.sub("", text)
    text = _BREAKS.sub(" ", text)
    text = _CONTROLS.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[:max(limit - 1, 0)] + "…"
    return text


#: characters an .xlsx cell cannot hold: the controls openpyxl refuses (tab, LF and CR are kept), lone
#: surrogates (not UTF-8) and the two non-characters XML forbids
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XLSX_MAX_CHARS = 32_767  # Excel's limit for one cell


def spreadsheet_cell(value: object) -> object:
    """A value an .xlsx can store and a spreadsheet will not run: illegal characters dropped,
    cut to Excel's cell limit, then formula-neutralised."""
    if isinstance(value, str):
        value = _XLSX_ILLEGAL.sub("", value)[:_XLSX_MAX_CHARS - 1]
    return neutralise_formula(value)
