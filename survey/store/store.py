"""The persistent store of waves, responses, loads, quarantine and raw files.

SQLAlchemy Core on an embedded SQLite file by default, or any SQLAlchemy URL
(PostgreSQL) for shared use. Tables:

- ``waves``: one per questionnaire and period (``2025-11``);
- ``responses_<questionnaire>``: tidy answers, one row per firm and wave,
  one typed column per question, plus ``_key`` (the response id) and
  ``_hash`` (a fingerprint of the answers);
- ``loads``: the audit log: file, SHA-256, size, time, user and the counts; a load
  removed (:meth:`Store.remove_load`) stays in it with who removed it, when and why;
- ``quarantine``: every refused row, raw, with its reasons;
- ``corrections``: every value set to missing in an accepted response (a rule broken
  on a question that is not critical), with the value as the file had it and why;
- ``raw_files``: each loaded file's bytes, once, so nothing is ever lost
  (unknown columns included).

Everything a load writes happens in one transaction (:meth:`Store.begin`):
if anything fails, the store is as before. On SQLite the transaction starts
with ``BEGIN IMMEDIATE``, so a second loader waits for the first instead of
failing halfway, and table changes are part of the transaction too.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy import (
    Column, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
    UniqueConstraint, and_, any_, bindparam, create_engine, delete, event, func, inspect, literal_column, select, true,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import StoreError
from ..lazy_import import lazy_module
from ..questionnaire import Questionnaire
from .staging import STAGING_SCHEMA, STAGING_TABLE, iso_dates

# imported at first use: `pgi-survey loads` and the web's lists need neither (issue 18)
np = lazy_module("numpy")
pd = lazy_module("pandas")

__all__ = ["Store", "LoadCounts", "default_url", "store_location", "response_table_name", "ENV_DB"]

#: the environment variable naming the store (a SQLAlchemy URL, or the path of a SQLite file)
ENV_DB = "PGI_SURVEY_DB"
#: the older name of :data:`ENV_DB`, still read after it
_ENV_DB_OLD = "PGI_DB"

metadata = MetaData()
waves = Table(
    "waves", metadata,
    Column("id", Integer, primary_key=True),
    Column("survey_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("questionnaire_version", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("survey_id", "period", name="uq_wave"),
)
loads = Table(
    "loads", metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", Integer, ForeignKey("waves.id"), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size_bytes", Integer, nullable=False),
    Column("format", String(16), nullable=False),
    Column("encoding", String(32)),
    Column("loaded_at", DateTime, nullable=False),
    Column("user_name", String(128)),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("already_present", Integer, nullable=False, default=0),
    Column("unknown_columns", Text),
    # responses accepted with corrections (not counted in ``accepted``); NULL in loads made before
    Column("corrected", Integer, default=0),
    # a removed load stays in the log: when, by whom, why, and the load that replaced it (if any)
    Column("removed_at", DateTime),
    Column("removed_by", String(128)),
    Column("removed_reason", Text),
    Column("replaced_by", Integer),
    # a one-row load made of a quarantined row of load ``release_of``, corrected and accepted: that row is
    # counted once in a wave's totals (read by the first load, stored by this one)
    Column("release_of", Integer),
    # that quarantined row as it was (JSON), put back in the quarantine if this load is removed
    Column("released_row", Text),
)
quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True),
    Column("load_id", Integer, ForeignKey("loads.id"), nullable=False, index=True),
    Column("wave_id", Integer, ForeignKey("waves.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("response_key", Text),
    Column("raw_hash", String(64), nullable=False, index=True),
    Column("raw", Text, nullable=False),
    Column("reasons", Text, nullable=False),
)
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True),
    Column("load_id", Integer, ForeignKey("loads.id"), nullable=False, index=True),
    Column("wave_id", Integer, ForeignKey("waves.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("response_key", Text, nullable=False),
    Column("question", String(64), nullable=False),
    Column("value", Text, nullable=False),  # as the file had it
    Column("reason", String(32), nullable=False),
    Column("params", Text, nullable=False),
)
raw_files = Table(
    "raw_files", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("compression", String(8), nullable=False, default="zlib"),
    Column("content", LargeBinary, nullable=False),
)
weightings = Table(
    "weightings", metadata,
    Column("id", Integer, primary_key=True),
    Column("survey_id", String(64), nullable=False),
    Column("period_from", String(7), nullable=False),
    Column("period_to", String(7), nullable=False),
    Column("margins_file", Text, nullable=False),
    Column("margins_sha256", String(64), nullable=False),
    Column("method", String(32), nullable=False),
    Column("rep_type", String(16)),
    Column("scale", Float),
    Column("rscales", Text),
    Column("created_at", DateTime, nullable=False),
    Column("summary", Text, nullable=False),
    Column("log", Text, nullable=False),
    # what the weighting leaves to show (margin check, weight summary, replicates left out), as JSON,
    # and its adjustment steps as numpy arrays (npz, no pickle) for linearised standard errors
    Column("diagnostics", Text),
    Column("steps", LargeBinary),
)
#: columns added after a table was first released: added to older stores when they are opened
_ADDED_COLUMNS = {"weightings": ("diagnostics", "steps"),
                  "loads": ("corrected", "removed_at", "removed_by", "removed_reason", "replaced_by", "release_of",
                            "released_row")}
#: rows of weights written by one INSERT, and read by one fetch, of the weights table
_WEIGHT_ROWS_PER_INSERT = 20_000


def _row_bytes(matrix: np.ndarray) -> list[bytes]:
    """Each row of a block of replicate weights as float64 bytes (``<f8``), from one conversion of the block."""
    block = np.ascontiguousarray(matrix, dtype="<f8")
    data, width = block.tobytes(), block.shape[1] * 8
    return [data[i * width:(i + 1) * width] for i in range(block.shape[0])]


weights_table = Table(
    "weights", metadata,
    Column("weighting_id", Integer, ForeignKey("weightings.id"), primary_key=True),
    Column("wave_id", Integer, ForeignKey("waves.id"), primary_key=True),
    Column("response_key", Text, primary_key=True),
    Column("weight", Float, nullable=False),
    Column("replicates", LargeBinary),  # float64 array, one value per replicate
)
official = Table(
    "official_pgi", metadata,
    Column("year", Integer, primary_key=True),
    Column("province", String(64), primary_key=True),
    Column("measure", String(8), primary_key=True),
    Column("score", Float, nullable=False),
    Column("rank", Float),
    Column("source", Text, nullable=False),
    Column("imported_at", DateTime, nullable=False),
)
FIXED = ("_id", "_wave_id", "_load_id", "_row", "_key", "_hash")


def default_url() -> str:
    """Where the store is when ``--db`` is not given: one place per user, whatever the current folder.

    ``$PGI_SURVEY_DB`` (or its older name ``$PGI_DB``) when set: a SQLAlchemy URL, or the
    path of a SQLite file. Else ``pgi_survey.sqlite`` in the user's data folder
    (``~/.local/share/pgi-survey`` on Linux, ``%LOCALAPPDATA%\\pgi-survey`` on Windows,
    ``~/Library/Application Support/pgi-survey`` on macOS).
    """
    for name in (ENV_DB, _ENV_DB_OLD):
        value = os.environ.get(name, "").strip()
        if value:
            return value if "://" in value else f"sqlite:///{Path(value).expanduser().absolute()}"
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('pgi-survey', appauthor=False)) / 'pgi_survey.sqlite'}"


def store_location(url: str | None = None) -> str:
    """The store a person is told about: the absolute path of a SQLite file, else the URL without password."""
    url = url or default_url()
    if url.startswith("sqlite:///") and url.removeprefix("sqlite:///") not in ("", ":memory:"):
        return str(Path(url.removeprefix("sqlite:///")).expanduser().absolute())
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: Store() will say so
        return url


@dataclass(frozen=True)
class LoadCounts:
    """What the loads of one wave did, summed over the loads not removed.

    ``read == accepted + corrected + quarantined + already_present``: every row
    read was stored as it was (``accepted``), stored with some values set to
    missing (``corrected``, "accepted with corrections"), refused
    (``quarantined``) or found already stored (``already_present``).
    """

    survey: str
    period: str
    loads: int = 0
    read: int = 0
    accepted: int = 0
    corrected: int = 0
    quarantined: int = 0
    already_present: int = 0

    @property
    def kept(self) -> int:
        """Responses stored by these loads, corrected or not."""
        return self.accepted + self.corrected


def _server_engine(url: str) -> Engine:
    """An engine for a database server; with psycopg, no server-side prepared statements.

    psycopg prepares a statement after five runs; PostgreSQL may then keep a
    generic plan made while a table was empty (a scan instead of the key
    index), which made the first large load into a new store many times slower.
    """
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.driver == "psycopg":
        engine.dispose()
        engine = create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    return engine


def response_table_name(survey_id: str) -> str:
    return f"responses_{survey_id}"


def _sql_type(qtype: str):
    return {"text": Text, "multiple": Text, "date": Date}.get(qtype, Float)


def _new_response_table(name: str, qn: Questionnaire) -> Table:
    """The responses table a questionnaire gets when its first rows are stored (not created here)."""
    # the keys' uniqueness as an index of its own, not a table constraint: SQLite can drop an index and
    # build it again (see :meth:`Store.insert_staged`), not a constraint (stores made before hold the
    # constraint, which keeps working)
    return Table(name, MetaData(), *_fixed_columns(), *[Column(q.id, _sql_type(q.type)()) for q in qn.questions],
                 Index(f"uq_{name}_key", "_wave_id", "_key", unique=True))


def _largest_id(conn: Connection, table: str) -> int:
    """The largest response id in the store's ``table`` (0 when empty): one look-up of the rowid, not a count."""
    return conn.exec_driver_sql(f'SELECT max("_id") FROM main."{table}"').scalar() or 0


