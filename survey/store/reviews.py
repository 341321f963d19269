"""Staff review of the cases firms agreed to forward: one row per case, in its own table of the store.

A case is a stored response of a monthly wave whose firm agreed to forward it. Before any of its free
text leaves the association, staff read it (already masked), may edit it, and approve it; only an
approved case enters the People's Committee sheet. The table keeps only masked text (never the
firm's own words), the case's reference number (``2025-12-003``), its review status and its
follow-up status (sent, answered, resolved), so the status is carried from month to month.

This module adds its table to a :class:`~survey.store.Store` on first use, with the store's engine
and its write lock (:meth:`Store.begin`), so it needs no change to the store's own tables.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
from typing import Callable

import pandas as pd
from sqlalchemy import (
    Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint, func, inspect, select, update,
)

from ..errors import StoreError
from .store import Store

__all__ = ["REVIEW_STATUSES", "FOLLOW_UP_STATUSES", "sync_cases", "read_reviews", "edit_review",
           "approve_review", "set_follow_up"]

REVIEW_STATUSES = ("pending", "approved")
FOLLOW_UP_STATUSES = ("not_sent", "sent", "answered", "resolved")

_metadata = MetaData()
case_reviews = Table(
    "case_reviews", _metadata,
    Column("id", Integer, primary_key=True),
    Column("survey_id", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("response_key", Text, nullable=False),
    Column("reference", String(32), nullable=False, unique=True),
    # fingerprint of the firm's own text: a reload that changes it sends the case back to review
    Column("source_hash", String(64), nullable=False),
    Column("description", Text, nullable=False),   # masked, possibly edited by staff
    Column("proposal", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("edited", Integer, nullable=False, default=0),
    Column("follow_up", String(16), nullable=False),
    Column("reviewer", String(128)),
    Column("reviewed_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("survey_id", "period", "response_key", name="uq_case_review"),
)
_COLUMNS = [c.name for c in case_reviews.c]


def _ready(store: Store) -> None:
    """Create the table in the store if it is not there yet (once per store object)."""
    if getattr(store, "_case_reviews_ready", False):
        return
    with store.read() as conn:
        present = inspect(conn).has_table(case_reviews.name)
    if not present:
        with store.begin() as conn:
            _metadata.create_all(conn, checkfirst=True)
    store._case_reviews_ready = True


def _hash(description: object, proposal: object) -> str:
    text = "\x1f".join("" if v is None or v != v else str(v) for v in (description, proposal))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _user(user: str | None) -> str:
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def sync_cases(store: Store, survey_id: str, period: str, cases: pd.DataFrame,
               mask: Callable[[object], str]) -> pd.DataFrame:
    """Register a month's forwardable cases for review; return every review of the month.

    Parameters
    ----------
    cases : DataFrame with ``response_key``, ``description`` and ``proposal`` (the firm's own text).
    mask : the masking applied before anything is stored (:func:`survey.reports.redact.mask_text`).

    A new case is stored masked, pending, not sent, with the next reference number of the month; a
    case whose firm's text changed since (a corrected reload) is masked again and sent back to review.
    """
    _ready(store)
    now = dt.datetime.now()
    with store.begin() as conn:
        known = {r.response_key: r for r in conn.execute(select(case_reviews).where(
            case_reviews.c.survey_id == survey_id, case_reviews.c.period == period))}
        count = len(known)
        for row in cases.itertuples(index=False):
            digest = _hash(row.description, row.proposal)
            old = known.get(row.response_key)
            if old is not None and old.source_hash == digest:
                continue
            texts = {"description": mask(row.description), "proposal": mask(row.proposal), "source_hash": digest,
                     "status": "pending", "edited": 0, "reviewer": None, "reviewed_at": None}
            if old is None:
                count += 1
                conn.execute(case_reviews.insert().values(
                    survey_id=survey_id, period=period, response_key=row.response_key,
                    reference=f"{period}-{count:03d}", follow_up="not_sent", created_at=now, **texts))
            else:
                conn.execute(update(case_reviews).where(case_reviews.c.id == old.id).values(**texts))
    return read_reviews(store, survey_id, period)


def read_reviews(store: Store, survey_id: str | None = None, period: str | None = None,
                 status: str | None = None) -> pd.DataFrame:
    """Reviews, oldest first, optionally of one survey, month and status (an empty frame if none yet)."""
    with store.read() as conn:
        if not inspect(conn).has_table(case_reviews.name):
            return pd.DataFrame(columns=_COLUMNS)
        query = select(case_reviews).order_by(case_reviews.c.period, case_reviews.c.id)
        for column, value in (("survey_id", survey_id), ("period", period), ("status", status)):
            if value is not None:
                query = query.where(case_reviews.c[column] == value)
        return pd.DataFrame(conn.execute(query).mappings().all(), columns=_COLUMNS)


def _change(store: Store, reference: str, **values) -> dict:
    _ready(store)
    with store.begin() as conn:
        found = conn.execute(select(func.count()).select_from(case_reviews)
                             .where(case_reviews.c.reference == reference)).scalar()
        if not found:
            raise StoreError(f"no case with reference {reference!r}", hint="list the cases with: digest review",
                             code="store.no_case", params={"reference": reference})
        conn.execute(update(case_reviews).where(case_reviews.c.reference == reference).values(**values))
        return dict(conn.execute(select(case_reviews).where(case_reviews.c.reference == reference))
                    .mappings().one())


def edit_review(store: Store, reference: str, *, description: str | None = None, proposal: str | None = None,
                mask: Callable[[object], str], user: str | None = None) -> dict:
    """Replace a case's text (masked again: an edit never brings personal data back); the case goes back
    to pending until approved.

    Raises
    ------
    StoreError
        No case has this reference.
    """
    values = {"status": "pending", "edited": 1, "reviewer": _user(user), "reviewed_at": dt.datetime.now()}
    if description is not None:
        values["description"] = mask(description)
    if proposal is not None:
        values["proposal"] = mask(proposal)
    return _change(store, reference, **values)


def approve_review(store: Store, reference: str, *, user: str | None = None) -> dict:
    """Approve a case for the People's Committee sheet.

    Raises
    ------
    StoreError
        No case has this reference.
    """
    return _change(store, reference, status="approved", reviewer=_user(user), reviewed_at=dt.datetime.now())


def set_follow_up(store: Store, reference: str, follow_up: str) -> dict:
    """Record what happened to a forwarded case: one of :data:`FOLLOW_UP_STATUSES`.

    Raises
    ------
    StoreError
        An unknown status, or no case has this reference.
    """
    if follow_up not in FOLLOW_UP_STATUSES:
        raise StoreError(f"unknown follow-up status {follow_up!r}", code="store.follow_up_status",
                         params={"value": follow_up, "known": ", ".join(FOLLOW_UP_STATUSES)})
    return _change(store, reference, follow_up=follow_up)
