"""The staff's web page in a real browser: Debian's chromium driven by Selenium (chromium-driver).

The server runs in a thread on a free port, on a fresh store. Nothing is downloaded: the browser and
its driver are Debian's (``.ci/run`` installs them); without them these tests are skipped, saying why.
Set ``PGI_WEB_SCREENSHOTS=docs`` to write the README's screenshots.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.web.helpers import PASSWORD, PERIOD, kobo_export, store_with_users

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="no chromium + chromedriver (Debian: apt-get install chromium chromium-driver)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(folder: Path, **config):
    """(base URL, app) of a server on a free port, on a fresh store; stopped at the end."""
    import uvicorn

    from survey.web import WebConfig, create_app

    url = store_with_users(folder)
    app = create_app(WebConfig(db=url, folder=folder / "web", secret="browser-test", **config))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture()
def server(tmp_path):
    with _serve(tmp_path) as served:
        yield served


@pytest.fixture()
def browser():
    """A function making headless chromium drivers (closed after the test)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def make():
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                    "--lang=vi"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        driver.implicitly_wait(2)
        drivers.append(driver)
        return driver
    yield make
    for d in drivers:
        d.quit()


def _log_in(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _click(driver, driver.find_element(By.ID, "login"))


def _upload(driver, base: str, path: Path, replace: int | None = None) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + ("/upload" if replace is None else f"/upload?replace={replace}"))
    driver.find_element(By.ID, "file").send_keys(str(path))
    period = driver.find_element(By.ID, "period")
    period.clear()
    period.send_keys(PERIOD)
    _click(driver, driver.find_element(By.ID, "check"))


def _wait_for(driver, css: str, seconds: float = 120.0):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _click(driver, element) -> None:
    """Click what submits a form, and wait until the next page has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_driver) -> bool:
        try:
            return ec.staleness_of(page)(_driver)
        except WebDriverException:  # asked while the page was being replaced: chromium says "not in the document"
            return True
    WebDriverWait(driver, 120).until(replaced)


def _shot(driver, name: str) -> None:
    folder = os.environ.get("PGI_WEB_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def _download(driver, href: str) -> bytes:
    """A file the page links to, fetched with the browser's session cookie (as the browser would)."""
    import httpx

    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    return httpx.get(href, cookies=cookies).content


def test_a_months_work_in_the_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, _app = server
    driver = browser()
    _log_in(driver, base, "staff")
    assert "Tổng quan" in driver.find_element(By.TAG_NAME, "h1").text
    # upload an export with a bad row: the preview names it in Vietnamese and stores nothing
    _upload(driver, base, kobo_export(tmp_path / "thang_11.csv", n=60, bad_rows=(3,)))
    problems = driver.find_element(By.ID, "problems").text
    assert "giá trị không có trong danh sách lựa chọn" in problems and "dòng 5" in problems
    assert driver.find_element(By.ID, "count-quarantined").text == "1"
    assert "chưa có dữ liệu nào được lưu" in driver.find_element(By.ID, "not-stored").text
    _shot(driver, "web_preview.png")
    _click(driver, driver.find_element(By.ID, "confirm"))
    assert "Lần nạp số 1" in driver.find_element(By.TAG_NAME, "h1").text
    # fix it: replace the load with the corrected file, checked again before it is stored
    _upload(driver, base, kobo_export(tmp_path / "thang_11_sua.csv", n=60, bad_rows=()), replace=1)
    assert driver.find_element(By.ID, "count-quarantined").text == "0"
    _click(driver, driver.find_element(By.ID, "confirm"))
    assert "Lần nạp số 2" in driver.find_element(By.TAG_NAME, "h1").text
    # weights, with a progress bar that turns into the diagnostics
    driver.get(base + "/weights")
    assert "minh hoạ" in driver.page_source
    period = driver.find_element(By.ID, "weights-period")
    period.clear()
    period.send_keys(PERIOD)
    _click(driver, driver.find_element(By.ID, "run-weights"))
    _wait_for(driver, "#task-done")
    # approve a case
    driver.get(f"{base}/cases?period={PERIOD}")
    buttons = driver.find_elements(By.CSS_SELECTOR, "button.approve")
    assert buttons
    before = len(buttons)
    _click(driver, buttons[0])
    assert len(driver.find_elements(By.CSS_SELECTOR, "button.approve")) == before - 1
    # the digest: made in the background, then downloaded; its first page is the month's digest
    driver.get(base + "/digest")
    period = driver.find_element(By.ID, "digest-period")
    period.clear()
    period.send_keys(PERIOD)
    _click(driver, driver.find_element(By.ID, "make-digest"))
    _wait_for(driver, "#task-done", 240)
    links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a.download")}
    pdf = _download(driver, links[f"digest_{PERIOD}.pdf"])
    assert pdf[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        (tmp_path / "d.pdf").write_bytes(pdf)
        first = subprocess.run(["pdftotext", "-l", "1", str(tmp_path / "d.pdf"), "-"], capture_output=True,
                               text=True, check=True).stdout
        assert "11/2025" in first or "tháng 11" in first.lower()
    driver.get(base + "/")
    _shot(driver, "web_dashboard.png")
    assert "2025-11" in driver.find_element(By.TAG_NAME, "table").text


def test_a_viewer_cannot_reach_a_staff_page(server, browser):
    from selenium.webdriver.common.by import By

    base, _app = server
    driver = browser()
    _log_in(driver, base, "viewer")
    assert not driver.find_elements(By.LINK_TEXT, "Tải tệp lên")
    driver.get(base + "/upload")
    assert "không được phép" in driver.find_element(By.ID, "message").text
    assert not driver.find_elements(By.ID, "file")


def test_two_staff_loading_different_files_at_once_both_succeed(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, _app = server
    drivers = [browser(), browser()]
    for i, (driver, name) in enumerate(zip(drivers, ("staff", "admin"))):
        _log_in(driver, base, name)
        _upload(driver, base, kobo_export(tmp_path / f"file_{i}.csv", n=20, seed=i, prefix=f"u{i}"))
        assert driver.find_element(By.ID, "count-read").text == "20"
    threads = [threading.Thread(target=_click, args=(d, d.find_element(By.ID, "confirm"))) for d in drivers]
    [t.start() for t in threads]
    [t.join() for t in threads]
    titles = sorted(d.find_element(By.TAG_NAME, "h1").text for d in drivers)
    assert titles == ["Lần nạp số 1", "Lần nạp số 2"]


def test_a_large_file_shows_progress_then_its_preview_then_its_load(browser, tmp_path):
    from selenium.webdriver.common.by import By

    with _serve(tmp_path, background_bytes=0) as (base, _app):
        driver = browser()
        _log_in(driver, base, "staff")
        _upload(driver, base, kobo_export(tmp_path / "lon.csv", n=30, bad_rows=(3,)))
        _wait_for(driver, "#count-quarantined", 60)  # the progress page opened the preview by itself
        assert driver.find_element(By.ID, "count-quarantined").text == "1"
        driver.find_element(By.ID, "confirm").click()
        _wait_for(driver, "#load-status", 60)  # ... and the load's page once stored
        assert "Lần nạp số 1" in driver.find_element(By.TAG_NAME, "h1").text