def _declared(conn: Connection, schema: str, table: str) -> list[tuple]:
    """How SQLite declares each column of ``schema.table``: (name, type, NOT NULL, default, primary key)."""
    return [tuple(r[1:]) for r in conn.exec_driver_sql(f'PRAGMA {schema}.table_info("{table}")')]


def _fixed_columns() -> list[Column]:
    """The columns every responses table has before its questions' (new objects: a Column belongs to one
    table): the row's id, its wave and load, its row in the file, its key and its answers' fingerprint."""
    return [Column("_id", Integer, primary_key=True),
            Column("_wave_id", Integer, ForeignKey(waves.c.id), nullable=False),
            Column("_load_id", Integer, ForeignKey(loads.c.id), nullable=False),
            Column("_row", Integer, nullable=False),
            Column("_key", Text, nullable=False),
            Column("_hash", String(32), nullable=False)]


#: How long a load waits for another load's commit before giving up, in seconds
#: (``$PGI_BUSY_TIMEOUT``). Loads hold the write lock only to store what they
#: prepared, so a wait is that part of the other load, not the whole of it.
BUSY_TIMEOUT = float(os.environ.get("PGI_BUSY_TIMEOUT", 600))
_WRITE = "pgi_write"
#: SQLite's page cache per connection, in KiB
SQLITE_CACHE_KIB = 262_144
#: a staged copy of at least this many rows (and at least twice as many as its table holds) rebuilds the
#: table's indexes after the rows instead of inserting into them (see :meth:`Store.insert_staged`)
REBUILD_MIN_ROWS = 10_000


def _disk_full(exc: DBAPIError) -> bool:
    """Whether a driver's error says the disk (or the database's size limit) is full: SQLite's
    SQLITE_FULL (13), PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = exc.orig
    return getattr(orig, "sqlite_errorcode", None) == 13 or getattr(orig, "sqlstate", None) == "53100"


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, so DDL is transactional too.

    Writers start with ``BEGIN IMMEDIATE`` (the write lock at once, so a second
    writer waits instead of failing halfway); readers with a plain ``BEGIN``,
    which in WAL mode never waits for a writer nor makes one wait.
    """
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        # up to 256 MiB of page cache (taken only as used; the default is 2 MiB): the key and hash
        # indexes of a wave of a million responses no longer fit the default, and every insert at a
        # random place in them went to the file (issue 18)
        dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


