"""Pulling a month from KoboToolbox, against a small local server that answers as Kobo's v2 data
endpoint documents (``/api/v2/assets/{uid}/data/?format=json``: count, next, previous, results; a
``Token`` header; pages by ``limit``/``start``; a ``query`` on ``_submission_time``). Never the network."""
from __future__ import annotations

import csv
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from survey.cli import main
from tests.web.helpers import PERIOD, csrf_of, kobo_export, login
from tests.web.test_routes import confirm_url, count

TOKEN = "kobo-token-123"
ASSET = "aBcD1234xyz"


def _submissions(path) -> list[dict]:
    """The rows of a Kobo CSV as the JSON endpoint gives them (one dict per submission, lists for
    attachments), plus one submission of another month that the query must leave out."""
    with path.open(encoding="utf-8") as fh:
        rows = [dict(r) for r in csv.DictReader(fh, delimiter=";")]
    for r in rows:
        r["_attachments"], r["_geolocation"] = [], [None, None]
    other = dict(rows[0], _uuid="other-month", _submission_time="2025-10-30T10:00:00")
    return rows + [other]


@pytest.fixture()
def kobo(tmp_path):
    """(server URL, requests seen) of a fake KoboToolbox holding 25 November submissions (one bad)."""
    data = _submissions(kobo_export(tmp_path / "source.csv", n=25, bad_rows=(3,)))
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            seen.append((url.path, params, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != f"Token {TOKEN}":
                return self._send(401, {"detail": "Invalid token."})
            if url.path != f"/api/v2/assets/{ASSET}/data/":
                return self._send(404, {"detail": "Not found."})
            window = json.loads(params.get("query", "{}")).get("_submission_time", {})
            rows = [r for r in data if window.get("$gte", "") <= r["_submission_time"] < window.get("$lt", "~")]
            start, limit = int(params.get("start", 0)), min(int(params.get("limit", 10)), 10)
            following = None
            if start + limit < len(rows):
                following = f"http://{self.headers['Host']}{url.path}?" + urllib.parse.urlencode(
                    {**params, "start": start + limit})
            self._send(200, {"count": len(rows), "next": following, "previous": None,
                             "results": rows[start:start + limit]})

        def _send(self, status, body):
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_a_month_is_pulled_page_by_page_and_written_as_a_kobo_csv(kobo, tmp_path):
    from survey import jobs

    base, seen = kobo
    out = jobs.pull_kobo(base, ASSET, PERIOD, TOKEN, tmp_path / "pulled.csv")
    assert out.used["submissions"] == 25 and len(seen) == 3  # 10 + 10 + 5, the other month left out
    assert json.loads(seen[0][1]["query"]) == {"_submission_time": {"$gte": "2025-11-01", "$lt": "2025-12-01"}}
    with (tmp_path / "pulled.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 25 and "_attachments" not in rows[0] and rows[0]["_uuid"] == "uuid-00000"


def test_a_wrong_token_is_said_and_nothing_is_written(kobo, tmp_path):
    from survey import jobs
    from survey.errors import IngestError
    from survey.i18n import error_text

    with pytest.raises(IngestError) as caught:
        jobs.pull_kobo(kobo[0], ASSET, PERIOD, "wrong", tmp_path / "pulled.csv")
    assert "401" in error_text(caught.value, "vi") and "mã truy cập" in error_text(caught.value, "vi")
    assert not (tmp_path / "pulled.csv").exists()


def test_the_cli_pulls_checks_and_loads_only_when_asked(kobo, tmp_path, monkeypatch, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    monkeypatch.setenv("PGI_KOBO_TOKEN", TOKEN)
    out = str(tmp_path / "k.csv")
    args = ["kobo", "pull", "--server", kobo[0], "--asset", ASSET, "--period", PERIOD, "--out", out, "--db", db]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "Đã lấy 25 phiếu" in said and "cách ly: 1" in said and "Chưa có gì được lưu" in said
    assert count(db, "loads") == 0
    assert main(args + ["--load", "--out", str(tmp_path / "k2.csv")]) == 0
    assert count(db, "loads") == 1 and count(db, "responses_monthly_difficulties") == 24


def test_the_page_pulls_into_the_same_preview_then_loads_on_confirm(kobo, client, web):
    login(client, "staff")
    page = client.get("/kobo").text
    r = client.post("/kobo", data={"csrf": csrf_of(page), "server": kobo[0], "asset": ASSET, "token": "wrong",
                                   "survey": "monthly_difficulties", "period": PERIOD})
    assert r.status_code == 422 and "401" in r.text and count(web[1], "loads") == 0
    r = client.post("/kobo", data={"csrf": csrf_of(page), "server": kobo[0], "asset": ASSET, "token": TOKEN,
                                   "survey": "monthly_difficulties", "period": PERIOD})
    assert 'id="count-read">25<' in r.text and 'id="count-quarantined">1<' in r.text
    assert count(web[1], "loads") == 0
    r = client.post(confirm_url(r.text), data={"csrf": csrf_of(r.text)})
    assert r.url.path == "/loads/1" and count(web[1], "responses_monthly_difficulties") == 24
    assert TOKEN not in (client.get("/loads/1").text + str(list((web[0].state.web.folder).rglob("*"))))


def test_only_http_servers_are_asked(client):
    login(client, "staff")
    page = client.get("/kobo").text
    r = client.post("/kobo", data={"csrf": csrf_of(page), "server": "file:///etc/passwd", "asset": ASSET,
                                   "token": TOKEN, "survey": "monthly_difficulties", "period": PERIOD})
    assert r.status_code == 422 and "http:// hoặc https://" in r.text and "root:" not in r.text
