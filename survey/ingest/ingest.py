"""Load one survey export into the store: read, map, coerce, validate, store or quarantine.

Every row read ends in exactly one of three places: **accepted** (stored),
**quarantined** (refused, kept raw with its reasons) or **already present**
(the same response, same answers, is stored from an earlier load). The
whole load is one transaction: if anything fails, the store is unchanged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import IngestError
from ..questionnaire import Questionnaire, load_questionnaire
from ..store import Store
from .coerce import cell_text, coerce_answers
from .mapping import ColumnMap, map_columns, read_mapping
from .messages import SUMMARY, render
from .readers import DEFAULT_MAX_BYTES, FileInfo, RawMeta, iter_chunks, prefetch
from .validate import validate_answers

__all__ = ["ingest_file", "LoadResult", "PERIOD_PATTERN"]

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PROBLEM_COLUMNS = ["row", "column", "question", "value", "reason", "params", "response_key"]


@dataclass
class LoadResult:
    """What a load did. ``rows_read == accepted + quarantined + already_present`` always."""

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
    unknown_columns: list[str] = field(default_factory=list)
    #: accepted rows whose answers equal a response stored under another id:
    #: (row, its key, the stored key). Stored all the same (two firms may answer
    #: alike), but worth a look: the same survey may have come in two exports.
    same_as_stored: list[tuple[int, str, str]] = field(default_factory=list)
    #: questions holding personal data: their values are masked in reports
    personal: tuple[str, ...] = ()
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))

    def summary(self, lang: str = "vi") -> str:
        """The four counts in one line, in ``lang``."""
        return SUMMARY[lang].format(read=self.rows_read, accepted=self.accepted,
                                    quarantined=self.quarantined, present=self.already_present)

    def messages(self, lang: str = "vi") -> pd.Series:
        """Each problem in words."""
        return pd.Series([render(r, p, lang) for r, p in zip(self.problems["reason"], self.problems["params"])],
                         index=self.problems.index, dtype=object)


@dataclass
class _State:
    """What a load carries from one chunk to the next."""

    qn: Questionnaire
    store: Store
    conn: Any
    table: Any
    wave_id: int
    load_id: int
    cmap: ColumnMap | None = None
    seen: dict[str, int] = field(default_factory=dict)  # response key -> first row in the file
    result: LoadResult | None = None
    problems: list[dict] = field(default_factory=list)


def _keys(raw: pd.DataFrame, answers: pd.DataFrame, cmap: ColumnMap) -> tuple[pd.Series, pd.Series]:
    """Response keys and answer fingerprints of a chunk.

    The key is Kobo's ``_uuid`` or the declared response id; without one, the
    fingerprint of the answers (so an identical row loaded twice is found).
    """
    raw_hashes = pd.util.hash_pandas_object(answers, index=False).to_numpy()
    hashes = pd.Series([f"{h:016x}" for h in raw_hashes], index=answers.index, dtype=object)
    if cmap.key is None:
        return "h:" + hashes, hashes
    keys = raw[cmap.key].map(lambda v: unicodedata.normalize("NFC", cell_text(v)).strip())
    return keys.where(keys != "", "h:" + hashes), hashes


def _duplicates(keys: pd.Series, state: _State) -> list[dict]:
    out = []
    for row, key in keys.items():
        first = state.seen.setdefault(key, row)
        if first != row:
            out.append({"row": int(row), "column": state.cmap.key, "question": None, "value": key,
                        "reason": "duplicate_in_file", "params": {"value": key, "first_row": first}})
    return out


def _empty_rows(answers: pd.DataFrame) -> list[dict]:
    empty = answers.isna().all(axis=1)
    return [{"row": int(r), "column": None, "question": None, "value": "", "reason": "empty_row", "params": {}}
            for r in answers.index[empty]]


def _quarantine_records(raw: pd.DataFrame, rows: list[int], by_row: dict[int, list[dict]],
                        keys: pd.Series, state: _State) -> list[dict]:
    records = []
    for row in rows:
        raw_row = json.dumps({str(c): cell_text(v) for c, v in raw.loc[row].items()}, ensure_ascii=False)
        reasons = [{k: p[k] for k in ("column", "question", "value", "reason", "params")} for p in by_row[row]]
        records.append({"load_id": state.load_id, "wave_id": state.wave_id, "row_number": int(row),
                        "response_key": keys[row], "raw_hash": hashlib.sha256(raw_row.encode()).hexdigest(),
                        "raw": raw_row, "reasons": json.dumps(reasons, ensure_ascii=False, default=str)})
    return records


def _process_chunk(raw: pd.DataFrame, meta: RawMeta, state: _State, today: dt.date) -> None:
    qn, result = state.qn, state.result
    answers, problems = coerce_answers(raw, qn, state.cmap)
    unreadable = {(p["row"], p["question"]) for p in problems}
    # a cell that could not be read is reported once, not again as "not answered"
    problems += [p for p in validate_answers(answers, qn, state.cmap, today)
                 if (p["row"], p["question"]) not in unreadable]
    problems += _empty_rows(answers)
    keys, hashes = _keys(raw, answers, state.cmap)
    problems += _duplicates(keys, state)
    bad = {p["row"] for p in problems}
    clean = [r for r in raw.index if r not in bad]
    stored = state.store.stored_keys(state.conn, state.table, state.wave_id, keys[clean].tolist())
    present, accept = [], []
    for row in clean:
        key = keys[row]
        if key not in stored:
            accept.append(row)
        elif stored[key][0] == hashes[row]:
            present.append(row)
        else:
            problems.append({"row": int(row), "column": state.cmap.key, "question": None, "value": key,
                             "reason": "conflict_stored", "params": {"value": key, "load_id": stored[key][1]}})
    by_row: dict[int, list[dict]] = {}
    for p in problems:
        p["response_key"] = keys.get(p["row"])
        by_row.setdefault(p["row"], []).append(p)
    records = _quarantine_records(raw, sorted(by_row), by_row, keys, state)
    # A row refused by an earlier load of the same wave is not quarantined twice:
    # it counts as already present (its problems still appear in the report).
    known = state.store.quarantined_hashes(state.conn, state.wave_id, [r["raw_hash"] for r in records])
    fresh = [r for r in records if r["raw_hash"] not in known]
    present += [r["row_number"] for r in records if r["raw_hash"] in known]
    twins = state.store.same_answers(state.conn, state.table, state.wave_id, hashes[accept].tolist(),
                                     keyed=state.cmap.key is not None)
    result.same_as_stored += [(int(r), keys[r], twins[hashes[r]]) for r in accept
                              if hashes[r] in twins and twins[hashes[r]] != keys[r]]
    frame = answers.loc[accept].copy()
    frame.insert(0, "_hash", hashes[accept])
    frame.insert(0, "_key", keys[accept])
    frame.insert(0, "_row", list(accept))
    frame.insert(0, "_load_id", state.load_id)
    frame.insert(0, "_wave_id", state.wave_id)
    state.store.insert_responses(state.conn, state.table, frame)
    state.store.insert_quarantine(state.conn, fresh)
    result.rows_read += len(raw)
    result.accepted += len(accept)
    result.quarantined += len(fresh)
    result.already_present += len(present)
    state.problems.extend(problems)


def _progress(total: int | None, enabled: bool | None):
    from tqdm import tqdm

    return tqdm(total=total, unit=" rows", disable=(None if enabled is None else not enabled), leave=False)


def ingest_file(path: str | Path, survey: str | Questionnaire, period: str, *, db: str | None = None,
                store: Store | None = None, mapping: str | Path | dict[str, str] | None = None,
                format: str | None = None, encoding: str | None = None, sep: str | None = None,
                sheet: str | int | None = None, chunksize: int = 20_000, max_bytes: int = DEFAULT_MAX_BYTES,
                province: str | None = None, user: str | None = None, progress: bool | None = False,
                today: dt.date | None = None) -> LoadResult:
    """Load a survey export into the store.

    Parameters
    ----------
    path : file to load (KoboToolbox CSV, CSV, SPSS ``.sav`` or Excel ``.xlsx``).
    survey : questionnaire id or a loaded :class:`Questionnaire`.
    period : the wave, ``YYYY-MM``.
    db, store : where to store (a URL, or an open :class:`Store`); default :func:`survey.store.default_url`.
    mapping : a mapping file or dict ``{file column: question id}`` for columns not matched automatically.
    format, encoding, sep, sheet, chunksize, max_bytes : passed to the reader (:func:`iter_chunks`).
    progress : show a progress bar (None: when the terminal allows).

    Returns
    -------
    LoadResult

    Raises
    ------
    IngestError
        The file cannot be loaded (unreadable, empty, no data rows, a required
        column missing, already loaded as another period...). The store is unchanged.
    """
    qn = survey if isinstance(survey, Questionnaire) else load_questionnaire(survey, province=province)
    if not PERIOD_PATTERN.match(str(period)):
        raise IngestError(f"the period must be written YYYY-MM, e.g. 2025-11; got {period!r}")
    if isinstance(mapping, (str, Path)):
        mapping = read_mapping(mapping)
    store = store or Store(db)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgi-archive") as pool:
        # zlib releases the interpreter lock: the archive is compressed while rows are processed
        archive = pool.submit(lambda: zlib.compress(Path(path).read_bytes(), 1)) if Path(path).is_file() else None
        return _ingest(path, qn, period, store, mapping, archive, user, today, progress,
                       dict(format=format, encoding=encoding, sep=sep, sheet=sheet, chunksize=chunksize,
                            max_bytes=max_bytes))


def _ingest(path, qn: Questionnaire, period: str, store: Store, mapping, archive, user, today, progress,
            options: dict) -> LoadResult:
    chunks = prefetch(iter_chunks(path, **options))
    with store.begin() as conn:
        first = next(chunks, None)
        if first is None:
            raise IngestError("the file has column names but no data rows", file=str(path))
        state = _open_load(first[1].info, qn, period, store, conn, user)
        state.cmap = map_columns(first[1].columns, qn, mapping=mapping, file=first[1].info.name)
        _run(first, chunks, state, today or dt.date.today(), progress)
        info = first[1].info
        store.archive_file(conn, info.path, info.sha256, info.size, archive.result() if archive else None)
    return state.result


def _open_load(info: FileInfo, qn: Questionnaire, period: str, store: Store, conn, user: str | None) -> _State:
    earlier = [(lid, p) for lid, p in store.loads_of_file(conn, qn.id, info.sha256) if p != period]
    if earlier:
        lid, p = earlier[0]
        raise IngestError(f"this file was already loaded as period {p} (load #{lid})",
                          file=str(info.path), hint="check the period; a file belongs to one wave")
    wave_id = store.wave_id(conn, qn, period)
    table = store.response_table(conn, qn)
    load_id = store.start_load(conn, wave_id, file_name=info.name, sha256=info.sha256, size=info.size,
                               format=info.format, encoding=info.encoding, user=user)
    result = LoadResult(info.name, info.sha256, info.format, info.encoding, qn.id, period, load_id,
                        personal=qn.personal_questions)
    return _State(qn, store, conn, table, wave_id, load_id, result=result)


def _run(first, chunks, state: _State, today: dt.date, progress: bool | None) -> None:
    frame, meta = first
    result = state.result
    with _progress(meta.rows, progress) as bar:
        while True:
            _process_chunk(frame, meta, state, today)
            bar.update(len(frame))
            nxt = next(chunks, None)
            if nxt is None:
                break
            frame, meta = nxt
    if result.rows_read == 0:
        raise IngestError(f"{result.file}: the file has column names but no data rows",
                          hint="check that the export contains responses")
    if result.rows_read != result.accepted + result.quarantined + result.already_present:
        raise IngestError("internal error: rows were neither stored nor quarantined; nothing was saved")
    result.unknown_columns = list(state.cmap.unknown)
    result.problems = pd.DataFrame(state.problems, columns=PROBLEM_COLUMNS)
    state.store.finish_load(state.conn, result.load_id, rows_read=result.rows_read, accepted=result.accepted,
                            quarantined=result.quarantined, already_present=result.already_present,
                            unknown_columns=result.unknown_columns)