class Store:
    """A connection to the store.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL, or the path of a SQLite file; default :func:`default_url`.
    create : bool
        Create a SQLite store that does not exist yet (default). With False, a missing
        SQLite file is an error and nothing is created (for commands that only read).

    Raises
    ------
    StoreError
        If the database cannot be opened or its tables created; ``store.missing`` when
        ``create`` is False and the SQLite file does not exist.
    """

    def __init__(self, url: str | None = None, *, create: bool = True) -> None:
        self.url = url or default_url()
        self._ensured: set[frozenset[str]] = set()  # other modules' tables known present (ensure_tables)
        if "://" not in self.url:  # a file path: a SQLite store
            self.url = f"sqlite:///{Path(self.url).expanduser().absolute()}"
        try:
            if self.url.startswith("sqlite:///"):
                path = Path(self.url.removeprefix("sqlite:///"))
                if str(path) not in ("", ":memory:") and not create and not path.is_file():
                    raise StoreError(f"there is no store at {self.location}", code="store.missing",
                                     params={"location": self.location})
                if str(path) not in ("", ":memory:"):
                    path.parent.mkdir(parents=True, exist_ok=True)
                self.engine = create_engine(self.url, connect_args={"timeout": BUSY_TIMEOUT})
                _sqlite_transactions(self.engine)
            else:
                self.engine = _server_engine(self.url)
            with self.read() as conn:
                missing = [t for t in metadata.sorted_tables if not inspect(conn).has_table(t.name)]
                added = [(t, c) for t, cols in _ADDED_COLUMNS.items() if t not in {m.name for m in missing}
                         for c in cols if c not in {col["name"] for col in inspect(conn).get_columns(t)}]
            if missing or added:  # only a new or older store takes the write lock on opening
                with self.begin() as conn:
                    metadata.create_all(conn)
                    for table, column in added:
                        kind = metadata.tables[table].c[column].type.compile(dialect=conn.dialect)
                        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store {self.safe_url}: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}", code="store.open",
                             params={"url": self.safe_url, "kind": exc.__class__.__name__,
                                     "reason": str(exc).splitlines()[0]}) from None
        except ImportError as exc:
            raise StoreError(f"the database driver for {self.safe_url} is not installed ({exc.name})",
                             hint="for PostgreSQL: pip install 'psycopg[binary]'", code="store.driver",
                             params={"url": self.safe_url, "module": exc.name}) from None

    def ensure_tables(self, tables: MetaData) -> None:
        """Create those of ``tables`` (a module's own, e.g. the web page's accounts) the store does not
        have yet, under the write lock, so a store made before them gains them without touching the others.

        Looked at once per Store object: the web page asks on every request, where inspecting the schema
        cost three queries a page."""
        names = frozenset(tables.tables)
        if names in self._ensured:
            return
        with self.read() as conn:
            missing = [t for t in tables.sorted_tables if not inspect(conn).has_table(t.name)]
        if missing:
            with self.begin() as conn:
                tables.create_all(conn)
        self._ensured.add(names)

    @property
    def file(self) -> Path | None:
        """The database file of a SQLite store (None for a server): an input no output may replace."""
        if self.url.startswith("sqlite:///") and self.url.removeprefix("sqlite:///") not in ("", ":memory:"):
            return Path(self.url.removeprefix("sqlite:///"))
        return None

    @property
    def location(self) -> str:
        """Where the store is, for people: a SQLite file's absolute path, or the URL without its password."""
        return store_location(self.url)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") else self.url

    @contextmanager
    def begin(self, *, staged: Path | None = None) -> Iterator[Connection]:
        """One transaction: committed at the end, rolled back on any error.

        Writers are serialised, so two staff loading at once both succeed, one after the
        other: SQLite's ``BEGIN IMMEDIATE`` takes the write lock at the start; on
        PostgreSQL a transaction-scoped advisory lock does the same (it guards the
        creation of waves and tables, which two first loads could otherwise race for).

        ``staged``: a closed staging file (:class:`~survey.store.staging.StagedRows`, SQLite
        stores only) attached for the transaction, for :meth:`insert_staged` (SQLite attaches
        only outside a transaction, so before it begins; detached after it ends).
        """
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn:
            driver = conn.connection.driver_connection if staged is not None else None
            if driver is not None:
                # SQLite moves staged records whole only where foreign keys are not enforced (they can be
                # switched only outside a transaction, so for the whole load's): its rows' wave and load
                # are the ids it has just made under the lock (:meth:`insert_staged`); on again after
                driver.execute("PRAGMA foreign_keys = OFF")
                try:
                    driver.execute(f"ATTACH DATABASE ? AS {STAGING_SCHEMA}", (str(staged),))
                except BaseException:
                    driver.execute("PRAGMA foreign_keys = ON")
                    raise
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7202511)")
                    yield conn
            except DBAPIError as exc:
                if _disk_full(exc):  # not a bug: staff are told what to do, and that nothing was saved
                    raise StoreError(f"the disk holding the store {self.location} is full; nothing was saved",
                                     code="store.disk_full", params={"location": self.location},
                                     hint="free space on that disk (or move the store), then do it again") from None
                raise
            finally:
                if driver is not None:
                    try:
                        driver.execute(f"DETACH DATABASE {STAGING_SCHEMA}")
                    finally:
                        driver.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading: never takes the write lock, never waits for a writer.

        On SQLite (WAL) it sees the store as it was when its first query ran,
        until it is closed.
        """
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------ waves and tables

    def wave_id(self, conn: Connection, qn: Questionnaire, period: str) -> int:
        """The id of the wave (questionnaire, period), created if new."""
        found = conn.execute(select(waves.c.id).where(waves.c.survey_id == qn.id, waves.c.period == period)).first()
        if found:
            return found[0]
        res = conn.execute(waves.insert().values(survey_id=qn.id, period=period, questionnaire_version=qn.version,
                                                 created_at=dt.datetime.now()))
        return res.inserted_primary_key[0]

    def find_wave(self, conn: Connection, survey_id: str, period: str) -> int | None:
        """The id of the wave (questionnaire, period), or None if nothing was loaded into it."""
        found = conn.execute(select(waves.c.id).where(waves.c.survey_id == survey_id,
                                                      waves.c.period == period)).first()
        return None if found is None else found[0]

    def existing_response_table(self, conn: Connection, qn: Questionnaire) -> Table | None:
        """The responses table of a questionnaire as it is, or None; never creates or changes it."""
        name = response_table_name(qn.id)
        return Table(name, MetaData(), autoload_with=conn) if inspect(conn).has_table(name) else None

    def last_load_id(self, conn: Connection) -> int:
        """The id of the newest committed load (0 for none): a mark to see later loads by."""
        return conn.execute(select(func.max(loads.c.id))).scalar() or 0

    def loaded_since(self, conn: Connection, survey_id: str, period: str, mark: int) -> bool:
        """Whether a load into this wave was committed after ``mark`` (see :meth:`last_load_id`)."""
        query = (select(loads.c.id).join(waves, loads.c.wave_id == waves.c.id)
                 .where(waves.c.survey_id == survey_id, waves.c.period == period, loads.c.id > mark).limit(1))
        return conn.execute(query).first() is not None

    def analyse(self, conn: Connection, table: Table) -> None:
        """Refresh the planner's statistics of a table (PostgreSQL; SQLite plans without them)."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f'ANALYZE "{table.name}"')

    def response_table(self, conn: Connection, qn: Questionnaire) -> Table:
        """The responses table of a questionnaire, created or widened to hold every question."""
        name = response_table_name(qn.id)
        inspector = inspect(conn)
        wanted = [(q.id, _sql_type(q.type)) for q in qn.questions]
        if not inspector.has_table(name):
            _new_response_table(name, qn).create(conn)
        if f"ix_{name}_hash" not in {i["name"] for i in inspect(conn).get_indexes(name)}:
            # Only responses with a real id: a content-keyed one ("h:<hash>") is found by its key.
            table = Table(name, MetaData(), autoload_with=conn)
            where = _real_id_keys(table)
            # the condition for this store's dialect only: naming another's (postgresql_where) makes
            # SQLAlchemy import that dialect to check the name (27 ms of a first SQLite load)
            Index(f"ix_{name}_hash", table.c._wave_id, table.c._hash,
                  **{f"{conn.dialect.name}_where": where}).create(conn)
        have = {c["name"] for c in inspector.get_columns(name)}
        for qid, typ in wanted:  # a new questionnaire version may add questions
            if qid not in have:
                col_type = typ().compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{name}" ADD COLUMN "{qid}" {col_type}')
        return Table(name, MetaData(), autoload_with=conn)

    @property
    def stages(self) -> bool:
        """Whether loads stage their rows in a file of their own (:mod:`survey.store.staging`): SQLite
        stores; a server has its own bulk path (``COPY``)."""
        return self.engine.dialect.name == "sqlite"

    def staging_layout(self, conn: Connection, qn: Questionnaire,
                       table: Table | None) -> list[tuple[str, str, bool, bool]] | None:
        """The columns of a questionnaire's responses table as SQLite declares them, as the table is
        (``table``: :meth:`existing_response_table`) or, when None, as a load will create it: (name, type,
        NOT NULL, primary key), in the table's order. A staging file's table declared alike lets
        :meth:`insert_staged` move whole records. None on a server, when the load will add columns to the
        table (a new questionnaire version), or the table has defaults."""
        if conn.dialect.name != "sqlite":
            return None
        if table is None:
            return [(c.name, c.type.compile(dialect=conn.dialect), not c.nullable, c.primary_key)
                    for c in _new_response_table(response_table_name(qn.id), qn).columns]
        declared = _declared(conn, "main", table.name)
        if any(d[3] is not None for d in declared) or {q.id for q in qn.questions} - {d[0] for d in declared}:
            return None
        return [(d[0], d[1], bool(d[2]), bool(d[4])) for d in declared]

    def next_ids(self, conn: Connection, table: Table | None, wave_id: int | None) -> tuple[int, int, int]:
        """(first response id, wave id, load id) a load would be given were it stored now: after the largest
        response id and load id (SQLite gives a new row the largest id plus one), the wave's id or, for a
        new wave, the next. Seen from ``conn``; another load may take them first (:meth:`insert_staged`
        looks again under the lock)."""
        first = _largest_id(conn, table.name) + 1 if table is not None else 1
        wave = wave_id if wave_id is not None else (conn.execute(select(func.max(waves.c.id))).scalar() or 0) + 1
        return first, wave, self.last_load_id(conn) + 1

    @staticmethod
    def response_types(qn: Questionnaire) -> dict[str, Any]:
        """Column -> SQLAlchemy type of a questionnaire's responses table (fixed columns and questions)."""
        return {**{c.name: c.type for c in _fixed_columns()}, **{q.id: _sql_type(q.type) for q in qn.questions}}

    # ------------------------------------------------------------ loads

    def loads_of_file(self, conn: Connection, survey_id: str, sha256: str) -> list[tuple[int, str]]:
        """Earlier loads of the same file content for a questionnaire, not removed: (load id, period)."""
        rows = conn.execute(select(loads.c.id, waves.c.period).join(waves, loads.c.wave_id == waves.c.id)
                            .where(waves.c.survey_id == survey_id, loads.c.sha256 == sha256,
                                   loads.c.removed_at.is_(None))).all()
        return [(r[0], r[1]) for r in rows]

    def archive_file(self, conn: Connection, path: Path, sha256: str, size: int,
                     compressed: bytes | None = None) -> None:
        """Keep the file's bytes (compressed with :data:`ARCHIVE_CODEC`), once per content.

        ``compressed`` may be given when the caller compressed the file already with
        :func:`archive_packer` (ingest does it in a worker thread while rows are being processed).
        """
        if conn.execute(select(raw_files.c.sha256).where(raw_files.c.sha256 == sha256)).first() is None:
            if compressed is None:
                packer = archive_packer()
                compressed = packer.compress(path.read_bytes()) + packer.flush()
            conn.execute(raw_files.insert().values(sha256=sha256, file_name=path.name, size_bytes=size,
                                                   compression=ARCHIVE_CODEC, content=compressed))

    def read_raw_file(self, sha256: str) -> bytes:
        """The bytes of a loaded file, as they were.

        Raises
        ------
        StoreError
            If no file with that SHA-256 was ever loaded.
        """
        with self.read() as conn:
            row = conn.execute(select(raw_files.c.content, raw_files.c.compression)
                               .where(raw_files.c.sha256 == sha256)).first()
        if row is None:
            raise StoreError(f"no loaded file has SHA-256 {sha256}", code="store.no_file", params={"sha256": sha256})
        if row[1] == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(bytes(row[0])) as reader:
                return reader.read()
        return zlib.decompress(row[0]) if row[1] == "zlib" else bytes(row[0])  # files archived before issue 18

    def start_load(self, conn: Connection, wave_id: int, *, file_name: str, sha256: str, size: int,
                   format: str, encoding: str | None, user: str | None = None) -> int:
        res = conn.execute(loads.insert().values(
            wave_id=wave_id, file_name=file_name, sha256=sha256, size_bytes=size, format=format,
            encoding=encoding, loaded_at=dt.datetime.now(), user_name=user or _user(),
            rows_read=0, accepted=0, quarantined=0, already_present=0))
        return res.inserted_primary_key[0]

    def finish_load(self, conn: Connection, load_id: int, *, rows_read: int, accepted: int, quarantined: int,
                    already_present: int, unknown_columns: Sequence[str], corrected: int = 0) -> None:
        conn.execute(update(loads).where(loads.c.id == load_id).values(
            rows_read=rows_read, accepted=accepted, quarantined=quarantined, already_present=already_present,
            corrected=corrected, unknown_columns=json.dumps(list(unknown_columns), ensure_ascii=False)))

    def load_info(self, conn: Connection, load_id: int) -> dict[str, Any]:
        """One load of the audit log: id, survey, period, wave_id, file_name, sha256, removed_at...

        Raises
        ------
        StoreError
            ``store.no_load`` when no load has that number.
        """
        row = conn.execute(select(loads, waves.c.survey_id.label("survey"), waves.c.period)
                           .join(waves, loads.c.wave_id == waves.c.id).where(loads.c.id == int(load_id))
                           ).mappings().first()
        if row is None:
            raise StoreError(f"there is no load #{load_id}", hint="see the numbers with: pgi-survey loads",
                             code="store.no_load", params={"load": load_id})
        return dict(row)

    def remove_load(self, conn: Connection, load_id: int, *, user: str | None = None, reason: str | None = None,
                    replaced_by: int | None = None) -> dict[str, Any]:
        """Take a load's responses, quarantined rows and corrections out of the store, inside ``conn``'s
        transaction; the load stays in the audit log, marked removed by ``user`` for ``reason``.

        The file's bytes stay archived, so the load can be made again (the same file may then be
        loaded as if new). Returns what was removed: ``load``, ``survey``, ``period``, ``responses``,
        ``quarantined``, ``corrections``; and ``restored``: when the load was a corrected quarantined row
        (:meth:`release_quarantined`), the number of the load whose quarantine it is back in, else None.

        Raises
        ------
        StoreError
            ``store.no_load`` for an unknown number, ``store.load_removed`` for a load removed before.
        """
        info = self.load_info(conn, load_id)
        if info["removed_at"] is not None:
            raise StoreError(f"load #{load_id} was already removed on {info['removed_at']:%Y-%m-%d %H:%M}",
                             code="store.load_removed",
                             params={"load": load_id, "when": f"{info['removed_at']:%Y-%m-%d %H:%M}",
                                     "user": info["removed_by"] or ""})
        name = response_table_name(info["survey"])
        responses = 0
        if inspect(conn).has_table(name):
            table = Table(name, MetaData(), autoload_with=conn)
            responses = conn.execute(delete(table).where(table.c._load_id == int(load_id))).rowcount
        quarantined = conn.execute(delete(quarantine).where(quarantine.c.load_id == int(load_id))).rowcount
        corrected = conn.execute(delete(corrections).where(corrections.c.load_id == int(load_id))).rowcount
        restored = self._restore_released(conn, load_id)
        conn.execute(update(loads).where(loads.c.id == int(load_id)).values(
            removed_at=dt.datetime.now(), removed_by=user or _user(), removed_reason=reason or "",
            replaced_by=replaced_by))
        return {"load": int(load_id), "survey": info["survey"], "period": info["period"], "responses": responses,
                "quarantined": quarantined, "corrections": corrected, "restored": restored}

    def _restore_released(self, conn: Connection, load_id: int) -> int | None:
        """When ``load_id`` released a quarantined row (:meth:`release_quarantined`) whose own load still
        stands, put that row back in the quarantine, as it was (under its number when that is free):
        removing the correction must not lose the row. Returns that load's number, or None."""
        released = conn.execute(select(loads.c.release_of, loads.c.released_row)
                                .where(loads.c.id == int(load_id))).first()
        if released is None or released[0] is None or not released[1]:
            return None
        first = conn.execute(select(loads.c.removed_at).where(loads.c.id == int(released[0]))).first()
        if first is None or first[0] is not None:  # its own load was removed: its quarantine went with it
            return None
        row = json.loads(released[1])
        if conn.execute(select(quarantine.c.id).where(quarantine.c.id == row["id"])).first() is not None:
            row.pop("id")
        conn.execute(quarantine.insert().values(**{k: v for k, v in row.items() if k in quarantine.c}))
        return int(released[0])

    def mark_replaced(self, conn: Connection, load_id: int, by: int) -> None:
        """Note in the audit log that removed load ``load_id`` was replaced by load ``by``."""
        conn.execute(update(loads).where(loads.c.id == int(load_id)).values(replaced_by=int(by)))

    def load_counts(self, survey_id: str, period: str) -> LoadCounts:
        """What the loads of one wave (``survey_id``, ``period`` as ``YYYY-MM``) did, summed over those
        not removed: rows read, accepted, accepted with corrections, quarantined, already present.

        For the digest and the load reports: ``read == accepted + corrected + quarantined +
        already_present`` always holds. A wave never loaded gives zeros.
        """
        live = (waves.c.survey_id == survey_id, waves.c.period == period, loads.c.removed_at.is_(None))
        query = (select(func.count(loads.c.id), func.sum(loads.c.rows_read), func.sum(loads.c.accepted),
                        func.sum(func.coalesce(loads.c.corrected, 0)), func.sum(loads.c.quarantined),
                        func.sum(loads.c.already_present))
                 .join(waves, loads.c.wave_id == waves.c.id).where(*live))
        # a released row (a quarantined row corrected and accepted as a load of its own) was read by its
        # first load and is stored by the second: counted once, as stored, while both loads stand
        first = loads.alias("first")
        released = (select(func.count(loads.c.id)).join(waves, loads.c.wave_id == waves.c.id)
                    .join(first, first.c.id == loads.c.release_of).where(*live, first.c.removed_at.is_(None)))
        with self.read() as conn:
            row = conn.execute(query).first()
            twice = int(conn.execute(released).scalar() or 0)
        count, read, accepted, corrected, quarantined, present = [int(v or 0) for v in row]
        return LoadCounts(survey_id, period, count, read - twice, accepted, corrected, quarantined - twice, present)

    def release_quarantined(self, conn: Connection, quarantine_id: int, load_id: int) -> int:
        """Inside the transaction that stored load ``load_id`` (one corrected row): take quarantined row
        ``quarantine_id`` out of the quarantine and mark the load as its release; return the row's load.

        Raises
        ------
        StoreError
            ``web.no_quarantined_row`` when the row is no longer quarantined (released or removed meanwhile).
        """
        found = conn.execute(select(quarantine).where(quarantine.c.id == int(quarantine_id))).mappings().first()
        if found is None:
            raise StoreError(f"there is no quarantined row #{quarantine_id}", code="web.no_quarantined_row",
                             params={"row": int(quarantine_id)})
        conn.execute(delete(quarantine).where(quarantine.c.id == int(quarantine_id)))
        # the row as it was goes with the load that released it: removing that load puts it back
        conn.execute(update(loads).where(loads.c.id == int(load_id)).values(
            release_of=int(found["load_id"]), released_row=json.dumps(dict(found), ensure_ascii=False)))
        return int(found["load_id"])

    def stored_keys(self, conn: Connection, table: Table | None, wave_id: int | None,
                    keys: Sequence[str], exclude_load: int | None = None) -> dict[str, tuple[str, int]]:
        """Of ``keys``, those already stored in the wave: key -> (answer hash, load id).

        ``exclude_load``: a load about to be replaced, whose responses do not count.
        """
        if table is None or wave_id is None:
            return {}
        other = table.c._load_id != exclude_load if exclude_load is not None else true()
        rows = _in_batches(conn, keys, lambda one_of: select(table.c._key, table.c._hash, table.c._load_id)
                           .where(table.c._wave_id == wave_id, one_of(table.c._key), other))
        return {r[0]: (r[1], r[2]) for r in rows}

    def insert_responses(self, conn: Connection, table: Table, frame: pd.DataFrame) -> None:
        """Insert typed answers; ``frame`` has the ``_`` columns and question columns."""
        if frame.empty:
            return
        columns = [c for c in frame.columns if c in table.c]
        nan_is_null = conn.dialect.name == "sqlite"  # SQLite stores a bound NaN as NULL
        values = [_column_values(frame[c], table.c[c].type, nan_is_null) for c in columns]
        names = ", ".join(f'"{c}"' for c in columns)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        # Column-wise lists zipped into rows for the driver: no Python call per cell
        # on the numeric columns that make up most of a large load.
        cursor = conn.connection.cursor()
        try:
            if hasattr(cursor, "copy"):  # psycopg 3: COPY, the server's bulk path (one statement, rows streamed)
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in zip(*values):
                        copy.write_row(row)
            else:  # SQLite: one prepared statement for the chunk, in the load's transaction
                cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join([mark] * len(columns))})',
                                   zip(*values))
        finally:
            cursor.close()

    def insert_staged(self, conn: Connection, table: Table, columns: Sequence[str], wave_id: int,
                      load_id: int, *, preset: tuple[int, int, int] | None = None) -> int:
        """Copy the rows of the attached staging file (see :meth:`begin`) into ``table``, in the order
        they were staged, under ``wave_id`` and ``load_id``: one ``INSERT ... SELECT``, no value passing
        through Python. ``columns``: the staged columns. Returns the rows copied.

        ``preset``: (first response id, wave id, load id) the staged rows already hold, in a table
        declared as ``table`` is (:meth:`staging_layout`, :meth:`next_ids`). When those are still this
        load's ids, no stored response has an id as large, and the two tables are declared alike, the
        copy is ``INSERT ... SELECT *``, which SQLite carries out by moving each record whole (its
        "transfer optimisation": 100,000 rows x 300 answers in 0.06 s instead of 0.8 s decoding and
        encoding every value) where the table has no index to keep (dropped below, or none) and foreign
        keys are not enforced (:meth:`begin` with ``staged``); else it copies value by value, as correct.
        Otherwise (another load took the ids first, the table was widened) the named columns are copied.

        A copy of at least :data:`REBUILD_MIN_ROWS` rows, and at least twice as many as the table
        holds, drops the table's indexes and builds them again after the rows, in the same transaction:
        SQLite builds an index by sorting its keys once, where inserting a random key (a Kobo
        ``_uuid``, an answers' fingerprint) into each index one row at a time costs more (1,000,000
        Kobo rows into a new table: 4.3 s with the indexes, 0.9 s without plus 2.0 s to build them).
        A rebuild sorts the rows held too: 1,000,000 rows into a table of as many took as long either
        way (3.6-3.8 s kept, 3.9-4.5 s rebuilt), hence twice. The keys were checked before the copy;
        were one duplicated all the same, building the unique index fails and the whole load is rolled
        back, as the copy itself would have failed.

        Raises
        ------
        sqlalchemy.exc.IntegrityError
            a staged key already in the wave or staged twice (prevented by the load's checks).
        """
        names = ", ".join(f'"{c}"' for c in columns if c in table.c and c not in ("_id", "_wave_id", "_load_id"))
        held = _largest_id(conn, table.name)
        whole = preset is not None and self._staged_as_stored(conn, table.name, held, preset, wave_id, load_id)
        rebuilt = self._indexes_to_rebuild(conn, table.name, held)
        for index, _sql in rebuilt:
            conn.exec_driver_sql(f'DROP INDEX main."{index}"')
        if whole:  # the staged ids are this load's, and the records are laid out as the table's
            result = conn.exec_driver_sql(f'INSERT INTO main."{table.name}" SELECT * FROM '
                                          f'{STAGING_SCHEMA}."{STAGING_TABLE}"')
        else:
            result = conn.exec_driver_sql(
                f'INSERT INTO main."{table.name}" ("_wave_id", "_load_id", {names}) '
                f'SELECT ?, ?, {names} FROM {STAGING_SCHEMA}."{STAGING_TABLE}" ORDER BY rowid',
                (int(wave_id), int(load_id)))
        for _index, sql in rebuilt:
            conn.exec_driver_sql(sql)
        return int(result.rowcount)

    @staticmethod
    def _staged_as_stored(conn: Connection, table: str, held: int, preset: tuple[int, int, int], wave_id: int,
                          load_id: int) -> bool:
        """Whether the staged rows may be copied whole: they hold this load's wave and load ids, ids after
        every stored response's (the largest: ``held``), and their table is declared as ``table`` is (see
        :meth:`insert_staged`)."""
        first, wave, load = preset
        if (wave, load) != (wave_id, load_id):
            return False
        return held < first and _declared(conn, STAGING_SCHEMA, STAGING_TABLE) == _declared(conn, "main", table)

    @staticmethod
    def _indexes_to_rebuild(conn: Connection, table: str, held: int) -> list[tuple[str, str]]:
        """(name, SQL that creates it) of each index of ``table`` to drop before the staged copy and
        build after it: every index that can be dropped (not a constraint's) when the staging file
        holds at least :data:`REBUILD_MIN_ROWS` rows and at least twice as many as ``table``, whose
        largest id ``held`` bounds its rows from above (ids are distinct); else none."""
        # rowids are consecutive (from 1, or from the first preset id): two look-ups, not a count (one
        # query with both min() and max() would read every row: SQLite looks one up only when it is alone)
        rows = f'{STAGING_SCHEMA}."{STAGING_TABLE}"'
        staged = conn.exec_driver_sql(f"SELECT (SELECT max(rowid) FROM {rows}) - (SELECT min(rowid) FROM {rows}) + 1"
                                      ).scalar() or 0
        if staged < REBUILD_MIN_ROWS or staged < 2 * held:
            return []
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
            "ORDER BY name", (table,))]

    def holds_other_keys(self, conn: Connection, table: Table | None, wave_id: int | None, keyed: bool) -> bool:
        """Whether the wave holds any response that :meth:`same_answers` could find for rows keyed so:
        a content-keyed one (``h:<hash>``) for rows with a real id (``keyed``), one with a real id for rows
        without. One look-up through an index, so that a load can skip :meth:`same_answers` for every
        chunk when there is none (the usual wave: every response keyed one way; 0.6 s of a million rows)."""
        if table is None or wave_id is None:
            return False
        # keyed rows look up exactly "h:" + fingerprint: on SQLite a range of the key index (texts compared
        # byte by byte); elsewhere LIKE, since a server's collation may order "h:..." outside that range (a
        # case-insensitive LIKE would only find more, never less). The others, responses with a real id,
        # through the partial fingerprint index (its condition written as it is declared)
        if not keyed:
            other = _real_id_keys(table)
        elif conn.dialect.name == "sqlite":
            other = and_(table.c._key >= "h:", table.c._key < "h;")
        else:
            other = table.c._key.like(literal_column("'h:%'"))
        # the fingerprint selected, so that the partial index holds all the query reads (SQLite then takes it)
        return conn.execute(select(table.c._hash).where(table.c._wave_id == wave_id, other).limit(1)).first() is not None

    def same_answers(self, conn: Connection, table: Table | None, wave_id: int | None, hashes: Sequence[str],
                     keyed: bool, exclude_load: int | None = None) -> dict[str, str]:
        """Stored responses of the wave with these answer fingerprints, but the other kind of key.

        For rows with a real id (``keyed``), the stored content-keyed responses
        (``h:<hash>``); for rows without, the stored responses that have a real
        id. Returns hash -> the stored response's key.
        """
        if table is None or wave_id is None:
            return {}
        other = table.c._load_id != exclude_load if exclude_load is not None else true()

        if keyed:  # the content key of each fingerprint, looked up as a key (a content-keyed row's _hash is
            # the same fingerprint, so the key decides)
            rows = _in_batches(conn, ["h:" + h for h in hashes], lambda one_of: select(table.c._hash, table.c._key)
                               .where(table.c._wave_id == wave_id, one_of(table.c._key), other))
        else:
            rows = _in_batches(conn, hashes, lambda one_of: select(table.c._hash, table.c._key).where(
                table.c._wave_id == wave_id, one_of(table.c._hash), _real_id_keys(table), other))
        return {r[0]: r[1] for r in rows}

    def quarantined_hashes(self, conn: Connection, wave_id: int | None, hashes: Sequence[str],
                           exclude_load: int | None = None) -> set[str]:
        """Of ``hashes`` (fingerprints of raw rows), those already quarantined in the wave."""
        if wave_id is None:
            return set()
        other = quarantine.c.load_id != exclude_load if exclude_load is not None else true()
        rows = _in_batches(conn, hashes, lambda one_of: select(quarantine.c.raw_hash).where(
            quarantine.c.wave_id == wave_id, one_of(quarantine.c.raw_hash), other))
        return {r[0] for r in rows}

    def insert_quarantine(self, conn: Connection, records: list[dict[str, Any]]) -> None:
        if records:
            conn.execute(quarantine.insert(), records)

    def insert_corrections(self, conn: Connection, records: list[dict[str, Any]]) -> None:
        """Record values set to missing in accepted responses (``load_id``, ``wave_id``, ``row_number``,
        ``response_key``, ``question``, ``value``, ``reason``, ``params`` as JSON)."""
        if records:
            conn.execute(corrections.insert(), records)

    def read_corrections(self, load_id: int | None = None) -> pd.DataFrame:
        """Values set to missing in accepted responses (params as parsed JSON), optionally of one load."""
        return self._read_of_load(corrections, load_id, ("params",))

    def _read_of_load(self, table: Table, load_id: int | None, json_columns: tuple[str, ...]) -> pd.DataFrame:
        """A per-load table's rows in order (of one load when given), its JSON columns parsed."""
        query = select(table).order_by(table.c.id)
        if load_id is not None:
            query = query.where(table.c.load_id == load_id)
        with self.read() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=[c.name for c in table.c])
        for col in json_columns:
            frame[col] = frame[col].map(json.loads)
        return frame

    # ------------------------------------------------------------ weights

    def save_weights(self, survey_id: str, period_from: str, period_to: str, *, keys: pd.DataFrame,
                     weights: np.ndarray, repweights: np.ndarray | None, meta: dict[str, Any]) -> int:
        """Store one weighting (in one transaction); return its id.

        ``keys`` has the ``period`` and ``response_key`` of each weighted response.
        """
        with self.begin() as conn:
            res = conn.execute(weightings.insert().values(
                survey_id=survey_id, period_from=period_from, period_to=period_to, created_at=dt.datetime.now(),
                margins_file=meta["margins_file"], margins_sha256=meta["margins_sha256"], method=meta["method"],
                rep_type=meta.get("rep_type"), scale=meta.get("scale"),
                rscales=json.dumps(meta.get("rscales")), summary=json.dumps(meta["summary"]),
                log=json.dumps(meta["log"], ensure_ascii=False),
                diagnostics=json.dumps(meta.get("diagnostics"), ensure_ascii=False, default=float),
                steps=meta.get("steps")))
            wid = res.inserted_primary_key[0]
            wave_ids = dict(conn.execute(select(waves.c.period, waves.c.id)
                                         .where(waves.c.survey_id == survey_id)).all())
            periods, response_keys = keys["period"].tolist(), keys["response_key"].tolist()
            for first in range(0, len(weights), _WEIGHT_ROWS_PER_INSERT):  # a chunk at a time: no 1M dicts
                last = min(first + _WEIGHT_ROWS_PER_INSERT, len(weights))
                blobs = [None] * (last - first) if repweights is None else _row_bytes(repweights[first:last])
                conn.execute(weights_table.insert(), [
                    {"weighting_id": wid, "wave_id": wave_ids[periods[i]], "response_key": response_keys[i],
                     "weight": float(weights[i]), "replicates": blobs[i - first]} for i in range(first, last)])
        return wid

    def latest_weighting(self, survey_id: str, period_from: str, period_to: str) -> dict[str, Any] | None:
        """The newest weighting of exactly this survey and period range, or None."""
        with self.read() as conn:
            row = conn.execute(select(weightings).where(
                weightings.c.survey_id == survey_id, weightings.c.period_from == period_from,
                weightings.c.period_to == period_to).order_by(weightings.c.id.desc())).mappings().first()
        if row is None:
            return None
        out = dict(row)
        for key in ("rscales", "summary", "log", "diagnostics"):
            out[key] = json.loads(out[key]) if out[key] else None
        return out

    def read_weights(self, weighting_id: int, *, replicates: bool = True) -> pd.DataFrame:
        """Weights of one weighting: period, response_key, weight, and (``replicates``) replicates, an array
        per row or None, in the store's order (wave, response key).

        ``replicates=False`` leaves them out: :meth:`read_replicates` reads them as one matrix, in that order.
        """
        query = (select(waves.c.period, weights_table.c.response_key, weights_table.c.weight)
                 .join(waves, weights_table.c.wave_id == waves.c.id)
                 .where(weights_table.c.weighting_id == weighting_id)
                 .order_by(weights_table.c.wave_id, weights_table.c.response_key))
        with self.read() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=["period", "response_key", "weight"])
        if replicates:
            matrix = self.read_replicates(weighting_id)
            frame["replicates"] = [None] * len(frame) if matrix is None else list(matrix)
        return frame

    def read_replicates(self, weighting_id: int, rows: np.ndarray | None = None,
                        dtype: str | np.dtype = "float64") -> np.ndarray | None:
        """Replicate weights of one weighting as one (n, R) matrix (Fortran order), or None without them.

        Row i of the store's order (that of :meth:`read_weights`) goes to row ``rows[i]`` (default i; -1:
        left out, the matrix then has a row per ``rows`` at or above 0). The rows are read a chunk at a
        time, each chunk's bytes joined and read by one ``np.frombuffer``: no array per row, and only the
        matrix and one chunk in memory (issue 18). Stored as float64 bytes (``<f8``, as ever, so stores
        written before read the same); ``dtype`` float32 halves the matrix.
        """
        query = (select(weights_table.c.replicates).where(weights_table.c.weighting_id == weighting_id)
                 .order_by(weights_table.c.wave_id, weights_table.c.response_key))
        out, done = None, 0
        with self.read() as conn:
            n = int(np.sum(rows >= 0)) if rows is not None else conn.execute(
                select(func.count()).select_from(weights_table)
                .where(weights_table.c.weighting_id == weighting_id)).scalar_one()
            result = conn.execution_options(yield_per=_WEIGHT_ROWS_PER_INSERT).execute(query)
            for part in result.partitions():
                blobs = [r[0] for r in part]
                if blobs[0] is None:
                    return None
                chunk = np.frombuffer(b"".join(blobs), dtype="<f8").reshape(len(blobs), -1)
                if out is None:
                    out = np.empty((n, chunk.shape[1]), dtype=dtype, order="F")
                if rows is None:
                    out[done:done + len(blobs)] = chunk
                else:
                    to = rows[done:done + len(blobs)]
                    out[to[to >= 0]] = chunk[to >= 0]
                done += len(blobs)
        return out

    def find_weighting(self, survey_id: str, period_from: str, period_to: str) -> dict[str, Any] | None:
        """The newest weighting of the survey whose periods lie within ``period_from``..``period_to``."""
        with self.read() as conn:
            row = conn.execute(select(weightings.c.period_from, weightings.c.period_to).where(
                weightings.c.survey_id == survey_id, weightings.c.period_from >= period_from,
                weightings.c.period_to <= period_to).order_by(weightings.c.id.desc())).first()
        return None if row is None else self.latest_weighting(survey_id, row[0], row[1])

    def save_official(self, frame: pd.DataFrame) -> int:
        """Store an imported official table, replacing what was imported for those years; return rows."""
        with self.begin() as conn:
            for year in frame["year"].unique():
                conn.execute(official.delete().where(official.c.year == int(year)))
            now = dt.datetime.now()
            rows = [{"year": int(r.year), "province": r.province, "measure": r.measure, "score": float(r.score),
                     "rank": None if pd.isna(r.rank) else float(r.rank), "source": r.source, "imported_at": now}
                    for r in frame.itertuples(index=False)]
            conn.execute(official.insert(), rows)
        return len(frame)

    def read_official(self) -> pd.DataFrame:
        """Imported official figures: year, province, measure, score, rank, source."""
        with self.read() as conn:
            rows = conn.execute(select(official.c.year, official.c.province, official.c.measure, official.c.score,
                                       official.c.rank, official.c.source)).all()
        return pd.DataFrame(rows, columns=["year", "province", "measure", "score", "rank", "source"])

    # ------------------------------------------------------------ reading

    def list_loads(self) -> pd.DataFrame:
        """The audit log, newest first; removed loads too (``removed_at`` set, with who and why)."""
        records, columns = self.load_records()
        return pd.DataFrame(records, columns=columns)

    def load_records(self) -> tuple[list[dict[str, Any]], list[str]]:
        """:meth:`list_loads` as plain records and their column names (no pandas: `pgi-survey loads`)."""
        query = (select(loads.c.id.label("load"), waves.c.survey_id.label("survey"), waves.c.period,
                        loads.c.file_name, loads.c.format, loads.c.loaded_at, loads.c.user_name, loads.c.rows_read,
                        loads.c.accepted, func.coalesce(loads.c.corrected, 0).label("corrected"),
                        loads.c.quarantined, loads.c.already_present, loads.c.sha256,
                        loads.c.size_bytes, loads.c.removed_at, loads.c.removed_by, loads.c.removed_reason,
                        loads.c.replaced_by)
                 .join(waves, loads.c.wave_id == waves.c.id).order_by(loads.c.id.desc()))
        with self.read() as conn:
            records = [dict(r) for r in conn.execute(query).mappings().all()]
        return records, list(query.selected_columns.keys())

    def read_quarantine(self, load_id: int | None = None) -> pd.DataFrame:
        """Quarantined rows (raw and reasons as parsed JSON), optionally of one load."""
        return self._read_of_load(quarantine, load_id, ("raw", "reasons"))

    def quarantined_row(self, quarantine_id: int) -> dict[str, Any] | None:
        """One quarantined row (raw and reasons parsed), with its load's ``survey`` and ``period``; None when
        there is no such row (released or removed). One indexed look-up, whatever the quarantine holds."""
        query = (select(quarantine, waves.c.survey_id.label("survey"), waves.c.period)
                 .join(waves, quarantine.c.wave_id == waves.c.id).where(quarantine.c.id == int(quarantine_id)))
        with self.read() as conn:
            found = conn.execute(query).mappings().first()
        if found is None:
            return None
        row = dict(found)
        row["raw"], row["reasons"] = json.loads(row["raw"]), json.loads(row["reasons"])
        return row

    def read_responses(self, qn: Questionnaire, period_from: str | None = None,
                       period_to: str | None = None) -> pd.DataFrame:
        """Stored answers of a questionnaire, with ``period`` and ``response_key`` first."""
        name = response_table_name(qn.id)
        with self.read() as conn:
            if not inspect(conn).has_table(name):
                return pd.DataFrame(columns=["period", "response_key"] + [q.id for q in qn.questions])
            table = Table(name, MetaData(), autoload_with=conn)
            qcols = [table.c[q.id] for q in qn.questions if q.id in table.c]
            wanted = select(waves.c.id, waves.c.period).where(waves.c.survey_id == qn.id)
            if period_from:
                wanted = wanted.where(waves.c.period >= period_from)
            if period_to:
                wanted = wanted.where(waves.c.period <= period_to)
            period_of = dict(conn.execute(wanted).all())
            # One pass over the table in the order rows were stored (``+ 0`` keeps SQLite off the
            # (wave, key) index, whose order would need a sort of every row and column: 15 s instead of
            # 9 s for 2 million responses); the waves are then put in period order below.
            query = (select(table.c._wave_id, table.c._key.label("response_key"), *qcols)
                     .where((table.c._wave_id + 0).in_(wanted.with_only_columns(waves.c.id)))
                     .order_by(table.c._id))
            frame = _frame_by_column(_driver_batches(conn, query),
                                     [("_wave_id", Integer()), ("response_key", table.c._key.type)]
                                     + [(c.name, c.type) for c in qcols])
        return _by_period(frame, period_of)


