"""The staff's web page through the test client: accounts, roles, CSRF, throttling, upload -> preview ->
confirm -> remove, crafted uploads, and a month's work (weights, case review, digest)."""
from __future__ import annotations

import ast
import re
import threading
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.web.helpers import PASSWORD, PERIOD, ROOT, csrf_of, kobo_export, login, token_of


def count(url: str, table: str) -> int:
    """Rows of a store table, read directly (not through the code under test); 0 for the responses table
    before the first load creates it, an error for any other table that is not there (a misspelt name)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
            assert exists or table.startswith("responses_"), f"no table {table}"
            return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() if exists else 0
    finally:
        engine.dispose()


def upload(client, path: Path, period: str = PERIOD, name: str | None = None, **extra):
    with path.open("rb") as fh:
        return client.post("/upload", data={"csrf": token_of(client), "survey": "monthly_difficulties",
                                            "period": period, **extra},
                           files={"file": (name or path.name, fh, "text/csv")})


def confirm_url(page: str) -> str:
    return re.search(r'action="(/upload/[^/"]+/confirm)"', page).group(1)


# ------------------------------------------------------------------ accounts, sessions, roles

def test_pages_need_a_login(client):
    for path in ("/", "/upload", "/loads", "/weights", "/cases", "/digest", "/audit"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_login_sets_a_strict_http_only_session_cookie_and_says_who(client):
    r = login(client, "staff")
    assert r.status_code == 200 and "staff (cán bộ)" in r.text
    cookie = [h for h in r.history[0].headers.get_list("set-cookie") if h.startswith("pgi_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_a_wrong_password_is_refused_in_vietnamese_and_logins_are_throttled(client):
    r = login(client, "staff", "sai-mật-khẩu")
    assert r.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in r.text
    for _ in range(4):
        login(client, "staff", "sai-mật-khẩu")
    r = login(client, "staff")  # the right password, but too many failures just before
    assert r.status_code == 429 and "Đăng nhập sai quá nhiều lần" in r.text
    assert "pgi_session" not in client.cookies


def test_an_unknown_user_is_refused_like_a_wrong_password(client):
    r = login(client, "nobody")
    assert r.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in r.text


def test_a_login_without_the_form_token_is_refused(client):
    r = client.post("/login", data={"name": "staff", "password": PASSWORD, "csrf": "forged", "next": "/"})
    assert r.status_code == 400 and "pgi_session" not in client.cookies


def test_a_forged_session_cookie_is_not_a_session(client):
    client.cookies.set("pgi_session", "eyJ1IjoiYWRtaW4iLCJyIjoiYWRtaW4iLCJjIjoieCJ9.forged.sig")
    assert client.get("/audit", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role, path, status", [
    ("viewer", "/upload", 403), ("viewer", "/weights", 403), ("viewer", "/cases", 403), ("viewer", "/audit", 403),
    ("viewer", "/loads", 200), ("viewer", "/digest", 200),
    ("analyst", "/weights", 200), ("analyst", "/upload", 403), ("staff", "/upload", 200), ("staff", "/audit", 403),
    ("admin", "/audit", 200)])
def test_each_role_reaches_its_pages_only(client, role, path, status):
    login(client, role)
    assert client.get(path).status_code == status


def test_a_viewer_cannot_post_to_staff_actions(client, tmp_path):
    login(client, "viewer")
    assert upload(client, kobo_export(tmp_path / "m.csv")).status_code == 403
    r = client.post("/loads/1/remove", data={"csrf": token_of(client)})
    assert r.status_code == 403 and "không được phép" in r.text


def test_a_post_without_the_csrf_token_changes_nothing(client, web, tmp_path):
    login(client, "staff")
    path = kobo_export(tmp_path / "m.csv")
    with path.open("rb") as fh:
        r = client.post("/upload", data={"survey": "monthly_difficulties", "period": PERIOD},
                        files={"file": ("m.csv", fh, "text/csv")})
    assert r.status_code == 400 and "Biểu mẫu đã hết hạn" in r.text
    with path.open("rb") as fh:
        r = client.post("/upload", data={"csrf": "a-token-of-another-session", "period": PERIOD},
                        files={"file": ("m.csv", fh, "text/csv")})
    assert r.status_code == 400
    assert not list((tmp_path / "web" / "uploads").iterdir())


# ------------------------------------------------------------------ upload -> preview -> confirm -> undo

def test_preview_stores_nothing_and_shows_the_problem_in_vietnamese(client, web, tmp_path):
    url = web[1]
    login(client, "staff")
    before = {t: count(url, t) for t in ("loads", "waves", "quarantine", "raw_files", "corrections")}
    r = upload(client, kobo_export(tmp_path / "thang11.csv", n=40, bad_rows=(3,)))
    assert r.status_code == 200
    assert "chưa có dữ liệu nào được lưu" in r.text and "Định dạng: CSV xuất từ KoboToolbox; bảng mã: utf-8" in r.text
    counts = {k: re.search(rf'id="count-{k}">([^<]+)<', r.text).group(1)
              for k in ("read", "accepted", "corrected", "quarantined")}
    assert counts["read"] == "40" and counts["quarantined"] == "1"
    assert int(counts["accepted"]) + int(counts["corrected"]) == 39
    # the problem, grouped, in Vietnamese: the question's label and the rule in words, with its row
    assert "gặp khó khăn, vướng mắc về bảo vệ môi trường" in r.text and "dòng 5" in r.text.lower()
    assert {t: count(url, t) for t in ("loads", "waves", "quarantine", "raw_files", "corrections")} == before
    assert count(url, "responses_monthly_difficulties") == 0


def test_confirm_stores_the_load_and_remove_undoes_it_so_the_file_loads_again(client, web, tmp_path):
    url = web[1]
    login(client, "staff")
    path = kobo_export(tmp_path / "thang11.csv", n=30, bad_rows=(3,))
    page = upload(client, path).text
    r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert r.status_code == 200 and r.url.path == "/loads/1" and "Đã lưu vào kho dữ liệu" in r.text
    assert count(url, "loads") == 1 and count(url, "quarantine") == 1
    report = client.get("/loads/1/report.xlsx")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    quarantine = client.get("/loads/1/quarantine")
    assert "Dòng 5" in quarantine.text and "uuid-00003" in quarantine.text
    csv_text = client.get("/loads/1/quarantine.csv").content.decode("utf-8-sig")
    assert "uuid-00003" in csv_text and "uuid-00004" not in csv_text
    r = client.post("/loads/1/remove", data={"csrf": token_of(client), "reason": "sai kỳ"})
    assert "Đã gỡ bởi staff: sai kỳ" in r.text
    assert count(url, "quarantine") == 0 and count(url, "responses_monthly_difficulties") == 0
    page = upload(client, path).text  # the same file again
    r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert r.url.path == "/loads/2" and count(url, "responses_monthly_difficulties") == 29
    client.cookies.clear()
    login(client, "admin")
    log = client.get("/audit").text
    assert all(f">{action}<" in log for action in ("load", "remove", "download", "login"))


def test_a_load_replaced_by_a_corrected_file(client, web, tmp_path):
    url = web[1]
    login(client, "staff")
    page = upload(client, kobo_export(tmp_path / "a.csv", n=20, bad_rows=(3,))).text
    client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert 'name="replace" value="1"' in client.get("/upload?replace=1").text
    page = upload(client, kobo_export(tmp_path / "b.csv", n=20, bad_rows=()), replace="1", reason="đã sửa").text
    r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert r.url.path == "/loads/2"
    assert count(url, "quarantine") == 0 and count(url, "responses_monthly_difficulties") == 20
    assert "đã sửa" in client.get("/loads/1").text


def test_a_changed_period_is_checked_again_before_anything_is_stored(client, web, tmp_path):
    login(client, "staff")
    page = upload(client, kobo_export(tmp_path / "m.csv", n=20), period="2025-10").text
    assert "20 trong 20 phiếu (100%) được nộp ngoài kỳ 2025-10" in page  # the dates say November
    assert "Kiểm tra lại kỳ đã chọn trước khi xác nhận" in page and "--strict" not in page
    token = re.search(r'action="/upload/([^/"]+)/check"', page).group(1)
    page = client.post(f"/upload/{token}/check", data={"csrf": csrf_of(page), "survey": "monthly_difficulties",
                                                       "period": PERIOD}).text
    assert 'id="count-read">20<' in page and count(web[1], "loads") == 0


def test_another_users_upload_cannot_be_confirmed(client, new_client, tmp_path):
    login(client, "staff")
    page = upload(client, kobo_export(tmp_path / "m.csv", n=10)).text
    other = new_client()
    login(other, "admin")
    assert other.post(confirm_url(page), data={"csrf": token_of(other)}).status_code == 403


# ------------------------------------------------------------------ crafted uploads store nothing

def test_html_and_formulas_in_answers_are_shown_as_text(client, web, tmp_path):
    script = '<script>alert("x")</script>'
    path = kobo_export(tmp_path / "m.csv", n=20, bad_rows=(2,), bad_value=script)
    login(client, "staff")
    page = upload(client, path, name='<img src=x onerror=alert(1)>.csv').text
    assert "&lt;script&gt;alert(" in page  # the value is shown, as text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert count(web[1], "loads") == 0
    page = client.post(confirm_url(page), data={"csrf": csrf_of(page)}).text
    quarantine = client.get("/loads/1/quarantine").text
    assert "&lt;script&gt;alert(" in quarantine and "<script>alert" not in quarantine
    csv_text = client.get("/loads/1/quarantine.csv").content.decode("utf-8-sig")
    assert "<script>" in csv_text  # a CSV is data, not a page: kept as written


def test_formula_like_values_are_neutralised_in_the_quarantine_download(client, tmp_path):
    path = kobo_export(tmp_path / "m.csv", n=20, bad_rows=(2,), bad_value='=HYPERLINK("http://x","y")')
    login(client, "staff")
    page = upload(client, path).text
    client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    csv_text = client.get("/loads/1/quarantine.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ',=HYPERLINK' not in csv_text and '"=HYPERLINK' not in csv_text


def test_a_file_name_is_never_a_path(client, web, tmp_path):
    login(client, "staff")
    upload(client, kobo_export(tmp_path / "m.csv", n=10), name="../../../evil.csv")
    written = [p for p in (tmp_path / "web").rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["evil.csv"] and written[0].parent.parent.name == "uploads"
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path.parent / "evil.csv").exists()


def test_a_file_over_the_size_limit_is_refused_and_kept_nowhere(tmp_path):
    from fastapi.testclient import TestClient
    from survey.web import WebConfig, create_app
    from tests.web.helpers import store_with_users

    url = store_with_users(tmp_path)
    app = create_app(WebConfig(db=url, folder=tmp_path / "web", secret="s", max_upload_mb=0.01))
    with TestClient(app) as client:
        login(client, "staff")
        r = upload(client, kobo_export(tmp_path / "m.csv", n=200))
        assert r.status_code == 413 and "Tệp quá lớn" in r.text
    assert not list((tmp_path / "web" / "uploads").iterdir()) and count(url, "loads") == 0


def test_a_zip_bomb_and_garbage_get_a_clear_message_and_store_nothing(client, web, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 300_000_000 + b"</a>")
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    login(client, "staff")
    for path in (bomb, garbage):
        with path.open("rb") as fh:
            r = client.post("/upload", data={"csrf": token_of(client), "survey": "monthly_difficulties",
                                             "period": PERIOD}, files={"file": (path.name, fh, "text/csv")})
        assert r.status_code == 422, path.name
        assert 'class="error"' in r.text and 'id="confirm"' not in r.text
    assert count(web[1], "loads") == 0 and count(web[1], "raw_files") == 0


# ------------------------------------------------------------------ two staff at once, language

def test_two_staff_loading_different_files_at_once_both_succeed(web, new_client, tmp_path):
    url = web[1]
    clients, pages = [new_client(), new_client()], []
    for i, (c, name) in enumerate(zip(clients, ("staff", "admin"))):
        login(c, name)
        pages.append(upload(c, kobo_export(tmp_path / f"f{i}.csv", n=15, seed=i, prefix=f"u{i}")).text)
    results = [None, None]

    def confirm(i):
        results[i] = clients[i].post(confirm_url(pages[i]), data={"csrf": csrf_of(pages[i])})
    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(r.url.path for r in results) == ["/loads/1", "/loads/2"]
    assert count(url, "responses_monthly_difficulties") == 30 - 2  # one bad row in each file


def test_english_is_one_click_away(client):
    login(client, "staff")
    r = client.get("/lang/en?next=/upload")
    assert r.url.path == "/upload" and "Upload an export" in r.text and "Nothing is stored until you confirm" in r.text
    assert "Tải tệp xuất lên" not in r.text


def test_the_language_link_never_leaves_the_site(client):
    r = client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert r.headers["location"] == "/"


# ------------------------------------------------------------------ a month's work

def test_a_months_work_weights_cases_and_digest(client, web, tmp_path):
    login(client, "staff")
    page = upload(client, kobo_export(tmp_path / "m.csv", n=60, bad_rows=(3,))).text
    client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    page = client.get("/weights").text
    assert "minh hoạ" in page  # the shipped margins are illustrative, and the page says so
    r = client.post("/weights", data={"csrf": csrf_of(page), "survey": "monthly_difficulties", "period": PERIOD,
                                      "margins": "bac_giang_2024"})
    task = r.url.path.rsplit("/", 1)[1]
    assert web[0].state.web.tasks.wait(task, 120).status == "done"
    assert "task-done" in client.get(f"/tasks/{task}/status").text
    cases = client.get(f"/cases?period={PERIOD}").text
    refs = re.findall(r'action="/cases/([^/"]+)/approve"', cases)
    assert refs
    client.post(f"/cases/{refs[0]}/approve", data={"csrf": csrf_of(cases), "period": PERIOD})
    assert f'action="/cases/{refs[0]}/approve"' not in client.get(f"/cases?period={PERIOD}").text
    r = client.post("/digest", data={"csrf": token_of(client), "period": PERIOD})
    task = r.url.path.rsplit("/", 1)[1]
    done = web[0].state.web.tasks.wait(task, 180)
    assert done.status == "done", done.error
    names = [f.name for f in done.files]
    pdf = client.get(f"/tasks/{task}/files/{names.index(f'digest_{PERIOD}.pdf')}")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert client.get(f"/tasks/{task}/files/99").status_code == 404


# ------------------------------------------------------------------ the page's own rules

def test_the_web_page_calls_jobs_not_library_steps():
    from tests.test_jobs import _STEPS

    for path in sorted((ROOT / "survey" / "web").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
        assert not imported & _STEPS, (path.name, sorted(imported & _STEPS))


def test_every_text_of_the_templates_is_in_both_catalogues():
    from survey import i18n

    ids = set()
    for path in (ROOT / "survey" / "web" / "templates").glob("*.html"):
        ids |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    prefixes = {"web.role.": ("viewer", "analyst", "staff", "admin"),
                "web.survey.": ("monthly_difficulties", "pgi_feedback"),
                "web.tasks.kind.": ("weights", "digest", "annual", "preview", "load"),
                "web.tasks.status.": ("running", "done", "failed"), "rpt.review.": ("pending", "approved"),
                "web.format.": ("kobo_csv", "csv", "sav", "xlsx")}
    ids = {i for i in ids if not i.endswith(".")} | {p + k for p, keys in prefixes.items() for k in keys}
    assert len(ids) > 80
    for lang in ("vi", "en"):
        assert sorted(ids - i18n.message_ids(lang)) == [], lang


def test_an_unrecognised_column_is_mapped_on_the_page_and_checked_again(client, web, tmp_path):
    path = kobo_export(tmp_path / "m.csv", n=20, bad_rows=())
    path.write_text(path.read_text(encoding="utf-8").replace("difficulties/severity;", "muc_do_anh_huong;", 1),
                    encoding="utf-8")
    login(client, "staff")
    page = upload(client, path).text
    # a required question without its column: said in Vietnamese, nothing to confirm yet
    assert "không có cột cho câu hỏi bắt buộc" in page and 'id="confirm"' not in page
    token = re.search(r'action="/upload/([^/"]+)/check"', page).group(1)
    page = client.post(f"/upload/{token}/check", data={
        "csrf": csrf_of(page), "survey": "monthly_difficulties", "period": PERIOD,
        "mapping_text": "muc_do_anh_huong = severity\n"}).text
    assert 'id="count-quarantined">0<' in page and 'id="count-read">20<' in page
    assert "<td>muc_do_anh_huong</td><td>severity</td>" in page
    r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert r.url.path == "/loads/1" and count(web[1], "responses_monthly_difficulties") == 20


def test_columns_not_recognised_are_listed_with_a_choice_of_question(client, tmp_path):
    path = kobo_export(tmp_path / "m.csv", n=10, bad_rows=())
    path.write_text(path.read_text(encoding="utf-8").replace("difficulties/difficulty_other;", "khac;", 1),
                    encoding="utf-8")
    login(client, "staff")
    page = upload(client, path).text
    assert 'id="unknown-columns"' in page and 'value="khac"' in page
    index = re.search(r'name="map_col_(\d+)" value="khac"', page).group(1)
    token = re.search(r'action="/upload/([^/"]+)/check"', page).group(1)
    page = client.post(f"/upload/{token}/check", data={
        "csrf": csrf_of(page), "survey": "monthly_difficulties", "period": PERIOD,
        f"map_col_{index}": "khac", f"map_q_{index}": "difficulty_other"}).text
    assert 'id="unknown-columns"' not in page and "<td>khac</td><td>difficulty_other</td>" in page


def test_a_quarantined_row_is_fixed_on_the_page_and_accepted(client, web, tmp_path):
    url = web[1]
    login(client, "staff")
    page = upload(client, kobo_export(tmp_path / "m.csv", n=20, bad_rows=(3,))).text
    client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    page = client.get("/loads/1/quarantine").text
    action = re.search(r'action="(/loads/1/quarantine/\d+/fix)"', page).group(1)
    assert 'name="col_0" value="difficulties/had_difficulty"' in page and 'name="val_0" value="7"' in page
    # still wrong: said, and nothing stored
    r = client.post(action, data={"csrf": csrf_of(page), "col_0": "difficulties/had_difficulty", "val_0": "9"})
    assert r.status_code == 422 and "vẫn chưa đạt" in r.text and count(url, "loads") == 1
    # right (the firm's real answer, which its other answers follow): loaded as a load of its own, out of quarantine
    from tests.web.helpers import monthly_answers
    real = str(int(monthly_answers(20).loc[3, "had_difficulty"]))
    r = client.post(action, data={"csrf": csrf_of(page), "col_0": "difficulties/had_difficulty", "val_0": real})
    assert r.url.path == "/loads/2" and "load1_row5.csv" in r.text
    assert count(url, "quarantine") == 0 and count(url, "responses_monthly_difficulties") == 20


def test_an_official_table_is_imported_and_a_bad_one_refused_with_its_rows(client, web, tmp_path):
    import numpy as np
    import pandas as pd

    from survey.reference import crosswalk

    login(client, "analyst")
    page = client.get("/annual").text
    assert 'action="/official"' in page
    table = pd.DataFrame({"province": sorted(crosswalk()), "total": (20.0 + np.arange(63) * 0.1).round(2),
                          "rank": np.arange(63, 0, -1)})
    good = tmp_path / "pgi_2021.csv"
    table.to_csv(good, index=False)
    bad = tmp_path / "bad.csv"
    table.assign(province=table["province"].where(table.index != 5, "Tỉnh Không Có")).to_csv(bad, index=False)
    with bad.open("rb") as fh:
        r = client.post("/official", data={"csrf": csrf_of(page), "year": "2021"}, files={"file": ("x.csv", fh)})
    assert r.status_code == 422 and "không có tỉnh &#39;Tỉnh Không Có&#39;" in r.text
    assert count(web[1], "official_pgi") == 0
    with good.open("rb") as fh:
        r = client.post("/official", data={"csrf": csrf_of(page), "year": "2021"}, files={"file": ("x.csv", fh)})
    assert r.status_code == 200 and "Đã nhập bảng PGI chính thức năm 2021" in r.text
    assert count(web[1], "official_pgi") == 63


def test_the_annual_report_runs_in_the_background_and_says_what_is_missing(client, web):
    login(client, "analyst")
    page = client.get("/annual").text
    r = client.post("/annual", data={"csrf": csrf_of(page), "year": "2025", "province": "Bac Ninh"})
    task = web[0].state.web.tasks.wait(r.url.path.rsplit("/", 1)[1], 120)
    assert task.status == "failed" and task.error  # an empty store: no weighted feedback survey to report on
    assert "class=\"error\"" in client.get(r.url.path + "/status").text


def test_a_large_file_is_checked_and_loaded_in_the_background_with_progress(tmp_path):
    from fastapi.testclient import TestClient

    from survey.web import WebConfig, create_app
    from tests.web.helpers import store_with_users

    url = store_with_users(tmp_path)
    app = create_app(WebConfig(db=url, folder=tmp_path / "web", secret="s", background_bytes=0))
    tasks = app.state.web.tasks
    with TestClient(app) as client:
        login(client, "staff")
        r = upload(client, kobo_export(tmp_path / "m.csv", n=30, bad_rows=(3,)))
        token = r.url.path.rsplit("/", 1)[1]
        assert r.url.path == f"/upload/{token}" and "<progress" in r.text or 'id="task-done"' in r.text
        task_id = re.search(r'data-poll="/tasks/([^/"]+)/status"', r.text).group(1)
        assert tasks.wait(task_id, 60).status == "done" and count(url, "loads") == 0
        page = client.get(f"/upload/{token}").text  # the page the progress bar opens when the check is done
        assert 'id="count-quarantined">1<' in page
        r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
        task = tasks.wait(r.url.path.rsplit("/", 1)[1], 60)
        assert task.status == "done" and task.link == "/loads/1" and count(url, "loads") == 1
        assert 'data-go="/loads/1"' in client.get(r.url.path + "/status").text


def test_personal_data_is_masked_unless_an_admin_asks_and_that_is_audited(client, new_client, web, tmp_path):
    path = kobo_export(tmp_path / "m.csv", n=10, bad_rows=(3,))
    phone = re.search(r"09\d{8}", path.read_text(encoding="utf-8").splitlines()[4]).group(0)
    login(client, "staff")
    page = upload(client, path).text
    client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert phone not in client.get("/loads/1/quarantine").text
    assert phone not in client.get("/loads/1/quarantine?personal=1").text  # staff may not ask
    assert phone not in client.get("/loads/1/quarantine.csv").content.decode("utf-8-sig")
    admin = new_client()
    login(admin, "admin")
    assert phone not in admin.get("/loads/1/quarantine").text
    assert phone in admin.get("/loads/1/quarantine?personal=1").text
    assert ">view_personal<" in admin.get("/audit").text


def test_loads_are_listed_per_survey_and_period(client, tmp_path):
    login(client, "staff")
    for i, period in enumerate(("2025-10", PERIOD)):
        page = upload(client, kobo_export(tmp_path / f"m{i}.csv", n=10, seed=i, prefix=f"p{i}"), period=period).text
        client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    rows = lambda html: re.findall(r'<tr><td><a href="/loads/(\d+)">', html)  # noqa: E731
    assert rows(client.get("/loads").text) == ["2", "1"]
    assert rows(client.get(f"/loads?survey=monthly_difficulties&period={PERIOD}").text) == ["2"]
    assert rows(client.get("/loads?survey=pgi_feedback").text) == []


def test_the_annual_report_and_its_forecast_are_viewed_in_the_browser(tmp_path):
    """On the demo year (loaded and weighted through the jobs): the report opens as HTML, with the
    association's index and the forecast, never called the official PGI."""
    from fastapi.testclient import TestClient

    from survey import jobs
    from survey.web import WebConfig, create_app

    store, _files = jobs.demo_store(tmp_path / "demo", 2025)
    jobs.add_user(store, "analyst", "analyst", PASSWORD)
    app = create_app(WebConfig(db=store.url, folder=tmp_path / "web", secret="s"))
    with TestClient(app) as client:
        login(client, "analyst")
        page = client.get("/annual").text
        r = client.post("/annual", data={"csrf": csrf_of(page), "year": "2025", "province": "Bac Ninh",
                                         "title_province": "Bắc Giang", "targets": "bac_giang"})
        task = app.state.web.tasks.wait(r.url.path.rsplit("/", 1)[1], 300)
        assert task.status == "done", task.error
        names = [f.name for f in task.files]
        html = client.get(f"{r.url.path}/files/{names.index('pgi_estimate_2025.html')}")
        assert html.headers["content-disposition"].startswith("inline") and "text/html" in html.headers["content-type"]
        assert "Bắc Ninh" in html.text and "dự báo" in html.text.lower()
        pdf = client.get(f"{r.url.path}/files/{names.index('pgi_estimate_2025.pdf')}")
        assert pdf.headers["content-disposition"].startswith("attachment") and pdf.content[:5] == b"%PDF-"


