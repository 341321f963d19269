"""Load one survey export into the store: read, map, coerce, validate, store or quarantine.

Every row read ends in exactly one of four places: **accepted** (stored as it
was), **accepted with corrections** (stored, some values set to missing and
recorded as corrections), **quarantined** (refused, kept raw with its reasons)
or **already present** (the same response, same answers, is stored from an
earlier load). The whole load is one transaction: if anything fails, the store
is unchanged.

A value that breaks a rule (an unknown code, a number out of range, a phone
that does not match its pattern...) of a question that is not *critical* is set
to missing and the response is kept, so one wrong optional field never drops a
firm's complaint. Critical questions (see :func:`critical_questions`) are the
response id, the questions declared ``critical: true`` and those the indicators
read: a failure there quarantines the whole response, as do problems of the row
itself (an empty row, the same id twice, other answers under a stored id, a cell
that cannot be stored).

A load may replace an earlier one (``replace=``): in the same transaction the
earlier load's responses, quarantined rows and corrections are taken out (the
audit log keeps it, marked removed, with who and why) and the file is stored as
if the earlier load had never been made.

A load works in two steps so that a long load never blocks a colleague's:

1. **Prepare**, without any lock: read, map, coerce and validate every chunk,
   look its keys up in the store as committed, and keep what is to be stored
   in a temporary folder.
2. **Store**, holding the write lock: if no other load of the same wave was
   committed meanwhile, write what was prepared and commit; if one was, do the
   look-ups again under the lock (so answers stay right), then write.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import re
import tempfile
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace as with_fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..arrow_text import dictionary_codes, is_arrow_text
from ..errors import IngestError, StoreError, SurveyError, SurveyWarning
from ..i18n import _
from ..period import Period
from ..places import check_wave_locality
from ..questionnaire import Questionnaire, load_questionnaire
from ..store import Store
from ..store.staging import StagedRows
from .coerce import cell_text, coerce_answers
from .hashing import text_hashes
from .mapping import ID_COLUMNS, ColumnMap, map_columns, read_mapping
from .messages import render
from .readers import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, MAX_CELL_CHARS, FileInfo, RawMeta, prepare, read_ahead,
)
from .validate import validate_answers

__all__ = ["ingest_file", "LoadResult", "PERIOD_PATTERN", "critical_questions", "CORRECTABLE", "ID_COLUMNS",
           "SUBMISSION_COLUMNS", "OUTSIDE_SHARE", "PeriodWarning"]

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PROBLEM_COLUMNS = ["row", "column", "question", "value", "reason", "params", "response_key", "action"]
#: reasons a value of a question that is not critical is set to missing for, keeping its response;
#: every other reason (empty row, same id twice, a cell that cannot be stored...) concerns the row
CORRECTABLE = frozenset({"unknown_code", "unknown_label", "not_a_number", "not_whole", "out_of_range", "bad_date",
                         "required_missing", "not_relevant", "constraint", "options_disagree"})
#: columns that hold when a response was submitted, as the survey tools name them (compared folded):
#: KoboToolbox, ODK Central, SurveyCTO, Qualtrics, Google Forms (vi and en)
SUBMISSION_COLUMNS = ("_submission_time", "submissiondate", "submission_time", "submission date", "enddate",
                      "recordeddate", "end", "timestamp", "dấu thời gian")
#: share of submissions dated outside the period above which a load warns (refused with ``strict``)
OUTSIDE_SHARE = 0.2
#: passes of re-checking a corrected response before a problem that keeps coming back quarantines it
_CORRECTION_PASSES = 3


class PeriodWarning(SurveyWarning):
    """Many submissions of a file are dated outside the period it is loaded as."""


def critical_questions(qn: Questionnaire) -> frozenset[str]:
    """Questions whose failure quarantines a response: the response id, those declared ``critical: true``,
    the questions of the indicators and of their sub-populations (``among``)."""
    ids = {q.id for q in qn.questions if q.critical}
    for indicator in qn.indicators:
        ids.add(indicator.question)
        if indicator.among is not None:
            ids |= set(indicator.among.names)
    if qn.response_id:
        ids.add(qn.response_id)
    return frozenset(ids)


@dataclass
class LoadResult:
    """What a load did. ``rows_read == accepted + corrected + quarantined + already_present`` always.

    ``accepted`` counts responses stored as they were, ``corrected`` those stored with
    some values set to missing ("accepted with corrections"). ``problems`` has one row per
    problem, its ``action`` saying what became of it: ``corrected`` (the value was set to
    missing, the response kept) or ``quarantined`` (the whole response refused).
    """

    file: str
    sha256: str
    format: str
    encoding: str | None
    survey: str
    period: str
    load_id: int
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    already_present: int = 0
    #: responses stored with some values set to missing (not counted in ``accepted``)
    corrected: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    #: accepted rows whose answers equal a response stored under another id:
    #: (row, its key, the stored key). Stored all the same (two firms may answer
    #: alike), but worth a look: the same survey may have come in two exports.
    same_as_stored: list[tuple[int, str, str]] = field(default_factory=list)
    #: questions holding personal data: their values are masked in reports
    personal: tuple[str, ...] = ()
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    #: question id -> (Vietnamese label, English label), to name questions in summaries
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: warnings about the whole file, as (message id, parameters), e.g. submissions outside the period
    warnings: list[tuple[str, dict]] = field(default_factory=list)
    #: the load this one replaced, and what was taken out with it (see :meth:`Store.remove_load`)
    replaced: dict | None = None
    #: the column the response ids were read from (None: rows keyed by their answers)
    id_column: str | None = None
    #: the load whose quarantined row this one-row load corrected and stored (``ingest_file(release=...)``)
    released: int | None = None

    def summary(self, lang: str = "vi") -> str:
        """The five counts in one line, in ``lang``."""
        return _("ingest.summary_corrected", lang, read=self.rows_read, accepted=self.accepted,
                 corrected=self.corrected,
                 quarantined=self.quarantined, present=self.already_present)

    def messages(self, lang: str = "vi") -> pd.Series:
        """Each problem in words."""
        return pd.Series([render(r, p, lang) for r, p in zip(self.problems["reason"], self.problems["params"])],
                         index=self.problems.index, dtype=object)


@dataclass
class _State:
    """What a load carries from one chunk to the next while it prepares."""

    qn: Questionnaire
    store: Store
    conn: Any  # for look-ups: a read connection, or the write transaction when redone under the lock
    table: Any  # the responses table, or None before the questionnaire's first load
    wave_id: int | None
    folder: Path  # prepared chunks, one pickle each (their rows in ``staged`` when the store stages)
    cmap: ColumnMap | None = None
    seen: dict[str, int] = field(default_factory=dict)  # response key -> first row in the file
    result: LoadResult | None = None
    problems: list[dict] = field(default_factory=list)
    chunks: list[Path] = field(default_factory=list)
    info: FileInfo | None = None
    mark: int = 0  # the newest load committed when preparing began
    critical: frozenset[str] = frozenset()
    exclude_load: int | None = None  # the load being replaced: its rows do not count as stored
    submitted: Counter = field(default_factory=Counter)  # month (YYYY-MM) -> submissions dated in it
    submission_column: str | None = None
    staged: StagedRows | None = None  # the accepted rows, on SQLite stores (see survey.store.staging)
    #: whether the wave holds responses keyed the other way than the file's rows (looked up once the
    #: columns are mapped); when not, no row can have a twin there and the chunks skip that look-up
    other_keys: bool = True


def _keys(raw: pd.DataFrame, answers: pd.DataFrame, cmap: ColumnMap) -> tuple[pd.Series, pd.Series]:
    """Response keys and answer fingerprints of a chunk.

    The key is Kobo's ``_uuid`` or the declared response id; without one, the
    fingerprint of the answers (so an identical row loaded twice is found).
    """
    raw_hashes = fingerprints(answers)
    # 16 hex digits per row, from one hex string of the big-endian bytes (no format call per row)
    text = raw_hashes.astype(">u8").tobytes().hex()
    hashes = pd.Series(np.array([text]).view("<U16").tolist() if len(raw_hashes) else [], index=answers.index,
                       dtype=object)
    if cmap.key is None:
        return "h:" + hashes, hashes
    import pyarrow as pa
    import pyarrow.compute as pc

    # trimmed, NUL made visible, in Arrow's kernels over the column (utf8_trim_whitespace trims what
    # str.strip() does); already in NFC, as the readers yield every text (see coerce_answers(nfc=True))
    text = pa.array(_texts(raw[cmap.key]).astype("string[pyarrow]"))
    text = pc.replace_substring(pc.utf8_trim_whitespace(text), "\x00", "\ufffd")
    keys = pd.Series(text.to_numpy(zero_copy_only=False), index=raw.index, dtype=object)
    return keys.where(keys != "", "h:" + hashes), hashes


#: distinct texts from which a column's are hashed from Arrow's bytes (:func:`~survey.ingest.hashing.
#: text_hashes`) rather than one at a time by pandas: measured crossover ~3,000 texts of 35 characters
TEXT_HASHES_FROM = 4096


def fingerprints(answers: pd.DataFrame) -> np.ndarray:
    """Each row's answer fingerprint: exactly ``pandas.util.hash_pandas_object(answers, index=False)``
    (uint64), the values every store already holds in ``_hash``, computed faster.

    pandas hashes a column of objects (texts, dates) through a Categorical of its distinct values, whose
    construction checks them again in a second hash table and copies them through Arrow strings (most of
    the hashing time of a Kobo load, issue 18). Its result is each distinct value's hash, taken for every
    cell, and the largest uint64 for a missing cell: that is what is computed here, from pandas' own
    factorize and hash of the distinct values. Text answers held as Arrow strings (as coercion yields
    them) hash exactly as the same texts held as Python objects, the form the stored fingerprints were
    made from; their distinct values are hashed from Arrow's bytes (:func:`~survey.ingest.hashing.
    text_hashes`, the same SipHash), not made Python strings first. Other columns are hashed as pandas
    hashes them, and the columns combined by pandas' own rule.
    """
    from pandas.core.util.hashing import combine_hash_arrays

    def as_objects(distinct) -> np.ndarray:  # hashed as pandas hashes the same values held as Python objects
        return pd.util.hash_array(np.asarray(distinct, dtype=object), categorize=False)

    def column_hashes(col: pd.Series) -> np.ndarray:
        if is_arrow_text(col):  # texts (coerce_answers)
            codes, distinct = dictionary_codes(col)
            # numpy's passes have a fixed cost (0.2 ms) that pandas' text at a time beats below ~3,000 texts
            hashed = text_hashes(distinct) if len(distinct) >= TEXT_HASHES_FROM else None
            if hashed is None:
                hashed = as_objects(distinct.to_numpy(zero_copy_only=False))
        elif isinstance(col.dtype, np.dtype) and col.dtype == object:
            codes, distinct = pd.factorize(col.to_numpy(), use_na_sentinel=True)
            hashed = as_objects(distinct)
        else:
            return pd.util.hash_pandas_object(col, index=False).to_numpy()
        return np.append(hashed, np.iinfo(np.uint64).max)[codes]  # the last entry: code -1, a missing cell
    return combine_hash_arrays((column_hashes(col) for _, col in answers.items()), answers.shape[1], len(answers))


def _texts(column: pd.Series) -> pd.Series:
    """A column's cells as shown to a person (:func:`cell_text`); a column of texts (a CSV) only has its
    missing cells made empty, without a Python call per cell."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.fillna("")  # pandas' string dtype: texts or missing
    if column.dtype == object:
        present = column.notna()
        if _all_text(column[present]):
            return column.where(present, "")
    return column.map(cell_text)


def _all_text(column: pd.Series) -> bool:
    return pd.api.types.infer_dtype(column, skipna=False) in ("string", "empty")


def _duplicates(rows: list[int], values: list[str], state: _State) -> list[dict]:
    """Rows (file row numbers) whose key (``values``, row for row) an earlier row of the file had, in this
    chunk or an earlier one: refused, naming that first row. Keys seen are remembered in ``state.seen``
    (key -> first row)."""
    # the usual chunk: no key repeats, none was seen before; checked and remembered by dict and set
    # operations in C rather than a Python step per row (0.4 s of a 1,000,000-row load, issue 18)
    first_rows = dict(zip(reversed(values), reversed(rows)))  # key -> its first row in the chunk
    if len(first_rows) == len(values) and state.seen.keys().isdisjoint(first_rows):
        state.seen.update(first_rows)
        return []
    out = []
    for row, key in zip(rows, values):
        first = state.seen.setdefault(key, row)
        if first != row:
            out.append({"row": int(row), "column": state.cmap.key, "question": None, "value": key,
                        "reason": "duplicate_in_file", "params": {"value": key, "first_row": first}})
    return out


def _empty_rows(answers: pd.DataFrame) -> list[dict]:
    empty = answers.isna().all(axis=1)
    return [{"row": int(r), "column": None, "question": None, "value": "", "reason": "empty_row", "params": {}}
            for r in answers.index[empty]]


def _cell_problems(raw: pd.DataFrame, meta: RawMeta, cmap: ColumnMap) -> list[dict]:
    """Rows the reader found a cell too long or holding a NUL in: refused, the cell named."""
    if not meta.cell_problems:
        return []
    questions = {column: qid for qid, column in cmap.single.items()}
    questions.update({column: qid for qid, columns in cmap.split.items() for column in columns.values()})
    out = []
    for row in raw.index:
        for column, reason, length in meta.cell_problems.get(int(row), ()):
            out.append({"row": int(row), "column": column, "question": questions.get(column), "value": "",
                        "reason": reason, "params": {"column": column, "length": f"{length:,}",
                                                     "limit": f"{MAX_CELL_CHARS:,}"}})
    return out


def _quarantine_records(raw: pd.DataFrame, rows: list[int], by_row: dict[int, list[dict]],
                        keys: pd.Series) -> list[dict]:
    """Refused rows, raw, with their reasons; the load and wave ids are set when stored."""
    if not rows:  # the usual chunk (taking no rows out of a frame still costs a frame)
        return []
    records = []
    names = [str(c) for c in raw.columns]
    # the refused rows taken out at once, not one .loc per row (a load refusing most rows was slow)
    for row, cells in zip(rows, raw.loc[rows].itertuples(index=False, name=None)):
        raw_row = json.dumps(dict(zip(names, map(cell_text, cells))), ensure_ascii=False)
        reasons = [{k: p[k] for k in ("column", "question", "value", "reason", "params")} for p in by_row[row]]
        records.append({"row_number": int(row), "response_key": keys[row],
                        "raw_hash": hashlib.sha256(raw_row.encode()).hexdigest(),
                        "raw": raw_row, "reasons": json.dumps(reasons, ensure_ascii=False, default=str)})
    return records


def _correct(answers: pd.DataFrame, problems: list[dict], state: _State, today: dt.date) -> set[int]:
    """Set to missing the values that break a rule of a question that is not critical; re-check the
    rows corrected (a correction can make another rule fail) until nothing new is found.

    Marks each problem ``action`` "corrected" or "quarantined"; returns the rows to quarantine.
    """
    def fatal(p: dict) -> bool:
        return p["question"] is None or p["reason"] not in CORRECTABLE or p["question"] in state.critical

    bad = {p["row"] for p in problems if fatal(p)}
    fixed: set[tuple[int, str]] = set()
    todo = [p for p in problems if p["row"] not in bad]
    for _pass in range(_CORRECTION_PASSES):
        for p in todo:
            if (p["row"], p["question"]) not in fixed:
                fixed.add((p["row"], p["question"]))
                answers.at[p["row"], p["question"]] = np.nan if answers[p["question"]].dtype.kind == "f" else pd.NA
        rows = sorted({row for row, _q in fixed} - bad)
        if not rows:
            break
        again = [p for p in validate_answers(answers.loc[rows], state.qn, state.cmap, today)
                 if (p["row"], p["question"]) not in fixed]
        problems.extend(again)
        bad |= {p["row"] for p in again if fatal(p)}
        todo = [p for p in again if p["row"] not in bad]
        if not todo:
            break
    else:
        bad |= {p["row"] for p in todo}  # still failing after every pass: refused, never looped on
    for p in problems:
        p["action"] = "quarantined" if p["row"] in bad else "corrected"
    return bad


def _typed_values(raw: pd.DataFrame, problems: list[dict], cmap: ColumnMap) -> None:
    """Show each problem's value as the file had it (a label stays a label, not its code)."""
    for p in problems:
        column = cmap.single.get(p["question"]) if p["question"] is not None else None
        if column is None or p["reason"] not in CORRECTABLE or p["reason"] == "options_disagree":
            continue
        text = cell_text(raw.at[p["row"], column])
        p["value"] = text
        if isinstance(p.get("params"), dict) and "value" in p["params"]:
            p["params"] = {**p["params"], "value": text}


def _count_submissions(raw: pd.DataFrame, state: _State) -> None:
    """Count the chunk's submissions by the month they were made in (when the file says)."""
    column = state.submission_column
    if column is None or column not in raw.columns:
        return
    text = _texts(raw[column]).str.strip()
    text = text[text != ""]
    # ISO times (Kobo, ODK, Qualtrics) give their month as written, in the time zone they were made in
    iso = text.str.match(r"\d{4}-(0[1-9]|1[0-2])-\d{2}").to_numpy(dtype=bool, na_value=False)
    state.submitted.update(text[iso].str[:7].value_counts().to_dict())  # one count per month, not per row
    if iso.all():  # the usual export: no other date to read (the reading below costs even when empty)
        return
    # others (Google Forms, spreadsheets): read day first, as Vietnamese dates are written
    dates = pd.to_datetime(text[~iso], errors="coerce", format="mixed", dayfirst=True)
    state.submitted.update(dates.dropna().dt.strftime("%Y-%m").value_counts().to_dict())


def _prepare_chunk(raw: pd.DataFrame, meta: RawMeta, state: _State, today: dt.date) -> None:
    """Coerce, validate, correct and look up one chunk; keep what is to be stored in the load's folder."""
    qn, result = state.qn, state.result
    _count_submissions(raw, state)
    answers, problems = coerce_answers(raw, qn, state.cmap, nfc=True)  # the readers yield texts in NFC
    unreadable = {(p["row"], p["question"]) for p in problems}
    # a cell that could not be read is reported once, not again as "not answered"
    problems += [p for p in validate_answers(answers, qn, state.cmap, today)
                 if (p["row"], p["question"]) not in unreadable]
    problems += _empty_rows(answers)
    problems += _cell_problems(raw, meta, state.cmap)
    bad = _correct(answers, problems, state, today)
    _typed_values(raw, problems, state.cmap)
    keys, hashes = _keys(raw, answers, state.cmap)
    # plain lists and dicts for the row steps below: a Series look-up per row cost more than the work
    rows, key_list, hash_list = raw.index.tolist(), keys.tolist(), hashes.tolist()
    duplicates = _duplicates(rows, key_list, state)
    for p in duplicates:
        p["action"] = "quarantined"
    problems += duplicates
    bad |= {p["row"] for p in duplicates}
    clean = [r for r in rows if r not in bad] if bad else rows
    key_of, hash_of = dict(zip(rows, key_list)), dict(zip(rows, hash_list))
    stored = state.store.stored_keys(state.conn, state.table, state.wave_id,
                                     [key_of[r] for r in clean] if bad else key_list,
                                     exclude_load=state.exclude_load)
    # the usual chunk has no row refused and no key stored: its rows are accepted without a step per row
    present, accept = [], ([] if stored else list(clean))
    for row in (clean if stored else ()):
        key = key_of[row]
        if key not in stored:
            accept.append(row)
        elif stored[key][0] == hash_of[row]:
            present.append(row)
        else:
            problems.append({"row": int(row), "column": state.cmap.key, "question": None, "value": key,
                             "reason": "conflict_stored", "params": {"value": key, "load_id": stored[key][1]}})
            bad.add(row)
    by_row: dict[int, list[dict]] = {}
    for p in problems:
        p["response_key"] = key_of.get(p["row"])
        if p["row"] in bad:
            p["action"] = "quarantined"
        by_row.setdefault(p["row"], []).append(p)
    records = _quarantine_records(raw, sorted(bad), by_row, keys)
    # A row refused by an earlier load of the same wave is not quarantined twice:
    # it counts as already present (its problems still appear in the report).
    known = state.store.quarantined_hashes(state.conn, state.wave_id, [r["raw_hash"] for r in records],
                                           exclude_load=state.exclude_load)
    fresh = [r for r in records if r["raw_hash"] not in known]
    present += [r["row_number"] for r in records if r["raw_hash"] in known]
    twins = state.store.same_answers(state.conn, state.table, state.wave_id,
                                     hash_list if len(accept) == len(rows) else [hash_of[r] for r in accept],
                                     keyed=state.cmap.key is not None, exclude_load=state.exclude_load) \
        if state.other_keys else {}
    if twins:
        result.same_as_stored += [(int(r), key_of[r], twins[hash_of[r]]) for r in accept
                                  if hash_of[r] in twins and twins[hash_of[r]] != key_of[r]]
    corrected_rows = {r for r in accept if r in by_row} if by_row else set()
    corrections = [{"row_number": int(p["row"]), "response_key": key_of[p["row"]], "question": p["question"],
                    "value": p["value"], "reason": p["reason"],
                    "params": json.dumps(p["params"], ensure_ascii=False, default=str)}
                   for r in sorted(corrected_rows) for p in by_row[r]]
    # every row accepted (the usual case): the chunk's own answers, not a copy of them
    frame = answers if len(accept) == len(answers) and answers.index.equals(pd.Index(accept)) \
        else answers.loc[accept].copy()
    frame.insert(0, "_hash", hashes[accept])
    frame.insert(0, "_key", keys[accept])
    frame.insert(0, "_row", list(accept))
    _keep(state, frame, fresh, corrections)
    result.rows_read += len(raw)
    result.accepted += len(accept) - len(corrected_rows)
    result.corrected += len(corrected_rows)
    result.quarantined += len(fresh)
    result.already_present += len(present)
    state.problems.extend(problems)


def _keep(state: _State, frame: pd.DataFrame, quarantined: list[dict], corrections: list[dict]) -> None:
    """Keep a prepared chunk until the store step: its rows staged (SQLite) or pickled, the rest pickled."""
    if state.staged is not None:
        state.staged.add(frame)
        frame = None
    path = state.folder / f"chunk{len(state.chunks):06d}.pickle"
    with path.open("wb") as fh:
        pickle.dump((frame, quarantined, corrections), fh, protocol=pickle.HIGHEST_PROTOCOL)
    state.chunks.append(path)


def _progress(total: int | None, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, unit=" rows", disable=(None if enabled is None else not enabled), leave=False)


def _compress(path: Path) -> tuple[bytes, str]:
    """The file's bytes compressed for the archive (zstd, level 1), and their SHA-256, read a block at a
    time (zstd and hashlib release the interpreter lock, so this runs beside the rows being prepared).

    zstd rather than zlib: several times faster at a like ratio on survey exports (issue 18).
    """
    from ..store.store import archive_packer

    packer, digest, parts = archive_packer(), hashlib.sha256(), []
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
            parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts), digest.hexdigest()


def _identity(path: Path) -> tuple[int, ...]:
    """What changes when a file is replaced (a new inode) or rewritten (size, modification time)."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def ingest_file(path: str | Path, survey: str | Questionnaire, period: str, *, db: str | None = None,
                store: Store | None = None, mapping: str | Path | dict[str, str] | None = None,
                format: str | None = None, encoding: str | None = None, sep: str | None = None,
                sheet: str | int | None = None, chunksize: int = 20_000, max_bytes: int = DEFAULT_MAX_BYTES,
                max_rows: int = DEFAULT_MAX_ROWS, province: str | None = None, user: str | None = None,
                progress: bool | None = False, today: dt.date | None = None, id_column: str | None = None,
                replace: int | None = None, reason: str | None = None, strict: bool = False,
                release: int | None = None) -> LoadResult:
    """Load a survey export into the store.

    Parameters
    ----------
    path : file to load (KoboToolbox CSV, CSV, SPSS ``.sav`` or Excel ``.xlsx``).
    survey : questionnaire id or a loaded :class:`Questionnaire`.
    period : the wave, ``YYYY-MM``.
    db, store : where to store (a URL, or an open :class:`Store`); default :func:`survey.store.default_url`.
    mapping : a mapping file or dict ``{file column: question id}`` for columns not matched automatically.
    format, encoding, sep, sheet, chunksize, max_bytes, max_rows : passed to the reader (:func:`iter_chunks`).
    progress : show a progress bar (None: when the terminal allows).
    id_column : the column holding the response ids, when not one the tools use
        (``_uuid``, ``uuid``, ``instanceID``, ``meta/instanceID``, ``KEY``, ``ResponseId``).
    replace : the number of an earlier load of the questionnaire to replace, in the same transaction.
    reason : why (kept in the audit log with the replaced load).
    strict : refuse the file when more than :data:`OUTSIDE_SHARE` of its submissions are dated
        outside ``period`` (otherwise a :class:`PeriodWarning`, also in ``LoadResult.warnings``).
    release : the number of a quarantined row this one-row file corrects: in the same transaction
        as the row is stored, it leaves the quarantine (:meth:`Store.release_quarantined`); a file
        whose row is still refused stores nothing.

    Returns
    -------
    LoadResult

    Raises
    ------
    IngestError
        The file cannot be loaded (unreadable, empty, too large, no data rows,
        rows that do not line up, a required column missing, already loaded as
        another period, submissions outside the period with ``strict``...). The store is unchanged.
    StoreError
        ``replace`` names no load, or one removed before.
    """
    try:
        period = str(Period.parse(period, today=today))
    except SurveyError as exc:
        raise IngestError(exc.message, code=exc.code, params=exc.params) from None
    # the locality list is the wave's: districts before 2025-07, communes and wards from then
    qn = survey if isinstance(survey, Questionnaire) else load_questionnaire(survey, province=province, period=period)
    try:
        check_wave_locality(qn, period)
    except SurveyError as exc:
        raise IngestError(exc.message, hint="load the questionnaire for the wave's period", code=exc.code,
                          params=exc.params) from None
    if isinstance(mapping, (str, Path)):
        mapping = read_mapping(mapping)
    store = store or Store(db)
    # every check that needs no row (size first) before a byte is read or archived; the file is hashed
    # as it is archived, beside the reading, not first (0.6 s of a 280 MB .sav before its first row)
    info = prepare(path, format=format, encoding=encoding, sep=sep, max_bytes=max_bytes, digest=False)
    identity = _identity(info.path)
    options = dict(format=format, sheet=sheet, chunksize=chunksize, max_bytes=max_bytes, max_rows=max_rows)
    load = _Load(info, qn, period, store, mapping, options, user, today or dt.date.today(), progress, identity,
                 id_column=id_column, replace=replace, reason=reason, strict=strict, release=release)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgi-archive") as pool, \
            tempfile.TemporaryDirectory(prefix="pgi-load-") as folder:
        archive = load.archive = pool.submit(_compress, info.path)
        with store.read() as conn:
            state = load.prepare(conn, Path(folder) / "first")
        return load.store(state, archive, Path(folder) / "again")


@dataclass
class _Load:
    """One load's inputs, with its two steps: prepare (no lock) and store (under the write lock)."""

    info: FileInfo
    qn: Questionnaire
    period: str
    store_: Store
    mapping: Any
    options: dict
    user: str | None
    today: dt.date
    progress: bool | None
    identity: tuple[int, ...] = ()
    id_column: str | None = None
    replace: int | None = None
    reason: str | None = None
    strict: bool = False
    release: int | None = None
    #: the archiving of the file (a Future of its compressed bytes and SHA-256): given with an ``info``
    #: that came without its SHA-256, which the load learns from there once the rows are read
    archive: Any = None

    def prepare(self, conn, folder: Path, *, stage: bool = True) -> _State:
        """Read and check every row; look keys up through ``conn``; keep the result in ``folder``
        (the accepted rows in a staging file there when ``stage`` and the store stages)."""
        folder.mkdir()
        replaced = self._check_replace(conn)
        if self.info.sha256 is not None:  # else under the lock only, once the file is hashed
            self._check_not_loaded_as_other_period(conn)
        state = _State(self.qn, self.store_, conn, self.store_.existing_response_table(conn, self.qn),
                       self.store_.find_wave(conn, self.qn.id, self.period), folder,
                       critical=critical_questions(self.qn), exclude_load=self.replace)
        state.mark = self.store_.last_load_id(conn)
        if stage and self.store_.stages:
            # declared as the responses table, with the ids the rows would get: copied whole if still theirs
            layout = self.store_.staging_layout(conn, self.qn, state.table)
            state.staged = StagedRows(folder / "rows.sqlite", self.store_.response_types(self.qn), layout,
                                      self.store_.next_ids(conn, state.table, state.wave_id) if layout else None)
        try:
            self._read(state, replaced)
        except BaseException:
            if state.staged is not None:
                state.staged.abandon()
            raise
        if state.staged is not None:
            state.staged.close()
        return state

    def _read(self, state: _State, replaced: dict | None) -> None:
        """Read, check and keep every chunk of the file."""
        chunks = read_ahead(self.info, **self.options)
        first = next(chunks, None)
        if first is None:
            raise IngestError("the file has column names but no data rows", file=str(self.info.path),
                              hint="check that the export contains responses", code="ingest.no_rows")
        state.info = first[1].info
        state.cmap = map_columns(first[1].columns, self.qn, mapping=self.mapping, file=state.info.name,
                                 id_column=self.id_column)
        state.submission_column = _submission_column(first[1].columns)
        # once per load (a load committed meanwhile into the wave has this one prepared again)
        state.other_keys = self.store_.holds_other_keys(state.conn, state.table, state.wave_id,
                                                        keyed=state.cmap.key is not None)
        info = state.info
        state.result = LoadResult(info.name, info.sha256, info.format, info.encoding, self.qn.id, self.period, 0,
                                  personal=self.qn.personal_questions, id_column=state.cmap.key,
                                  labels={q.id: (q.label.vi, q.label.en) for q in self.qn.questions})
        if replaced is not None:
            state.result.replaced = {"load": replaced["id"], "period": replaced["period"]}
        _run(first, chunks, state, self.today, self.progress)
        if self.info.sha256 is None:
            self._learn_digest(state)
        self._check_submissions(state)

    def _learn_digest(self, state: _State) -> None:
        """The file's SHA-256, from its archiving (which hashed it beside the reading), into the load's
        file information and result. (Whether it was loaded as another period is then checked under the
        write lock, by :meth:`store`, as for every load.)"""
        _packed, digest = self.archive.result()
        self.info = with_fields(self.info, sha256=digest)
        state.info = with_fields(state.info, sha256=digest)
        state.result.sha256 = digest

    def _check_replace(self, conn) -> dict | None:
        """The load to replace: it must exist, not be removed, and be a load of this questionnaire."""
        if self.replace is None:
            return None
        found = self.store_.load_info(conn, self.replace)
        if found["removed_at"] is not None:
            raise StoreError(f"load #{self.replace} was already removed", code="store.load_removed",
                             params={"load": self.replace, "when": f"{found['removed_at']:%Y-%m-%d %H:%M}",
                                     "user": found["removed_by"] or ""})
        if found["survey"] != self.qn.id:
            raise IngestError(f"load #{self.replace} is of questionnaire '{found['survey']}', not '{self.qn.id}'",
                              hint="check the load number with: pgi-survey loads", code="ingest.replace_other_survey",
                              params={"load": self.replace, "survey": found["survey"], "wanted": self.qn.id})
        return found

    def _check_submissions(self, state: _State) -> None:
        """Warn (or, ``strict``, refuse) when many submissions are dated outside the period."""
        total = sum(state.submitted.values())
        if not total:
            return
        outside = total - state.submitted.get(self.period, 0)
        if outside / total <= OUTSIDE_SHARE:
            return
        month, count = state.submitted.most_common(1)[0]
        params = {"column": state.submission_column, "outside": outside, "total": total,
                  "share": outside / total, "period": self.period, "month": month, "count": count}
        if self.strict:
            raise IngestError(f"{outside:,} of {total:,} submissions ({outside / total:.0%}) are dated outside "
                              f"{self.period} (most in {month}); nothing was saved", file=str(self.info.path),
                              hint=f"check the period: is it {month}?", code="ingest.period_outside",
                              params=params)
        state.result.warnings.append(("ingest.warning.period_outside", params))
        warnings.warn(f"{self.info.name}: {outside:,} of {total:,} submissions are dated outside {self.period} "
                      f"(most in {month})", PeriodWarning, stacklevel=4)

    def store(self, state: _State, archive, again: Path) -> LoadResult:
        """Write what was prepared, in one transaction holding the write lock.

        First, the file must be the one that was checked, read and archived: a file
        replaced or still being written while it was read is refused, so the audit
        log's checksum and archive always match the rows stored.
        """
        packed, digest = archive.result()
        if digest != self.info.sha256 or _identity(self.info.path) != self.identity:
            raise IngestError("the file changed while it was being loaded (it was replaced, or it is still being "
                              "downloaded or copied); nothing was saved", file=str(self.info.path),
                              hint="wait until the download or copy has finished, then load it again",
                              code="ingest.changed")
        staged = state.staged.path if state.staged is not None and state.staged.rows else None
        with self.store_.begin(staged=staged) as conn:
            if self.store_.loaded_since(conn, self.qn.id, self.period, state.mark) or (
                    self.replace is not None and self.store_.last_load_id(conn) != state.mark):
                # another load of this wave (or any, when replacing) was committed while this one
                # prepared: its rows may now be "already present" or conflicts; look again, under the lock
                # (rows pickled, not staged: the staging file is attached before the transaction begins)
                state = self.prepare(conn, again, stage=False)
            else:
                self._check_replace(conn)
                self._check_not_loaded_as_other_period(conn)
            if self.replace is not None:  # out first: the same responses come back under the new load
                state.result.replaced = self.store_.remove_load(conn, self.replace, user=self.user,
                                                                reason=self.reason)
            if self.release is not None and (state.result.quarantined or state.result.rows_read != 1):
                raise IngestError("the corrected row is still refused; nothing was saved", file=str(self.info.path),
                                  hint="correct the values named in the report", code="ingest.release_refused")
            _write(state, conn, self.user)
            if self.release is not None:
                state.result.released = self.store_.release_quarantined(conn, self.release, state.result.load_id)
            if self.replace is not None:
                self.store_.mark_replaced(conn, self.replace, state.result.load_id)
            info = state.info
            self.store_.archive_file(conn, info.path, info.sha256, info.size, packed)
        return state.result

    def _check_not_loaded_as_other_period(self, conn) -> None:
        earlier = [(lid, p) for lid, p in self.store_.loads_of_file(conn, self.qn.id, self.info.sha256)
                   if p != self.period and lid != self.replace]
        if earlier:
            lid, p = earlier[0]
            raise IngestError(f"this file was already loaded as period {p} (load #{lid})",
                              file=str(self.info.path), hint="check the period; a file belongs to one wave",
                              code="ingest.other_period", params={"period": p, "load": lid})


def _submission_column(columns: list[str]) -> str | None:
    """The column that holds submission times, if the file has one (see :data:`SUBMISSION_COLUMNS`)."""
    folded = {str(c).strip().casefold(): c for c in columns}
    return next((folded[name] for name in SUBMISSION_COLUMNS if name in folded), None)


def _write(state: _State, conn, user: str | None) -> None:
    """Store the prepared chunks and the load's record."""
    store, result, info = state.store, state.result, state.info
    wave_id = store.wave_id(conn, state.qn, result.period)
    table = store.response_table(conn, state.qn)
    load_id = store.start_load(conn, wave_id, file_name=info.name, sha256=info.sha256, size=info.size,
                               format=info.format, encoding=info.encoding, user=user)
    result.load_id = load_id
    for path in state.chunks:
        with path.open("rb") as fh:
            frame, quarantined, corrections = pickle.load(fh)
        if frame is not None:
            frame.insert(0, "_load_id", load_id)
            frame.insert(0, "_wave_id", wave_id)
            store.insert_responses(conn, table, frame)
        store.insert_quarantine(conn, [{**r, "load_id": load_id, "wave_id": wave_id} for r in quarantined])
        store.insert_corrections(conn, [{**r, "load_id": load_id, "wave_id": wave_id} for r in corrections])
    if state.staged is not None and state.staged.rows:
        copied = store.insert_staged(conn, table, state.staged.columns, wave_id, load_id,
                                     preset=state.staged.preset)
        if copied != state.staged.rows:
            raise IngestError(f"internal error: {copied:,} of {state.staged.rows:,} prepared rows were stored; "
                              "nothing was saved", code="ingest.rows_unaccounted")
    if state.table is None:  # a new table: give the planner its size before the next load looks keys up
        store.analyse(conn, table)
    store.finish_load(conn, load_id, rows_read=result.rows_read, accepted=result.accepted,
                      quarantined=result.quarantined, already_present=result.already_present,
                      unknown_columns=result.unknown_columns, corrected=result.corrected)


def _run(first, chunks, state: _State, today: dt.date, progress: bool | None) -> None:
    frame, meta = first
    result = state.result
    with _progress(meta.rows, progress) as bar:
        while True:
            _prepare_chunk(frame, meta, state, today)
            bar.update(len(frame))
            nxt = next(chunks, None)
            if nxt is None:
                break
            frame, meta = nxt
    if result.rows_read == 0:
        raise IngestError("the file has column names but no data rows", file=result.file,
                          hint="check that the export contains responses", code="ingest.no_rows")
    if meta.rows is not None and result.rows_read != meta.rows:
        raise IngestError(f"{result.rows_read:,} rows were read of the {meta.rows:,} the file holds; "
                          "nothing was saved", file=str(state.info.path), hint="load the file again",
                          code="ingest.rows_lost", params={"read": result.rows_read, "rows": meta.rows})
    if result.rows_read != result.accepted + result.corrected + result.quarantined + result.already_present:
        raise IngestError("internal error: rows were neither stored nor quarantined; nothing was saved",
                          code="ingest.rows_unaccounted")
    result.unknown_columns = list(state.cmap.unknown)
    result.problems = pd.DataFrame(state.problems, columns=PROBLEM_COLUMNS)