def _by_period(frame: pd.DataFrame, period_of: dict[int, str]) -> pd.DataFrame:
    """Responses with their wave's ``period`` first, ordered by period and then as stored (a stable
    sort, a no-op for one wave)."""
    waves_ = frame.pop("_wave_id").to_numpy(dtype=np.int64) if "_wave_id" in frame else np.array([], np.int64)
    ids = np.array(sorted(period_of, key=lambda w: (period_of[w], w)), dtype=np.int64)
    rank = np.zeros(int(ids.max()) + 1 if len(ids) else 1, dtype=np.int64)
    rank[ids] = np.arange(len(ids))
    ranks = rank[waves_]
    if len(ranks) and (np.diff(ranks) < 0).any():
        order = np.argsort(ranks, kind="stable")
        frame, ranks = frame.take(order).reset_index(drop=True), ranks[order]
    periods = np.array([period_of[w] for w in ids] or [""], dtype=object)[ranks]
    frame.insert(0, "period", pd.Series(periods, dtype="str" if len(periods) else object))
    return frame


#: rows fetched at a time when reading responses: bounds the Python row objects alive at once
READ_BATCH = 50_000

#: how archived files are compressed now (``raw_files.compression``); older rows say "zlib"
ARCHIVE_CODEC = "zstd"