def test_uploads_left_waiting_are_deleted_after_a_working_day(client, web, tmp_path):
    import time

    from survey.web.app import UPLOAD_LIFETIME, sweep_uploads

    login(client, "staff")
    upload(client, kobo_export(tmp_path / "m.csv", n=10))
    state = web[0].state.web
    assert len(state.uploads) == 1 and list((tmp_path / "web" / "uploads").iterdir())
    sweep_uploads(state, time.monotonic() + UPLOAD_LIFETIME - 60)
    assert len(state.uploads) == 1
    sweep_uploads(state, time.monotonic() + UPLOAD_LIFETIME + 60)
    assert not state.uploads and not list((tmp_path / "web" / "uploads").iterdir())


def test_a_logged_out_session_cookie_opens_nothing_even_when_kept(client):
    login(client, "staff")
    kept = client.cookies.get("pgi_session")
    client.post("/logout", data={"csrf": token_of(client)})
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("pgi_session", kept)  # a copy of the cookie, kept by someone
    assert client.get("/upload", follow_redirects=False).status_code == 303


def test_a_changed_role_counts_at_once(client, web):
    from survey import jobs
    from survey.store import Store

    login(client, "staff")
    assert client.get("/upload").status_code == 200
    jobs.add_user(Store(web[1]), "staff", "viewer", PASSWORD)  # the admin makes the account a viewer
    assert client.get("/upload").status_code == 403


