"""Match a file's columns to the questionnaire's questions.

A column is matched, in this order, by: the mapping file; the question id;
a KoboToolbox path (``profile/locality``, the last part is the id); a
select-multiple option column (``q/3``, ``group/q/3`` from Kobo, or
``q_3`` from SPSS); the question's label in Vietnamese or English, compared
after Unicode NFC normalisation, case and whitespace folding. Columns that
match nothing are reported and kept in the raw archive.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import IngestError, Problem
from ..questionnaire import Question, Questionnaire

__all__ = ["ColumnMap", "map_columns", "read_mapping", "fold", "ID_COLUMNS"]

KOBO_KEY = "_uuid"
#: columns that hold a response's id, as the survey tools name them, in order of preference:
#: KoboToolbox, an SPSS or Stata export of it, ODK (``instanceID``, ``meta/instanceID``),
#: SurveyCTO and ODK Central (``KEY``), Qualtrics (``ResponseId``)
ID_COLUMNS = ("_uuid", "uuid", "instanceID", "meta/instanceID", "KEY", "ResponseId")


def fold(text: object) -> str:
    """Text compared loosely: NFC, case-folded, inner whitespace collapsed, ends stripped."""
    text = unicodedata.normalize("NFC", str(text))
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class ColumnMap:
    """Which file column holds which question.

    Attributes
    ----------
    single : dict
        Question id -> file column, for questions held in one column (a
        multiple choice as space-separated codes or labels included).
    split : dict
        Question id -> {code: file column}, for a multiple choice held as one
        0/1 column per option.
    key : str or None
        The column holding the response id (Kobo's ``_uuid`` or a declared one).
    metadata : list of str
        Kobo metadata columns (``_id``, ``_submission_time``...), kept raw.
    unknown : list of str
        Columns that match no question.
    """

    single: dict[str, str] = field(default_factory=dict)
    split: dict[str, dict[int, str]] = field(default_factory=dict)
    key: str | None = None
    metadata: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: question id -> {code: file column}: the 0/1 option columns of a multiple choice that also has
    #: its whole column (Kobo exports both); each row's two forms must agree
    cross_check: dict[str, dict[int, str]] = field(default_factory=dict)

    def column_of(self, qid: str) -> str:
        """The file column to cite for a question (its first option column if split)."""
        if qid in self.single:
            return self.single[qid]
        return next(iter(self.split[qid].values()))


def read_mapping(path: str | Path) -> dict[str, str]:
    """Read a mapping file: YAML ``column: question`` or CSV with ``column,question``.

    Raises
    ------
    IngestError
        If the file cannot be read or is not in one of these shapes.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read the mapping file: {exc}", file=str(path), code="ingest.mapping_unreadable",
                          params={"reason": str(exc)}) from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if not rows or not {"column", "question"} <= set(rows[0]):
            raise IngestError("a mapping CSV needs the columns 'column' and 'question'", file=str(path), line=1,
                              code="ingest.mapping_csv")
        return {unicodedata.normalize("NFC", r["column"]).strip(): r["question"].strip() for r in rows}
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise IngestError("a mapping YAML is a list of 'column name: question_id' lines", file=str(path),
                          code="ingest.mapping_yaml")
    return {unicodedata.normalize("NFC", str(k)).strip(): v for k, v in data.items()}


def _is_metadata(column: str) -> bool:
    return column.startswith("_") or column.split("/")[0] in ("meta", "formhub")


def _label_index(qn: Questionnaire) -> dict[str, str]:
    index: dict[str, str] = {}
    for q in qn.questions:
        for text in (q.label.vi, q.label.en):
            index.setdefault(fold(text), q.id)
    return index


def _option(qn: Questionnaire, q: Question, token: str) -> int | None:
    """The code of a multiple-choice option named by code or label."""
    for c in qn.choices(q):
        if token == str(c.code) or fold(token) in (fold(c.label.vi), fold(c.label.en)):
            return c.code
    return None


