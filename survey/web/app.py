"""The staff's web page: server-rendered pages (Jinja2) on Starlette through FastAPI.

Every page calls the use-case layer (:mod:`survey.jobs`) and nothing else of the library's
steps, so the page, the command line and the pipelines make the same loads and reports.
Texts come from the message catalogue (``web.*`` ids, Vietnamese by default, English by a
link that sets a cookie); Jinja2 escapes every value that comes from a file or a user.

Uploads are written under a random folder of the server's own (the browser's file name is
kept only as a cleaned display name), checked in a worker thread with
:func:`survey.jobs.preview_export` (nothing stored) and stored only when staff confirm.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from .. import jobs
from ..errors import SurveyError
from ..i18n import LANGS, _, error_text, format_number
from ..reference import data_path
from ..store import Store
from .security import Session, Sessions, Throttle
from .tasks import Tasks

__all__ = ["WebConfig", "create_app"]

TEMPLATES = data_path("web", "templates")
STATIC = data_path("web", "static")
SURVEYS = (jobs.MONTHLY, jobs.FEEDBACK)
LANG_COOKIE = "pgi_lang"
_PERIOD = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True)
class WebConfig:
    """How the page runs.

    db : the store's URL (default: the user's store, as the command line's).
    folder : where uploads wait for confirmation and reports are written (default: a new temporary folder).
    secret : signs the session cookies (default: ``$PGI_WEB_SECRET``, else random: sessions end on restart).
    max_upload_mb : the largest export accepted, in MB.
    background_bytes : exports larger than this (bytes) are checked and loaded in the background, with a
        progress bar (smaller ones answer at once).
    secure_cookies : mark cookies Secure (behind HTTPS).
    """

    db: str | None = None
    folder: Path | None = None
    secret: str | None = None
    max_upload_mb: float = 50.0
    secure_cookies: bool = False
    workers: int = 2
    background_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if self.max_upload_mb <= 0:
            raise SurveyError("max_upload_mb must be positive", code="web.max_upload",
                              params={"value": self.max_upload_mb})


@dataclass
class Upload:
    """An export waiting for confirmation: where the server keeps it and what was chosen."""

    token: str
    user: str
    path: Path
    name: str
    size: int
    settings: dict = field(default_factory=dict)
    checked: tuple | None = None     # (status, what the preview page shows), once checked
    created: float = field(default_factory=time.monotonic)
    task: Any = None                 # the background check of a large file


def _clean_name(name: str | None) -> str:
    """A display and storage name from the browser's: the last part only, letters, digits, ``._-``."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem, dot, ext = base.rpartition(".")
    stem = re.sub(r"[^\w.-]+", "_", stem if dot else base).strip("._")[:80] or "export"
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext)[:8] if dot else ""
    return f"{stem}.{ext.lower()}" if ext else stem


class WebApp:
    """The state behind the routes: the store, sessions, throttle, uploads waiting, tasks."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.store = Store(config.db)
        self.folder = Path(config.folder or tempfile.mkdtemp(prefix="pgi-web-"))
        (self.folder / "uploads").mkdir(parents=True, exist_ok=True)
        (self.folder / "outputs").mkdir(parents=True, exist_ok=True)
        self.sessions = Sessions(config.secret or os.environ.get("PGI_WEB_SECRET") or secrets.token_urlsafe(32))
        self.throttle = Throttle()
        self.uploads: dict[str, Upload] = {}
        self.tasks = Tasks(config.workers)
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

    # ------------------------------------------------------------ pages

    def lang(self, request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "vi")
        return lang if lang in LANGS else "vi"

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = self.lang(request)
        session = getattr(request.state, "session", None)

        def t(msgid: str, **params: Any) -> str:
            return _(msgid, lang, **params)
        page = self.env.get_template(template).render(
            t=t, lang=lang, session=session, number=lambda v, d=0: format_number(v, lang, d),
            path=request.url.path, **context)
        return HTMLResponse(page, status_code=status)

    def error_page(self, request: Request, message: str, status: int = 400) -> HTMLResponse:
        return self.render(request, "message.html", status=status, message=message)

    def describe(self, exc: BaseException, lang: str) -> str:
        if isinstance(exc, SurveyError):
            return error_text(exc, lang)
        return _("web.error.internal", lang, what=type(exc).__name__)

    def audit(self, session: Session, action: str, target: Any = "", **detail: Any) -> None:
        jobs.audit(self.store, session.user, action, str(target), **detail)


def create_app(config: WebConfig = WebConfig()) -> FastAPI:
    """The web application (an ASGI app for uvicorn or the test client)."""
    from . import routes

    web = WebApp(config)
    app = FastAPI(title="pgi-survey", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = web
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routes.install(app, web)
    return app


def reasons_text(reasons: list, lang: str) -> list[str]:
    """A quarantined row's reasons in ``lang``, each naming its column."""
    from ..ingest import render

    out = []
    for r in reasons:
        if isinstance(r, dict):
            text = render(str(r.get("reason", "")), {**(r.get("params") or {}), "value": r.get("value", ""),
                                                     "question": r.get("question") or ""}, lang)
            out.append(f"{r.get('column') or r.get('question') or ''}: {text}".strip(": "))
        else:
            out.append(str(r))
    return out


def quarantine_csv(frame, personal: set[str], lang: str) -> bytes:
    """Refused rows as a CSV for a firm or a colleague: the row's raw values, its reasons; formula-like
    texts neutralised so a spreadsheet does not run them, personal values masked."""
    from ..text import neutralise_formula

    keys: list[str] = []
    for raw in frame["raw"]:
        keys += [k for k in raw if k not in keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "response_key", "reasons", *keys])
    for r in frame.itertuples():
        reasons = neutralise_formula("; ".join(reasons_text(r.reasons, lang)))
        values = [("***" if k.split("/")[-1] in personal else neutralise_formula(str(r.raw.get(k, "") or "")))
                  for k in keys]
        writer.writerow([r.row_number, neutralise_formula(str(r.response_key or "")), reasons, *values])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads Vietnamese right


def file_response(path: Path, name: str) -> Response:
    media = {".pdf": "application/pdf", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             ".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8"}.get(path.suffix.lower(),
                                                                                        "application/octet-stream")
    # an HTML report opens in the browser (viewed); the others are downloaded
    return FileResponse(path, media_type=media, filename=name,
                        content_disposition_type="inline" if path.suffix.lower() == ".html" else "attachment")


async def in_worker(func, *args, **kwargs):
    """Run a job in a worker thread: parsing never blocks the page for others."""
    return await run_in_threadpool(func, *args, **kwargs)


def period_ok(value: str | None) -> bool:
    return bool(value) and bool(_PERIOD.match(value))


#: an upload neither confirmed nor cancelled is deleted after this many seconds (a working day)
UPLOAD_LIFETIME = 12 * 3600


def sweep_uploads(web: WebApp, now: float | None = None) -> None:
    """Delete uploads left waiting longer than :data:`UPLOAD_LIFETIME` (their files too)."""
    now = time.monotonic() if now is None else now
    for token in [t for t, u in list(web.uploads.items()) if now - u.created > UPLOAD_LIFETIME]:
        remove_upload(web, token)


def remove_upload(web: WebApp, token: str) -> None:
    upload = web.uploads.pop(token, None)
    if upload is not None:
        shutil.rmtree(upload.path.parent, ignore_errors=True)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
