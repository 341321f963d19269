"""Responses staged in a SQLite file of their own while a load prepares (issue 18).

Writing a large load's rows was most of the time it held the store's write lock: every
answer became a Python object bound by ``executemany`` (100,000 rows x 300 questions:
2.3 s of binding, plus 0.8 s building the values). Instead, each prepared chunk goes, as
an Arrow table, through the ADBC SQLite driver (which binds Arrow arrays in C, without
the interpreter lock, so it runs beside the next chunk being read and checked) into a
staging file in the load's temporary folder. Under the lock, the store copies the staged
rows with one ``INSERT ... SELECT`` (:meth:`survey.store.Store.insert_staged`).

Only SQLite stores stage (PostgreSQL's ``COPY`` is its own bulk path). The ADBC driver
links its own copy of SQLite: two copies of SQLite must never open the same file in one
process (closing one drops the other's POSIX locks), so the staging file is written and
closed by ADBC before the store's connection attaches it, and the store's own file is
never opened by ADBC.
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Float, Integer

from ..arrow_text import arrow_strings, is_arrow_text
from ..errors import StoreError
from ..lazy_import import lazy_module

pd = lazy_module("pandas")
np = lazy_module("numpy")

__all__ = ["StagedRows", "STAGING_SCHEMA", "STAGING_TABLE"]

#: the name a staging file is attached under, and its one table
STAGING_SCHEMA = "pgi_staging"
STAGING_TABLE = "rows"


class StagedRows:
    """Prepared responses written, a chunk at a time, into ``path`` (a new SQLite file).

    Parameters
    ----------
    path : the staging file (must not exist; it lives in the load's temporary folder).
    types : column -> SQLAlchemy type (class or instance) of the responses table: how each
        column is written (numbers as REAL with NULL for missing, dates as ISO text, others as text).
    layout : the responses table's columns as SQLite declares them (name, type, NOT NULL, primary
        key; :meth:`~survey.store.Store.staging_layout`), or None. With ``ids``, the staging table is
        declared so and each row gets its response id (consecutive from the first), wave and load:
        records the store can copy whole (:meth:`~survey.store.Store.insert_staged`).
    ids : (first response id, wave id, load id) (:meth:`~survey.store.Store.next_ids`), with ``layout``.

    :meth:`add` converts a chunk in the caller's thread and writes it in a background thread
    (one chunk at a time: adding the next waits for the previous, so at most one chunk is held
    for writing). :meth:`close` waits for the last chunk and closes the file; only then may the
    store attach it.

    Raises
    ------
    StoreError
        ``store.staging`` when a chunk cannot be written (disk full, ...): the load stops, the store
        is unchanged.
    """

    def __init__(self, path: Path, types: dict[str, Any], layout: list[tuple] | None = None,
                 ids: tuple[int, int, int] | None = None) -> None:
        self.path = Path(path)
        self.types = types
        #: the ids the staged rows hold, for :meth:`~survey.store.Store.insert_staged` (None: none)
        self.preset = tuple(int(i) for i in ids) if layout is not None and ids is not None else None
        self._ddl = _declaration(layout) if self.preset is not None else None
        self.columns: list[str] | None = None
        self.rows = 0
        self._conn = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgi-staging")
        self._pending: Future | None = None

    def add(self, frame: pd.DataFrame) -> None:
        """Stage ``frame``'s rows (its columns: the fixed ``_`` columns and question columns)."""
        if frame.empty:
            return
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
        elif [str(c) for c in frame.columns] != self.columns:
            raise ValueError("every staged chunk must have the same columns")
        table = _arrow_table(frame, self.types)
        if self.preset is not None:
            table = _with_ids(table, self.preset[0] + self.rows, *self.preset[1:])
        self._wait()
        self._pending = self._pool.submit(self._write, table)
        self.rows += len(frame)

    def close(self) -> None:
        """Wait for the last chunk and close the staging file."""
        try:
            self._wait()
        finally:
            self._shut()

    def abandon(self) -> None:
        """Stop without committing (the load failed; its folder goes with the file)."""
        try:
            if self._pending is not None:
                self._pending.exception()  # let a write in progress finish before closing its connection
        finally:
            self._shut()

    def _shut(self) -> None:
        self._pending = None
        self._pool.shutdown(wait=True)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                pending.result()
            except Exception as exc:  # noqa: BLE001 - any driver or disk error stops the load
                raise StoreError(f"the prepared rows could not be written to {self.path}: "
                                 f"{exc.__class__.__name__}: {exc}", code="store.staging",
                                 hint="check the free space in the temporary folder, then load the file again",
                                 params={"path": str(self.path), "reason": f"{exc.__class__.__name__}: {exc}"}
                                 ) from None

    def _write(self, table) -> None:
        """Write one chunk (in the background thread: ADBC binds it in C, without the interpreter lock)."""
        if self._conn is None:
            import adbc_driver_sqlite.dbapi as adbc

            # autocommit: each chunk is its own transaction (the pragmas below may not run inside one)
            self._conn = adbc.connect(str(self.path), autocommit=True)
            with self._conn.cursor() as cursor:
                # a scratch file: no journal and no waiting for the disk (it is thrown away on any failure)
                cursor.execute("PRAGMA journal_mode = OFF")
                cursor.execute("PRAGMA synchronous = OFF")
                if self._ddl is not None:  # declared as the responses table is; rows added by name
                    cursor.execute(self._ddl)
            mode = "create" if self._ddl is None else "append"
        else:
            mode = "append"
        with self._conn.cursor() as cursor:
            cursor.adbc_ingest(STAGING_TABLE, table, mode=mode)


