"""Staff accounts and the web page's audit log, kept in the store beside the data they concern.

Two tables of their own (``web_users``, ``web_audit``), created on first use, so a store made
before the web page existed gains them without touching the other tables. Passwords are kept
only as argon2id hashes (argon2-cffi's defaults); the audit log is append-only: who did what
to which load, case or file, and when.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, select

from ..errors import StoreError
from .store import Store

__all__ = ["ROLES", "add_user", "verify_user", "session_role", "list_users", "record", "read_audit",
           "end_session", "session_ended"]

#: roles, weakest first: each role may do what the ones before it may
ROLES = ("viewer", "analyst", "staff", "admin")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_hasher = PasswordHasher()
# a hash of a password nobody has: a login for an unknown name costs the same time as a wrong password
_DUMMY = _hasher.hash("no such user")

metadata = MetaData()
users = Table("web_users", metadata,
              Column("name", String(64), primary_key=True),
              Column("role", String(16), nullable=False),
              Column("password_hash", String(255), nullable=False),
              Column("created_at", DateTime, nullable=False))
audit = Table("web_audit", metadata,
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("at", DateTime, nullable=False),
              Column("user_name", String(64), nullable=False),
              Column("action", String(40), nullable=False),
              Column("target", String(200), nullable=False, default=""),
              Column("detail", Text, nullable=False, default="{}"))
#: sessions logged out (their CSRF token, which each session cookie carries): kept in the store, so a
#: copy of a logged-out cookie stays refused after the web page restarts with the same secret
ended_sessions = Table("web_ended_sessions", metadata,
                       Column("token", String(64), primary_key=True),
                       Column("ended_at", DateTime, nullable=False))


def _ensure(store: Store) -> None:
    """The web's tables, created when the store does not have them yet (once per Store object)."""
    store.ensure_tables(metadata)


def add_user(store: Store, name: str, role: str, password: str) -> None:
    """Add an account, or give an existing one a new role and password.

    Raises
    ------
    StoreError
        A name that is not 2-64 letters, digits or ``_.@-``; an unknown role; a password shorter than 8.
    """
    if not _NAME.match(name or ""):
        raise StoreError(f"the user name {name!r} is not allowed", code="web.user_name", params={"name": name})
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r}", code="web.role", params={"role": role, "known": ", ".join(ROLES)})
    if len(password or "") < 8:
        raise StoreError("the password is shorter than 8 characters", code="web.password_short")
    _ensure(store)
    row = {"name": name, "role": role, "password_hash": _hasher.hash(password), "created_at": dt.datetime.now()}
    with store.begin() as conn:
        conn.execute(users.delete().where(users.c.name == name))
        conn.execute(users.insert().values(**row))


def verify_user(store: Store, name: str, password: str) -> str | None:
    """The role of ``name`` when ``password`` is theirs, else None (same work either way)."""
    _ensure(store)
    with store.read() as conn:
        found = conn.execute(select(users.c.role, users.c.password_hash).where(users.c.name == name)).first()
    try:
        _hasher.verify(found.password_hash if found else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return found.role if found else None


def session_role(store: Store, name: str, token: str) -> str | None:
    """The role now of the account a web session belongs to; None when there is no such account or the
    session (CSRF token ``token``) was logged out. One query: the web page asks on every request."""
    _ensure(store)
    with store.read() as conn:
        return conn.execute(select(users.c.role).where(users.c.name == name, ~_ended(token).exists())).scalar()


def list_users(store: Store) -> pd.DataFrame:
    """Accounts (name, role, created_at), never their hashes."""
    _ensure(store)
    with store.read() as conn:
        rows = conn.execute(select(users.c.name, users.c.role, users.c.created_at).order_by(users.c.name)).all()
    return pd.DataFrame(rows, columns=["name", "role", "created_at"])


def record(store: Store, user: str, action: str, target: str = "", **detail: Any) -> None:
    """Append one line to the audit log."""
    _ensure(store)
    with store.begin() as conn:
        conn.execute(audit.insert().values(at=dt.datetime.now(), user_name=user, action=action,
                                           target=str(target)[:200], detail=json.dumps(detail, default=str)))


def read_audit(store: Store, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` lines of the audit log."""
    _ensure(store)
    with store.read() as conn:
        rows = conn.execute(select(audit.c.id, audit.c.at, audit.c.user_name, audit.c.action, audit.c.target,
                                   audit.c.detail).order_by(audit.c.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["id", "at", "user_name", "action", "target", "detail"])


def end_session(store: Store, token: str, keep: float) -> None:
    """Record that the session with CSRF token ``token`` was logged out; forget those ended more than
    ``keep`` seconds ago (their cookies have expired anyway)."""
    _ensure(store)
    now = dt.datetime.now()
    with store.begin() as conn:
        conn.execute(ended_sessions.delete().where(ended_sessions.c.ended_at < now - dt.timedelta(seconds=keep)))
        conn.execute(ended_sessions.delete().where(ended_sessions.c.token == token))
        conn.execute(ended_sessions.insert().values(token=token, ended_at=now))


def session_ended(store: Store, token: str) -> bool:
    """Whether the session with CSRF token ``token`` was logged out."""
    _ensure(store)
    with store.read() as conn:
        return conn.execute(_ended(token)).first() is not None


def _ended(token: str):
    """The record of the session with CSRF token ``token`` having been logged out (a query)."""
    return select(ended_sessions.c.token).where(ended_sessions.c.token == token)