def archive_packer():
    """A streaming compressor for an archived file: ``compress(block)`` then ``flush()`` (zstd level 1:
    several times faster than zlib at a like ratio on survey exports)."""
    import zstandard

    return zstandard.ZstdCompressor(level=1).compressobj()


def _real_id_keys(table: Table):
    """``_key NOT LIKE 'h:%'`` (responses with a real id) with the pattern written into the SQL, not bound.

    The partial hash index is declared with this literal; SQLite uses a partial
    index only when the query's WHERE holds the same term, and a bound ``?``
    is not the same term: with it every batch of hashes scanned the whole wave
    (quadratic ingest, issue 18).
    """
    return table.c._key.not_like(literal_column("'h:%'"))


def _in_batches(conn: Connection, values: Sequence[str], query, size: int = 100_000) -> list:
    """Rows of ``query(one_of)`` over the distinct ``values``, ``size`` at a time, where ``one_of(column)``
    is the condition "``column`` is one of this batch".

    The batch is ONE bound parameter (SQLite: a JSON array read by ``json_each``; PostgreSQL: a text
    array, ``= ANY``), so a load's chunk of 20,000 keys is one statement that still searches the
    column's index, instead of 40 statements of 500 placeholders each (SQL's limit on parameters),
    each built, sent and stepped through apart (issue 18). Other databases get the placeholders.
    """
    unique = list(dict.fromkeys(values))
    dialect = conn.dialect.name
    step = size if dialect in ("sqlite", "postgresql") else 500
    rows: list = []
    for i in range(0, len(unique), step):
        part = unique[i:i + step]
        rows += conn.execute(query(lambda column: _one_of(dialect, column, part))).all()
    return rows