def iso_dates(series: pd.Series) -> list[str | None]:
    """A date column as the responses table keeps it on every store: ISO text, missing (None, NaN,
    ``pd.NA``, ``NaT``) as None.

    Each distinct date is written once, not once per row (a chunk holds few dates: a Python call per row
    was a tenth of staging a Kobo chunk, issue 18)."""
    try:
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # a cell that cannot be hashed: row by row
        return [None if d is pd.NaT else _iso(d) for d in series]
    table = np.array([_iso(d) for d in distinct] + [None], dtype=object)
    return table[codes].tolist()  # code -1 (missing) takes the last entry, None


def _iso(value: Any) -> str | None:
    """A date or time as ISO text; anything else (not a date) as None."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else None


def _declaration(layout: list[tuple]) -> str:
    """CREATE TABLE of the staging table, its columns declared as ``layout`` says (see :class:`StagedRows`)."""
    columns = [f'"{name}" {kind}{" NOT NULL" if not_null else ""}' for name, kind, not_null, _key in layout]
    keys = [f'"{name}"' for name, _kind, _null, key in layout if key]
    return (f'CREATE TABLE "{STAGING_TABLE}" ({", ".join(columns)}'
            f'{", PRIMARY KEY (" + ", ".join(keys) + ")" if keys else ""})')


def _with_ids(table, first: int, wave_id: int, load_id: int):
    """``table`` with each row's response id (``first``, ``first`` + 1, ...), wave and load in front."""
    import pyarrow as pa

    n = table.num_rows
    for name, values in (("_load_id", np.full(n, load_id, dtype=np.int64)),
                         ("_wave_id", np.full(n, wave_id, dtype=np.int64)),
                         ("_id", np.arange(first, first + n, dtype=np.int64))):
        table = table.add_column(0, name, pa.array(values))
    return table


def _arrow_table(frame: pd.DataFrame, types: dict[str, Any]):
    """``frame`` as an Arrow table of fixed types, so that every chunk has the same schema."""
    import pyarrow as pa

    arrays = [_arrow_column(frame[c], types.get(c), pa) for c in frame.columns]
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _arrow_column(series: pd.Series, sql_type: Any, pa):
    """One column as the responses table keeps it: float64 (NaN as NULL), int64, or text (dates as ISO)."""
    kind = sql_type if isinstance(sql_type, type) else type(sql_type)
    if kind is not None and issubclass(kind, Date):
        return pa.array(iso_dates(series), type=pa.string())
    if kind is not None and issubclass(kind, Integer) and series.dtype.kind in "iu":
        return pa.array(series.to_numpy(dtype=np.int64), type=pa.int64())
    if (kind is not None and issubclass(kind, (Float, Integer))) or series.dtype.kind in "fiub":
        return pa.array(series.to_numpy(dtype=np.float64, na_value=np.nan), type=pa.float64(), from_pandas=True)
    if is_arrow_text(series):  # Arrow texts as they are
        return arrow_strings(series).cast(pa.string())  # one schema for every chunk (pandas may hold large_string)
    # texts and codes ("1 3"): every kind of missing (None, NaN, pd.NA) as NULL
    return pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)
