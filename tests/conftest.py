"""Shared fixtures: a private copy of the definitions folder that tests may edit."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from survey.questionnaire import default_root, load_questionnaire

ROOT = Path(__file__).resolve().parents[1]

# In CI the property and fuzz tests use a fixed sequence of examples, so a run is repeatable;
# on a developer's machine they keep exploring new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture()
def qdir(tmp_path: Path) -> Path:
    """A copy of questionnaires/ in a temporary folder."""
    dst = tmp_path / "questionnaires"
    shutil.copytree(default_root(), dst)
    return dst


def edit_text(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a file; fail if ``old`` is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def edit_yaml(path: Path, change) -> None:
    """Load a YAML file, let ``change`` edit the data, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture(scope="session")
def pgi():
    return load_questionnaire("pgi_feedback")


@pytest.fixture(scope="session")
def monthly():
    return load_questionnaire("monthly_difficulties")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    """A fresh store: SQLite always; PostgreSQL when PGI_TEST_POSTGRES_URL names a server."""
    from survey.store import Store

    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
        yield s
        s.dispose()
        return
    yield from postgres_store(request.node.name)


def postgres_store(name: str):
    """A Store on PostgreSQL in a schema of its own, dropped afterwards; skipped without a server.

    Set ``PGI_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5433/pgi_test``) to run.
    """
    import hashlib
    import os
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    from survey.store import Store

    url = os.environ.get("PGI_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL store tests: set PGI_TEST_POSTGRES_URL to run them")
    schema = "t_" + hashlib.sha1(name.encode()).hexdigest()[:16]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    store = Store(f"{url}{sep}options={quote(f'-csearch_path={schema}')}")
    try:
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