def _one_of(dialect: str, column, values: list[str]):
    """``column`` is one of ``values``, the values bound as one parameter where the database allows."""
    if dialect == "sqlite":
        listed = func.json_each(bindparam(None, json.dumps(values, ensure_ascii=False), type_=Text)) \
            .table_valued("value")
        return column.in_(select(listed.c.value))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, values, type_=ARRAY(Text)))
    return column.in_(values)


def _driver_batches(conn: Connection, query) -> Iterator[list[tuple]]:
    """The rows of ``query`` as the driver gives them (plain tuples), ``READ_BATCH`` at a time.

    Past SQLAlchemy's result rows: a row object and a type conversion per cell were most of reading
    a large wave. Dates therefore come as the driver stores them (ISO text in SQLite): see
    :func:`_batch`. SQLite's cursor steps through the rows as they are fetched; on PostgreSQL a
    server-side cursor (psycopg's named cursor, inside the read's transaction) sends them a batch at
    a time, instead of the whole result held by the client first.
    """
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args = tuple(params[k] for k in compiled.positiontup) if compiled.positional else params
    driver = conn.connection.driver_connection
    named = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
    cursor = driver.cursor(name="pgi_read_batches") if named else conn.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        while rows := cursor.fetchmany(READ_BATCH):
            yield rows
    finally:
        cursor.close()


