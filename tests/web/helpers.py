"""Stores with accounts, exports with a bad row, and a logged-in test client, for the web tests."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
MARGINS = ROOT / "survey" / "data" / "margins" / "bac_giang_2024.yaml"
PERIOD = "2025-11"
PASSWORD = "mật-khẩu-dài-1"
ROLES = ("viewer", "analyst", "staff", "admin")


def store_with_users(folder: Path) -> str:
    """A new SQLite store with one account per role (named after it); its URL."""
    from survey import jobs
    from survey.store import Store

    url = f"sqlite:///{folder / 'web.sqlite'}"
    store = Store(url)
    for role in ROLES:
        jobs.add_user(store, role, role, PASSWORD)
    store.dispose()
    return url


def monthly_answers(n: int = 40, seed: int = 2036) -> pd.DataFrame:
    """Answers of ``monthly_difficulties`` drawn from the demo population (weightable on the shipped margins)."""
    from survey.demo import make_population, make_responses
    from survey.questionnaire import load_questionnaire
    from survey.weights.margins import load_margins

    qn = load_questionnaire("monthly_difficulties", period=PERIOD)  # the wave's communes
    return make_responses(qn, make_population(load_margins(MARGINS), 2025), n, seed=seed)


def kobo_export(path: Path, n: int = 40, seed: int = 2036, bad_rows: tuple[int, ...] = (3,),
                prefix: str = "uuid", bad_value: object = 7) -> Path:
    """A KoboToolbox CSV of ``n`` answers in which each of ``bad_rows`` says ``bad_value`` (7) to the yes/no
    question "had a difficulty" (a critical question: the row is quarantined)."""
    from survey.questionnaire import load_questionnaire
    from tests.fixtures import to_kobo_csv

    qn = load_questionnaire("monthly_difficulties", period=PERIOD)  # the wave's communes
    answers = monthly_answers(n, seed)
    for row in bad_rows:
        answers["had_difficulty"] = answers["had_difficulty"].astype(object)
        answers.loc[row, "had_difficulty"] = bad_value
    return to_kobo_csv(answers, qn, path, uuids=[f"{prefix}-{i:05d}" for i in range(n)])


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(client, name: str, password: str = PASSWORD):
    """Log ``client`` in (through the login page and its token); the response after the redirect."""
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"})


def token_of(client) -> str:
    """The session's CSRF token, read from a page as a browser would."""
    return csrf_of(client.get("/").text)