def _match(column: str, qn: Questionnaire, ids: dict[str, Question], labels: dict[str, str]
           ) -> tuple[str, int | None] | None:
    """(question id, option code or None) for one column, or None."""
    if column in ids:
        return column, None
    parts = [p for p in column.split("/") if p]
    if len(parts) >= 2 and parts[-1] in ids:
        return parts[-1], None
    if len(parts) >= 2:
        parent = parts[-2] if parts[-2] in ids else labels.get(fold(parts[-2]))
        if parent and ids[parent].type == "multiple":
            code = _option(qn, ids[parent], parts[-1])
            if code is not None:
                return parent, code
    m = re.match(r"^(.+)_(\d+)$", column)
    if m and m.group(1) in ids and ids[m.group(1)].type == "multiple":
        code = int(m.group(2))
        if code in {c.code for c in qn.choices(ids[m.group(1)])}:
            return m.group(1), code
    qid = labels.get(fold(column)) or (labels.get(fold(parts[-1])) if parts else None)
    return (qid, None) if qid else None


def _id_column(columns: list[str], qn: Questionnaire, id_column: str | None, file: str | None) -> str | None:
    """The column of response ids: the one named, else the first the tools use, else the questionnaire's own."""
    if id_column is not None:
        if id_column not in columns:
            shown = ", ".join(str(c) for c in columns[:15]) + (" …" if len(columns) > 15 else "")
            raise IngestError(f"the file has no column '{id_column}' for the response ids", file=file,
                              hint=f"its columns: {shown}", code="ingest.no_id_column",
                              params={"column": id_column, "columns": shown})
        return id_column
    found = next((c for c in ID_COLUMNS if c in columns), None)
    if found is None and qn.response_id and qn.response_id in columns:
        found = qn.response_id
    return found


def map_columns(columns: list[str], qn: Questionnaire, *, mapping: dict[str, str] | None = None,
                file: str | None = None, id_column: str | None = None) -> ColumnMap:
    """Map file columns to questions.

    The response ids are read from ``id_column`` when given, else from the first of
    :data:`ID_COLUMNS` the file has, else from the questionnaire's ``response_id``.

    Raises
    ------
    IngestError
        If a mapping names an unknown question, two columns claim one question,
        or a required question has no column; every such problem is listed; or
        ``id_column`` is not a column of the file.
    """
    ids = {q.id: q for q in qn.questions}
    labels = _label_index(qn)
    cmap, problems = ColumnMap(), []
    cmap.key = _id_column(columns, qn, id_column, file)
    for column in columns:
        target = None
        if mapping and column in mapping:
            qid = mapping[column]
            if qid not in ids:
                problems.append(Problem(f"the mapping sends column '{column}' to unknown question '{qid}'",
                                        file, column, code="ingest.mapping_unknown_question",
                                        params={"column": column, "question": qid}))
                continue
            target = (qid, None)
        elif column == cmap.key or column in ID_COLUMNS:
            if column not in ids:  # an id column that is also a question is stored as its answer too
                cmap.metadata.append(column)
                continue
            target = (column, None)
        elif _is_metadata(column):
            cmap.metadata.append(column)
            continue
        else:
            target = _match(column, qn, ids, labels)
        if target is None:
            cmap.unknown.append(column)
        else:
            _assign(cmap, column, target, problems, file)
    for qid, codes in list(cmap.split.items()):
        if qid in cmap.single:  # Kobo gives both forms: the whole column is kept, the options check it
            cmap.metadata.extend(codes.values())
            cmap.cross_check[qid] = cmap.split.pop(qid)
    for q in qn.questions:
        if q.required and q.id not in cmap.single and q.id not in cmap.split:
            problems.append(Problem(
                f"no column for the required question '{q.id}' ({q.label.vi} / {q.label.en})", file, q.id,
                hint="add the column, or name it in a mapping file (--mapping)", code="ingest.required_missing",
                params={"question": q.id, "label_vi": q.label.vi, "label_en": q.label.en}))
    if problems:
        raise IngestError(f"{file or 'the file'}: the columns do not fit the questionnaire '{qn.id}'",
                          problems=problems, code="ingest.columns_misfit" if file else "ingest.columns_misfit_unnamed",
                          params={"file": file, "questionnaire": qn.id})
    return cmap


def _assign(cmap: ColumnMap, column: str, target: tuple[str, int | None], problems: list[Problem],
            file: str | None) -> None:
    qid, code = target
    if code is None:
        if qid in cmap.single:
            problems.append(Problem(f"columns '{cmap.single[qid]}' and '{column}' both hold question '{qid}'",
                                    file, column, hint="remove one, or map them in a mapping file",
                                    code="ingest.same_question",
                                    params={"first": cmap.single[qid], "column": column, "question": qid}))
        cmap.single[qid] = column
    else:
        cmap.split.setdefault(qid, {})[code] = column