def _frame_by_column(batches: Iterator[list[tuple]], columns: list[tuple[str, Any]]) -> pd.DataFrame:
    """A query's rows as a frame, built a column at a time and ``READ_BATCH`` rows at a time: each
    batch is transposed once; number columns go straight into float arrays (NULL as NaN), text columns
    into Arrow strings (pandas' string dtype, as it reads texts), others into object arrays.

    Only one batch of Python row objects and strings is alive at a time: ``pd.DataFrame(rows.all())``
    held every row and every text as a Python object and inspected each row (an attribute look-up
    failing through an exception per SQLAlchemy row): 13x the time and 6 GiB for 2 million responses
    (issue 18).
    """
    import pyarrow as pa

    names = [name for name, _t in columns]
    parts: list[list[Any]] = [[] for _c in columns]
    for rows in batches:
        for part, (_name, sql_type), values in zip(parts, columns, zip(*rows)):
            part.append(_batch(values, sql_type, pa))
    if not parts or not parts[0]:
        return pd.DataFrame(columns=names)
    data = {}
    for part, (name, _t) in zip(parts, columns):
        data[name] = _whole_column(part, pa)
        part.clear()  # each column's batches go as soon as it is whole
    return pd.DataFrame(data, columns=names, copy=False)  # the columns as built: no second copy in one block


