"""Sessions, CSRF tokens, roles and login throttling for the staff's web page.

The session is a signed cookie (itsdangerous; HttpOnly, SameSite=Strict, Secure behind HTTPS)
holding the user's name, role and the session's CSRF token; every form sends the token back and a
POST without the right one is refused. Failed logins are counted per (address, name) and per
address; past the limit, logins from there are refused for a while.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["ROLES", "Session", "Sessions", "Throttle", "allowed"]

#: roles, weakest first (as :data:`survey.store.accounts.ROLES`): each may do what those before it may
ROLES = ("viewer", "analyst", "staff", "admin")
SESSION_COOKIE = "pgi_session"
LOGIN_COOKIE = "pgi_login"


def allowed(role: str, needed: str) -> bool:
    """True when ``role`` is ``needed`` or stronger."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    csrf: str

    def can(self, needed: str) -> bool:
        return allowed(self.role, needed)


class Sessions:
    """Signs and reads session cookies; ``max_age`` in seconds (default 8 hours, a working day)."""

    def __init__(self, secret: str, max_age: int = 8 * 3600) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="pgi-survey-session")
        self.max_age = max_age
        self._ended: set[str] = set()  # sessions logged out: their cookie no longer opens a page

    def end(self, session: Session) -> None:
        """Log a session out for good (a copy of its cookie is refused too)."""
        self._ended.add(session.csrf)

    def issue(self, user: str, role: str) -> tuple[str, Session]:
        session = Session(user, role, secrets.token_urlsafe(24))
        return self._signer.dumps({"u": user, "r": role, "c": session.csrf}), session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also expired
            return None
        if not isinstance(data, dict) or data.get("r") not in ROLES or data.get("c") in self._ended:
            return None
        return Session(str(data["u"]), str(data["r"]), str(data["c"]))


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; an empty one never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class Throttle:
    """Failed logins: at most ``per_name`` per (address, name) and ``per_address`` per address in
    ``window`` seconds; beyond that, :meth:`blocked` says how many seconds to wait."""

    def __init__(self, per_name: int = 5, per_address: int = 20, window: float = 300.0) -> None:
        self.per_name, self.per_address, self.window = per_name, per_address, window
        self._failures: dict[tuple, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple, now: float) -> deque:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, address: str, name: str) -> int:
        """Seconds to wait before trying again (0: may try now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in (((address, name.casefold()), self.per_name), ((address,), self.per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(self.window - (now - times[-limit])) + 1)
            return max(waits, default=0)

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures[(address, name.casefold())].append(now)
            self._failures[(address,)].append(now)

    def succeeded(self, address: str, name: str) -> None:
        with self._lock:
            self._failures.pop((address, name.casefold()), None)
