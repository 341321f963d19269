"""The pages and what each role may do on them.

viewer: the dashboard, the list of loads, the monthly digest to download; analyst: also
weighting, the annual report and official tables; staff: also uploads (files or KoboToolbox),
loads removed or replaced, quarantine and case review; admin: also personal data on request and
the audit log.
Every POST carries the session's CSRF token; every action that changes or hands out data is
written to the audit log with who did it.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import secrets
import shutil
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import jobs
from ..errors import SurveyError
from .app import (
    LANG_COOKIE, SURVEYS, Upload, WebApp, _clean_name, file_response, in_worker, period_ok, quarantine_csv,
    reasons_text, redirect, remove_upload, sweep_uploads,
)
from .security import LOGIN_COOKIE, SESSION_COOKIE, same_token


class Denied(Exception):
    """A page the session may not see (401: not logged in; 403: role too weak; 400: bad CSRF token)."""

    def __init__(self, status: int) -> None:
        self.status = status


def install(app: FastAPI, web: WebApp) -> None:  # noqa: C901 - one place lists every page
    cookie = dict(httponly=True, samesite="strict", secure=web.config.secure_cookies)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied):
        if exc.status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        key = {403: "web.error.forbidden", 400: "web.error.csrf"}[exc.status]
        return web.error_page(request, _t(request, key), exc.status)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception):
        """A bug: one clear line for the user (in their language), never a traceback on the page."""
        return web.error_page(request, web.describe(exc, web.lang(request)), 500)

    def _t(request: Request, msgid: str, **params) -> str:
        from ..i18n import _
        return _(msgid, web.lang(request), **params)

    def need(request: Request, role: str):
        session = web.sessions.read(request.cookies.get(SESSION_COOKIE))
        # a logged-out session stays out, also after the page restarts with the same secret; a role
        # changed or an account removed counts now
        now = jobs.session_role(web.store, session.user, session.csrf).value if session is not None else None
        if now is None:
            raise Denied(401)
        session = replace(session, role=now)
        request.state.session = session
        if not session.can(role):
            raise Denied(403)
        return session

    async def form_of(request: Request, role: str):
        """The session and the posted form, after the role and the CSRF token are checked."""
        session = need(request, role)
        form = await request.form()
        if not same_token(session.csrf, form.get("csrf")):
            raise Denied(400)
        return session, form

    # ------------------------------------------------------------ language, login, logout

    @app.get("/lang/{lang}")
    async def set_lang(request: Request, lang: str, next: str = "/"):
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = redirect(target)
        if lang in ("vi", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, **cookie)
        return response

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/"):
        token = secrets.token_urlsafe(24)
        response = web.render(request, "login.html", csrf=token, next=next, error="")
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, **cookie)
        return response

    @app.post("/login")
    async def login(request: Request):
        form = await request.form()
        name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:256]
        nxt = str(form.get("next") or "/")
        nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
        if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            return web.error_page(request, _t(request, "web.error.csrf"), 400)
        address = request.client.host if request.client else "?"
        wait = web.throttle.blocked(address, name)
        if wait:
            return web.render(request, "login.html", status=429, csrf=form.get("csrf"), next=nxt,
                              error=_t(request, "web.login.throttled", seconds=wait))
        role = (await in_worker(jobs.verify_user, web.store, name, password)).value
        if role is None:
            web.throttle.failed(address, name)
            jobs.audit(web.store, name or "?", "login_failed", address)
            return web.render(request, "login.html", status=401, csrf=form.get("csrf"), next=nxt,
                              error=_t(request, "web.login.wrong"))
        web.throttle.succeeded(address, name)
        value, session = web.sessions.issue(name, role)
        jobs.audit(web.store, name, "login", address)
        response = redirect(nxt)
        response.set_cookie(SESSION_COOKIE, value, max_age=web.sessions.max_age, **cookie)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout(request: Request):
        session, _form = await form_of(request, "viewer")
        web.sessions.end(session)
        await in_worker(jobs.end_session, web.store, session.csrf, web.sessions.max_age)
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    # ------------------------------------------------------------ dashboard

    @app.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request):
        session = need(request, "viewer")
        loads = (await in_worker(jobs.list_loads, web.store)).value
        waves = (await in_worker(jobs.wave_counts, web.store, loads=loads)).value  # the log read once
        return web.render(request, "dashboard.html", loads=loads.head(8), waves=waves if len(waves) else None,
                          tasks=web.tasks.of_user(session.user)[:5])

    # ------------------------------------------------------------ upload, preview, confirm

    @app.get("/upload", response_class=HTMLResponse)
    async def upload_page(request: Request, replace: int | None = None):
        need(request, "staff")
        return web.render(request, "upload.html", surveys=SURVEYS, replace=replace, error="",
                          period=dt.date.today().strftime("%Y-%m"), max_mb=web.config.max_upload_mb)

    def _settings(form) -> dict:
        def text(key: str, limit: int = 40) -> str | None:
            value = str(form.get(key) or "").strip()[:limit]
            return value or None
        replace = text("replace", 12)
        mapping = {}
        for i in range(200):  # the unrecognised columns the preview offered, each with a question chosen
            column, question = form.get(f"map_col_{i}"), str(form.get(f"map_q_{i}") or "").strip()
            if column is None:
                break
            if question and re.fullmatch(r"[a-z0-9_]{1,64}", question):
                mapping[str(column)[:200]] = question
        for line in str(form.get("mapping_text") or "")[:20_000].splitlines():  # "file column = question"
            column, sep, question = line.rpartition("=")
            if sep and column.strip() and re.fullmatch(r"[a-z0-9_]{1,64}", question.strip()):
                mapping[column.strip()[:200]] = question.strip()
        return {"mapping": mapping, "survey": text("survey") if text("survey") in SURVEYS else SURVEYS[0], "period": text("period", 7),
                "encoding": text("encoding"), "sep": text("sep", 3),
                "replace": int(replace) if replace and replace.isdigit() else None,
                "reason": text("reason", 300)}

    def _options(settings: dict, folder: Path) -> jobs.IngestOptions:
        mapping = None
        if settings.get("mapping"):  # the columns staff mapped on the page, as a mapping file (CSV)
            mapping = folder / "mapping.csv"
            with mapping.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["column", "question"])
                writer.writerows(settings["mapping"].items())
        return jobs.IngestOptions(encoding=settings["encoding"], sep=settings["sep"], mapping=mapping,
                                  max_bytes=int(web.config.max_upload_mb * 1024 * 1024))

    def _check(upload: Upload, lang: str) -> tuple[int, dict]:
        """Check the upload (nothing stored): the page's status and what the preview page shows."""
        from ..i18n import _, has_message
        from ..ingest import console_summary
        from ..text import printable

        s = upload.settings
        if not period_ok(s["period"]):
            return 400, {"result": None, "lines": [], "error": _("web.upload.bad_period", lang)}
        try:
            outcome = jobs.preview_export(web.store, upload.path, s["survey"], s["period"],
                                          _options(s, upload.path.parent))
        except SurveyError as exc:
            return 422, {"result": None, "lines": [], "error": web.describe(exc, lang)}
        result = outcome.value
        # the warnings are shown apart (in the page's words), so not again among the summary's lines
        said = {_("ingest.console.warning", lang, message=printable(_(m, lang, **p), None)) for m, p in result.warnings}
        return 200, {"result": result, "error": "", "columns": outcome.used["columns"],
                     "unmatched": outcome.used["unmatched"],
                     "lines": [line for line in console_summary(result, lang).splitlines()[2:]  # its head names a load
                               if line not in said],
                     # a warning's page wording when it has one (the command line's names its flags)
                     "warnings": [_(f"web.{msgid}" if has_message(f"web.{msgid}", lang) else msgid, lang, **params)
                                  for msgid, params in result.warnings]}

    def _big(upload: Upload) -> bool:
        """A file that takes more than a moment: checked and loaded in the background, with a progress bar."""
        return upload.size > web.config.background_bytes

    async def _preview(request: Request, upload: Upload):
        lang = web.lang(request)
        if _big(upload):
            def work(task):
                upload.checked = _check(upload, lang)
                return [], []
            upload.checked = None
            upload.task = web.tasks.start(upload.user, "preview", upload.name, work, lambda e: web.describe(e, lang),
                                          link=f"/upload/{upload.token}")
            return redirect(f"/upload/{upload.token}")
        upload.checked = await in_worker(_check, upload, lang)
        return _preview_page(request, upload)

    def _preview_page(request: Request, upload: Upload) -> HTMLResponse:
        status, context = upload.checked
        return web.render(request, "preview.html", status=status, upload=upload, surveys=SURVEYS, **context)

    @app.get("/upload/{token}", response_class=HTMLResponse)
    async def preview_page(request: Request, token: str):
        session = need(request, "staff")
        upload = _upload_of(session, token)
        if upload.checked is None:  # still being checked: its progress, then this page again
            return web.render(request, "task.html", task=upload.task)
        return _preview_page(request, upload)

    @app.post("/upload", response_class=HTMLResponse)
    async def upload(request: Request):
        limit = int(web.config.max_upload_mb * 1024 * 1024)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit + 64 * 1024:
            need(request, "staff")
            return web.error_page(request, _t(request, "web.upload.too_large", mb=web.config.max_upload_mb), 413)
        session, form = await form_of(request, "staff")
        sent = form.get("file")
        if sent is None or not hasattr(sent, "read") or not sent.filename:
            return web.render(request, "upload.html", status=400, surveys=SURVEYS, replace=None,
                              period=form.get("period") or "", max_mb=web.config.max_upload_mb,
                              error=_t(request, "web.upload.no_file"))
        sweep_uploads(web)
        token = secrets.token_urlsafe(16)
        folder = web.folder / "uploads" / token
        folder.mkdir()
        name = _clean_name(sent.filename)
        path, size = folder / name, 0
        with path.open("wb") as out:
            while chunk := await sent.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    out.close()
                    shutil.rmtree(folder, ignore_errors=True)
                    return web.error_page(request, _t(request, "web.upload.too_large",
                                                      mb=web.config.max_upload_mb), 413)
                out.write(chunk)
        upload = Upload(token, session.user, path, name, size, _settings(form))
        web.uploads[token] = upload
        return await _preview(request, upload)

    @app.get("/kobo", response_class=HTMLResponse)
    async def kobo_page(request: Request):
        need(request, "staff")
        return web.render(request, "kobo.html", surveys=SURVEYS, error="", server="", asset="",
                          period=dt.date.today().strftime("%Y-%m"))

    @app.post("/kobo", response_class=HTMLResponse)
    async def kobo_pull(request: Request):
        """A month pulled from KoboToolbox, then the same preview as an uploaded file (nothing stored)."""
        session, form = await form_of(request, "staff")
        lang = web.lang(request)
        server, asset = str(form.get("server") or "")[:300], str(form.get("asset") or "")[:64]
        settings = _settings(form)
        token = secrets.token_urlsafe(16)
        folder = web.folder / "uploads" / token
        path = folder / _clean_name(f"kobo_{asset}_{settings['period']}.csv")
        if not period_ok(settings["period"]):
            return web.render(request, "kobo.html", status=400, surveys=SURVEYS, server=server, asset=asset,
                              error=_t(request, "web.upload.bad_period"), period=settings["period"] or "")
        folder.mkdir()
        try:
            outcome = await in_worker(jobs.pull_kobo, server, asset, settings["period"],
                                      str(form.get("token") or "")[:200], path)
        except SurveyError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            return web.render(request, "kobo.html", status=422, surveys=SURVEYS, error=web.describe(exc, lang),
                              server=server, asset=asset, period=settings["period"] or "")
        web.audit(session, "kobo_pull", f"{server} {asset}", period=settings["period"],
                  submissions=outcome.used["submissions"])
        upload = Upload(token, session.user, path, path.name, path.stat().st_size, settings)
        web.uploads[token] = upload
        return await _preview(request, upload)

    def _owned(items: dict, key: str, session):
        """An upload or a task of the signed-in user (anybody else's, or none, is refused alike)."""
        item = items.get(key)
        if item is None or item.user != session.user:
            raise Denied(403)
        return item

    def _upload_of(session, token: str) -> Upload:
        return _owned(web.uploads, token, session)

    @app.post("/upload/{token}/check", response_class=HTMLResponse)
    async def recheck(request: Request, token: str):
        session, form = await form_of(request, "staff")
        upload = _upload_of(session, token)
        upload.settings = _settings(form)
        return await _preview(request, upload)

    @app.post("/upload/{token}/cancel")
    async def cancel(request: Request, token: str):
        session, _form = await form_of(request, "staff")
        _upload_of(session, token)
        remove_upload(web, token)
        return redirect("/upload")

    @app.post("/upload/{token}/confirm")
    async def confirm(request: Request, token: str):
        session, _form = await form_of(request, "staff")
        upload = _upload_of(session, token)
        lang = web.lang(request)
        if _big(upload):
            def work(task):
                task.link = f"/loads/{_store_upload(session, upload, lang)}"
                return [], []
            task = web.tasks.start(session.user, "load", upload.name, work, lambda e: web.describe(e, lang))
            return redirect(f"/tasks/{task.id}")
        try:
            load_id = await in_worker(_store_upload, session, upload, lang)
        except SurveyError as exc:
            return await _preview_error(request, upload, web.describe(exc, lang))
        return redirect(f"/loads/{load_id}")

    def _store_upload(session, upload: Upload, lang: str) -> int:
        """Load the upload for good, keep its report, write the audit line; the load's number."""
        s = upload.settings
        report = upload.path.parent / "report.xlsx"
        outcome = jobs.load_export(web.store, upload.path, s["survey"], s["period"], _options(s, upload.path.parent),
                                   report=report, lang=lang, user=session.user, replace=s["replace"],
                                   reason=s["reason"])
        load_id = outcome.value.load_id
        if outcome.written:
            Path(outcome.written[0]).replace(web.folder / "outputs" / f"load_{load_id}.xlsx")
        web.audit(session, "load", f"load {load_id}", file=upload.name, survey=s["survey"], period=s["period"],
                  replaced=s["replace"])
        remove_upload(web, upload.token)
        return load_id

    async def _preview_error(request: Request, upload: Upload, message: str) -> HTMLResponse:
        return web.render(request, "preview.html", status=422, upload=upload, result=None, lines=[], error=message,
                          surveys=SURVEYS)

    # ------------------------------------------------------------ loads

    @app.get("/loads", response_class=HTMLResponse)
    async def loads_page(request: Request, survey: str = "", period: str = ""):
        need(request, "viewer")
        loads = (await in_worker(jobs.list_loads, web.store)).value
        if survey in SURVEYS:
            loads = loads[loads["survey"] == survey]
        if period_ok(period):
            loads = loads[loads["period"] == period]
        return web.render(request, "loads.html", loads=loads, surveys=SURVEYS, survey=survey, period=period)

    def _load_row(loads, load_id: int):
        row = loads[loads["load"] == load_id]
        return None if row.empty else row.iloc[0]

    @app.get("/loads/{load_id}", response_class=HTMLResponse)
    async def load_page(request: Request, load_id: int):
        need(request, "viewer")
        row = _load_row((await in_worker(jobs.list_loads, web.store)).value, load_id)
        if row is None:
            return web.error_page(request, _t(request, "web.loads.none_such", load=load_id), 404)
        has_report = (web.folder / "outputs" / f"load_{load_id}.xlsx").is_file()
        return web.render(request, "load.html", row=row, has_report=has_report)

    @app.get("/loads/{load_id}/report.xlsx")
    async def load_report(request: Request, load_id: int):
        session = need(request, "staff")
        path = web.folder / "outputs" / f"load_{load_id}.xlsx"
        if not path.is_file():
            return web.error_page(request, _t(request, "web.loads.no_report"), 404)
        web.audit(session, "download", f"load {load_id} report")
        return file_response(path, f"load_{load_id}_report.xlsx")

    @app.post("/loads/{load_id}/remove")
    async def remove(request: Request, load_id: int):
        session, form = await form_of(request, "staff")
        reason = str(form.get("reason") or "")[:300] or None
        try:
            await in_worker(jobs.remove_load, web.store, load_id, user=session.user, reason=reason)
        except SurveyError as exc:
            return web.error_page(request, web.describe(exc, web.lang(request)), 409)
        web.audit(session, "remove", f"load {load_id}", reason=reason)
        return redirect(f"/loads/{load_id}")

    # ------------------------------------------------------------ quarantine

    @app.get("/loads/{load_id}/quarantine", response_class=HTMLResponse)
    async def quarantine_page(request: Request, load_id: int, personal: int = 0):
        session = need(request, "staff")
        outcome = await in_worker(jobs.quarantined_rows, web.store, load_id)
        shown = bool(personal) and session.can("admin")  # personal data only when an admin asks, and audited
        if shown:
            web.audit(session, "view_personal", f"load {load_id} quarantine")
        personal = set() if shown else set(outcome.used["personal"])
        lang = web.lang(request)
        rows = [{"id": int(r.id), "row": int(r.row_number), "key": r.response_key or "",
                 "reasons": reasons_text(r.reasons, lang),
                 "fix": [(c, str(r.raw.get(c) or "")) for c in dict.fromkeys(
                     x.get("column") for x in r.reasons if isinstance(x, dict))
                     if c and c in r.raw and c.split("/")[-1] not in personal],
                 "values": [(k, "***" if k.split("/")[-1] in personal else str(v or "")[:200])
                            for k, v in r.raw.items() if v not in (None, "")][:60]}
                for r in outcome.value.itertuples()]
        return web.render(request, "quarantine.html", load_id=load_id, rows=rows, shown=shown)

    @app.post("/loads/{load_id}/quarantine/{row_id}/fix", response_class=HTMLResponse)
    async def quarantine_fix(request: Request, load_id: int, row_id: int):
        session, form = await form_of(request, "staff")
        lang = web.lang(request)
        values = {}
        for i in range(50):
            column = form.get(f"col_{i}")
            if column is None:
                break
            values[str(column)[:200]] = str(form.get(f"val_{i}") or "")[:2000]
        try:
            outcome = await in_worker(jobs.accept_quarantined, web.store, row_id, values, user=session.user)
        except SurveyError as exc:
            return web.error_page(request, web.describe(exc, lang), 422)
        if not outcome.used["stored"]:
            from ..ingest import console_summary
            lines = console_summary(outcome.value, lang).splitlines()[2:]
            return web.render(request, "message.html", status=422, lines=lines,
                              message=_t(request, "web.quarantine.still_refused"))
        web.audit(session, "accept_row", f"load {load_id} row {row_id}", load=outcome.value.load_id,
                  columns=sorted(values))
        return redirect(f"/loads/{outcome.value.load_id}")

    @app.get("/loads/{load_id}/quarantine.csv")
    async def quarantine_download(request: Request, load_id: int):
        session = need(request, "staff")
        outcome = await in_worker(jobs.quarantined_rows, web.store, load_id)
        web.audit(session, "download", f"load {load_id} quarantine", rows=len(outcome.value))
        body = quarantine_csv(outcome.value, set(outcome.used["personal"]), web.lang(request))
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="quarantine_load_{load_id}.csv"'})

    # ------------------------------------------------------------ weights

    @app.get("/weights", response_class=HTMLResponse)
    async def weights_page(request: Request):
        need(request, "analyst")
        margins = (await in_worker(jobs.margins_files)).value
        return web.render(request, "weights.html", margins=margins, surveys=SURVEYS, error="",
                          period=dt.date.today().strftime("%Y-%m"))

    @app.post("/weights")
    async def weights_run(request: Request):
        session, form = await form_of(request, "analyst")
        lang = web.lang(request)
        margins = {m["name"]: m for m in (await in_worker(jobs.margins_files)).value}
        chosen = margins.get(str(form.get("margins")))
        survey = str(form.get("survey")) if form.get("survey") in SURVEYS else SURVEYS[0]
        period = str(form.get("period") or "")[:15]
        if chosen is None or not (period_ok(period) or period_ok(period.split("..")[0])):
            return web.render(request, "weights.html", status=400, margins=list(margins.values()), surveys=SURVEYS,
                              error=_t(request, "web.weights.bad_input"), period=period)

        def work(task):
            from ..weights import RakingConfig
            use = ("sector_group",) if survey == jobs.MONTHLY else None
            outcome = jobs.weight_wave(web.store, survey, period,
                                       RakingConfig(chosen["path"], use=use, replicates="JK1"))
            lines = outcome.value.diagnostics.text(lang).splitlines()
            return [*lines, *map(str, outcome.notes)], []
        task = web.tasks.start(session.user, "weights", f"{_t(request, 'web.survey.' + survey)} {period}", work, lambda e: web.describe(e, lang))
        web.audit(session, "weights", f"{survey} {period}", margins=chosen["name"])
        return redirect(f"/tasks/{task.id}")

    # ------------------------------------------------------------ tasks (progress)

    def _task_of(session, task_id: str):
        return _owned(web.tasks, task_id, session)

    @app.get("/tasks/{task_id}", response_class=HTMLResponse)
    async def task_page(request: Request, task_id: str):
        session = need(request, "viewer")
        return web.render(request, "task.html", task=_task_of(session, task_id))

    @app.get("/tasks/{task_id}/status", response_class=HTMLResponse)
    async def task_status(request: Request, task_id: str):
        session = need(request, "viewer")
        return web.render(request, "task_status.html", task=_task_of(session, task_id))

    @app.get("/tasks/{task_id}/files/{index}")
    async def task_file(request: Request, task_id: str, index: int):
        session = need(request, "viewer")
        task = _task_of(session, task_id)
        if task.status != "done" or not 0 <= index < len(task.files):
            return web.error_page(request, _t(request, "web.tasks.no_file"), 404)
        path = Path(task.files[index])
        web.audit(session, "download", path.name, task=task.kind)
        return file_response(path, path.name)

    # ------------------------------------------------------------ cases and digest

    @app.get("/cases", response_class=HTMLResponse)
    async def cases_page(request: Request, period: str = ""):
        need(request, "staff")
        cases, error = None, ""
        if period:
            if not period_ok(period):
                error = _t(request, "web.upload.bad_period")
            else:
                try:
                    cases = (await in_worker(jobs.review_cases, web.store, period)).value
                except SurveyError as exc:
                    error = web.describe(exc, web.lang(request))
        return web.render(request, "cases.html", period=period or dt.date.today().strftime("%Y-%m"), cases=cases,
                          error=error)

    @app.post("/cases/{reference}/approve")
    async def approve(request: Request, reference: str):
        session, form = await form_of(request, "staff")
        period = str(form.get("period") or "")[:7]
        try:
            await in_worker(jobs.approve_case, web.store, reference, user=session.user)
        except SurveyError as exc:
            return web.error_page(request, web.describe(exc, web.lang(request)), 409)
        web.audit(session, "approve", reference)
        return redirect(f"/cases?period={period}" if period_ok(period) else "/cases")

    @app.post("/cases/{reference}/edit")
    async def edit(request: Request, reference: str):
        session, form = await form_of(request, "staff")
        period = str(form.get("period") or "")[:7]
        try:
            await in_worker(jobs.edit_case, web.store, reference, description=str(form.get("description") or ""),
                            proposal=str(form.get("proposal") or ""), user=session.user)
        except SurveyError as exc:
            return web.error_page(request, web.describe(exc, web.lang(request)), 409)
        web.audit(session, "edit_case", reference)
        return redirect(f"/cases?period={period}" if period_ok(period) else "/cases")

    @app.get("/digest", response_class=HTMLResponse)
    async def digest_page(request: Request):
        need(request, "viewer")
        return web.render(request, "digest.html", period=dt.date.today().strftime("%Y-%m"), error="")

    @app.post("/digest")
    async def digest_run(request: Request):
        session, form = await form_of(request, "viewer")
        lang, period = web.lang(request), str(form.get("period") or "")[:7]
        if not period_ok(period):
            return web.render(request, "digest.html", status=400, period=period,
                              error=_t(request, "web.upload.bad_period"))
        out = web.folder / "outputs" / f"digest_{period}_{secrets.token_hex(4)}"

        def work(task):
            outcome = jobs.monthly_digest(web.store, period, out=out, lang=lang, issuer=session.user)
            return [str(n) for n in outcome.notes], [Path(p) for p in outcome.written]
        task = web.tasks.start(session.user, "digest", period, work, lambda e: web.describe(e, lang))
        web.audit(session, "digest", period)
        return redirect(f"/tasks/{task.id}")

    # ------------------------------------------------------------ annual report, official tables

    @app.get("/annual", response_class=HTMLResponse)
    async def annual_page(request: Request):
        need(request, "analyst")
        return web.render(request, "annual.html", year=dt.date.today().year, error="")

    @app.post("/annual")
    async def annual_run(request: Request):
        session, form = await form_of(request, "analyst")
        lang = web.lang(request)
        year = str(form.get("year") or "")
        province = str(form.get("province") or "Bac Ninh")[:60]
        title = str(form.get("title_province") or "").strip()[:60] or None
        targets = str(form.get("targets") or "").strip()[:40] or None
        if not (year.isdigit() and 2000 <= int(year) <= 2100):
            return web.render(request, "annual.html", status=400, year=year, error=_t(request, "web.annual.bad_year"))
        out = web.folder / "outputs" / f"annual_{year}_{secrets.token_hex(4)}"

        def work(task):
            from ..forecast import ForecastConfig
            outcome = jobs.annual_report(web.store, int(year), province, title_province=title, targets=targets,
                                         forecast_config=ForecastConfig(draws=2000), out=out, lang=lang)
            return [str(n) for n in outcome.notes], [Path(p) for p in outcome.written]
        task = web.tasks.start(session.user, "annual", year, work, lambda e: web.describe(e, lang))
        web.audit(session, "annual", year, province=province)
        return redirect(f"/tasks/{task.id}")

    @app.post("/official")
    async def official(request: Request):
        session, form = await form_of(request, "analyst")
        lang = web.lang(request)
        sent, year = form.get("file"), str(form.get("year") or "")
        if sent is None or not hasattr(sent, "read") or not year.isdigit():
            return web.render(request, "annual.html", status=400, year=year, error=_t(request, "web.annual.bad_year"))
        folder = web.folder / "uploads" / secrets.token_urlsafe(12)
        folder.mkdir()
        path = folder / _clean_name(sent.filename)
        data = await sent.read(int(web.config.max_upload_mb * 1024 * 1024) + 1)
        if len(data) > web.config.max_upload_mb * 1024 * 1024:
            return web.error_page(request, _t(request, "web.upload.too_large", mb=web.config.max_upload_mb), 413)
        path.write_bytes(data)
        try:
            outcome = await in_worker(jobs.import_official, web.store, path, int(year), lang=lang)
        except SurveyError as exc:
            return web.render(request, "annual.html", status=422, year=year, error=web.describe(exc, lang))
        web.audit(session, "official", year, file=path.name)
        return web.render(request, "message.html", message=_t(request, "web.official.done", year=year),
                          lines=[str(n) for n in outcome.notes])

    # ------------------------------------------------------------ audit

    @app.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request):
        need(request, "admin")
        return web.render(request, "audit.html", log=(await in_worker(jobs.audit_log, web.store)).value)
