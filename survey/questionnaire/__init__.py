"""Questionnaires as data: load and validate definitions, export them.

>>> from survey.questionnaire import load_questionnaire, export_questionnaire
>>> qn = load_questionnaire("pgi_feedback")
>>> export_questionnaire(qn, "xlsform", "out/pgi_feedback.xlsx")  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ExportError
from .codebook import render_codebook, write_codebook
from .expressions import Expression, evaluate, parse_expression, to_xpath
from .load import default_province, default_root, list_questionnaires, load_locality, load_questionnaire
from .model import Choice, ChoiceList, Indicator, Label, Locality, Question, Questionnaire, Section, Sensitivity, SubIndex
from .spss import sav_layout, write_sav
from .xlsform import convert_xlsform, read_xlsform, write_xlsform

__all__ = [
    "Choice", "ChoiceList", "Expression", "Indicator", "Label", "Locality", "Question",
    "Questionnaire", "Section", "Sensitivity", "SubIndex",
    "load_questionnaire", "list_questionnaires", "load_locality", "default_root", "default_province",
    "parse_expression", "to_xpath", "evaluate",
    "write_xlsform", "read_xlsform", "convert_xlsform", "write_sav", "sav_layout",
    "render_codebook", "write_codebook", "export_questionnaire", "EXPORT_FORMATS",
]

#: format name -> (file suffix, writer)
EXPORT_FORMATS = {
    "xlsform": (".xlsx", write_xlsform),
    "sav": (".sav", write_sav),
    "codebook": (".md", write_codebook),
}


def export_questionnaire(qn: Questionnaire, fmt: str, out: str | Path) -> Path:
    """Export ``qn`` as ``fmt`` ("xlsform", "sav" or "codebook").

    ``out`` is a file path, or a folder in which ``<id>.xlsx``, ``<id>.sav``
    or ``<id>_codebook.md`` is written.  An XLSForm is converted with pyxform
    after writing, so a form that KoboToolbox would reject fails here.

    Raises
    ------
    ExportError
        For an unknown format, or a form that pyxform rejects.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}", hint="one of " + ", ".join(EXPORT_FORMATS),
                          code="questionnaire.export_format",
                          params={"format": repr(fmt), "known": ", ".join(EXPORT_FORMATS)})
    suffix, writer = EXPORT_FORMATS[fmt]
    out = Path(out)
    if out.suffix != suffix:
        out = out / (f"{qn.id}_codebook.md" if fmt == "codebook" else f"{qn.id}{suffix}")
    path = writer(qn, out)
    if fmt == "xlsform":
        convert_xlsform(path)
    return path