def _batch(values: tuple, sql_type: Any, pa) -> Any:
    """One batch of a column: float array, Arrow string array, or object array."""
    if isinstance(sql_type, Float):
        return np.array(values, dtype=float)
    if isinstance(sql_type, Integer):
        return np.array(values, dtype=np.int64)
    if isinstance(sql_type, Date):  # SQLite keeps dates as ISO text; PostgreSQL's driver gives dates
        return np.array([dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values], dtype=object)
    if isinstance(sql_type, String):
        try:
            return pa.array(values, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all texts (SQLite types per value): as they are
            pass
    return np.array(values, dtype=object)


def _whole_column(part: list, pa) -> Any:
    """A column from its batches; texts as pandas' string dtype unless every cell is missing (then
    None in an object column, as pandas reads a list of None)."""
    if all(isinstance(p, pa.Array) for p in part):
        texts = pa.chunked_array(part, type=pa.string())
        if texts.null_count == len(texts):
            return np.full(len(texts), None, dtype=object)
        return pd.Series(pd.StringDtype("pyarrow", na_value=np.nan).__from_arrow__(texts))
    arrays = [p.to_numpy(zero_copy_only=False).astype(object) if isinstance(p, pa.Array) else p for p in part]
    values = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    return values if values.dtype != object else pd.Series(values)


def _column_values(series: pd.Series, sql_type: Any, nan_is_null: bool) -> list:
    """One column as Python values for the driver, missing as None (or NaN where it means NULL)."""
    if isinstance(sql_type, Date):
        return iso_dates(series)
    if series.dtype.kind == "f":
        if nan_is_null:
            return series.to_numpy().tolist()
        return series.to_numpy(dtype=object, na_value=None).tolist()  # NaN as None, in one pass
    if series.dtype.kind in "iub":
        return series.to_numpy().tolist()
    # texts and codes ("1 3"): every kind of missing (None, NaN, pd.NA) as None, in one pass over the column
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