def test_a_logged_out_cookie_stays_refused_after_a_restart(client, web, tmp_path):
    """Logouts are kept in the store: the page restarted with the same secret (PGI_WEB_SECRET) still refuses
    a copy of a logged-out cookie, while a session that did not log out still opens pages."""
    from fastapi.testclient import TestClient

    from survey.web import WebConfig, create_app

    login(client, "staff")
    kept = client.cookies.get("pgi_session")
    client.post("/logout", data={"csrf": token_of(client)})
    other = TestClient(web[0])
    login(other, "viewer")
    live = other.cookies.get("pgi_session")
    other.close()
    restarted = create_app(WebConfig(db=web[1], folder=tmp_path / "web2", secret="test-secret"))
    with TestClient(restarted) as again:
        again.cookies.set("pgi_session", kept)
        assert again.get("/upload", follow_redirects=False).status_code == 303
        again.cookies.set("pgi_session", live)
        assert again.get("/", follow_redirects=False).status_code == 200


def test_logouts_older_than_a_cookie_can_live_are_forgotten(tmp_path):
    from survey import jobs
    from survey.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    jobs.end_session(store, "early", keep=3600)
    jobs.end_session(store, "later", keep=3600)
    assert jobs.session_ended(store, "early").value and jobs.session_ended(store, "later").value
    jobs.end_session(store, "now", keep=0)  # with cookies living 0 s, every earlier logout can go
    assert [jobs.session_ended(store, t).value for t in ("early", "later", "now")] == [False, False, True]


