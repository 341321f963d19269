"""Pull a month's submissions from a KoboToolbox server (API v2), as the export staff would download.

``GET {server}/api/v2/assets/{asset}/data/?format=json`` with ``Authorization: Token ...``
answers ``{"count", "next", "previous", "results": [...]}``, one dict per submission keyed by the
form's paths (``group/question``) and Kobo's metadata (``_uuid``, ``_submission_time``...); pages
follow ``next``. The month is asked with the endpoint's ``query`` on ``_submission_time``. The
submissions are written as a KoboToolbox CSV, which the ingest then reads like a downloaded one
(preview first, stored only when confirmed). Only the standard library is used; nothing else is
downloaded, and the token is never written anywhere.
"""
from __future__ import annotations

import csv
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import IngestError
from .period import Period

__all__ = ["pull_submissions", "write_kobo_csv"]

PAGE = 1000          # submissions asked for per page (Kobo's own limit is 30,000)
TIMEOUT = 60         # seconds per request
MAX_PAGES = 1000


def _data_url(server: str, asset: str, period: Period) -> str:
    if urllib.parse.urlparse(server).scheme not in ("http", "https"):
        raise IngestError(f"the KoboToolbox server must be an http(s) address, not {server!r}",
                          code="kobo.server", params={"server": server})
    if not asset or not asset.replace("_", "").isalnum():
        raise IngestError(f"the form's asset id {asset!r} is not one", code="kobo.asset", params={"asset": asset})
    first = f"{period.year:04d}-{period.month:02d}-01"
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    end = f"{year:04d}-{month:02d}-01"
    query = json.dumps({"_submission_time": {"$gte": first, "$lt": end}})
    params = urllib.parse.urlencode({"format": "json", "limit": PAGE, "query": query})
    return f"{server.rstrip('/')}/api/v2/assets/{asset}/data/?{params}"


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) checked above
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise IngestError(f"the KoboToolbox server answered {exc.code}", code="kobo.http",
                          params={"status": exc.code}) from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise IngestError(f"the KoboToolbox server could not be read: {exc}", code="kobo.unreachable",
                          params={"reason": str(exc)[:200]}) from None


def pull_submissions(server: str, asset: str, period: str | Period, token: str) -> list[dict]:
    """Every submission of ``period`` (``YYYY-MM``), following the pages.

    Raises
    ------
    IngestError
        A server that is not http(s), an asset id that is not one, a refused token (HTTP 401/403),
        a server that cannot be reached or answers something other than the data endpoint's JSON.
    """
    month = period if isinstance(period, Period) else Period.parse(period)
    url: str | None = _data_url(server, asset, month)
    rows: list[dict] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        page = _get(url, token)
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise IngestError("the KoboToolbox server did not answer as its data endpoint does",
                              code="kobo.not_data")
        rows += [r for r in page["results"] if isinstance(r, dict)]
        url = page.get("next") or None
    return rows


def write_kobo_csv(rows: list[dict], path: str | Path) -> Path:
    """The submissions as a KoboToolbox CSV: one column per key met (in the order met), lists and
    dicts (attachments, geolocation, validation status) left out, values as text."""
    columns: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if not isinstance(value, (list, dict)):
                columns.setdefault(str(key), None)
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return path