def test_a_request_s_session_is_checked_in_one_read_and_the_web_tables_looked_for_once(tmp_path):
    """The account's role now and the session's logout are one query; the tables are looked for once per store."""
    from sqlalchemy import event

    from survey import jobs
    from survey.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    jobs.add_user(store, "lan", "staff", "mat-khau-dai")
    sent = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    assert jobs.session_role(store, "lan", "tok-1").value == "staff"
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1, sent
    jobs.add_user(store, "lan", "viewer", "mat-khau-dai")  # a role changed counts at once
    assert jobs.session_role(store, "lan", "tok-1").value == "viewer"
    jobs.end_session(store, "tok-1", keep=3600)
    assert jobs.session_role(store, "lan", "tok-1").value is None  # logged out
    assert jobs.session_role(store, "lan", "tok-2").value == "viewer"  # another session of the account
    assert jobs.session_role(store, "binh", "tok-2").value is None  # no such account
    assert not any("sqlite_master" in s or "table_info" in s.lower() for s in sent), "tables looked for again"


@pytest.mark.parametrize("in_child", [False, True], ids=["read in a thread", "read in a child"])
def test_an_spss_export_is_loaded_from_the_page(client, web, tmp_path, monkeypatch, in_child):
    """A .sav is read beside the server's threads by forked children (the crash guard that reads its
    dictionary, and for a large file the reader): the upload, its preview and its confirmation work as
    for a CSV, and every row is stored."""
    from survey.ingest import readers
    from survey.questionnaire import load_questionnaire
    from tests.fixtures import to_sav
    from tests.web.helpers import monthly_answers

    if in_child:
        monkeypatch.setattr(readers, "PROCESS_READ_BYTES", {"sav": 0, "xlsx": 0})
    qn = load_questionnaire("monthly_difficulties", period=PERIOD)
    path = to_sav(monthly_answers(25, seed=7), qn, tmp_path / "thang11.sav")
    login(client, "staff")
    page = upload(client, path).text
    assert 'id="count-read">25<' in page
    r = client.post(confirm_url(page), data={"csrf": csrf_of(page)})
    assert r.url.path == "/loads/1" and count(web[1], "responses_monthly_difficulties") == 25
