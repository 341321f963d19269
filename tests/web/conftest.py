"""Fixtures of the web tests: an app on a fresh store with one account per role."""
from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that its test client will move off httpx
    from fastapi.testclient import TestClient

from tests.web.helpers import store_with_users


@pytest.fixture()
def web(tmp_path):
    """(app, store URL) on a fresh store."""
    from survey.web import WebConfig, create_app

    url = store_with_users(tmp_path)
    return create_app(WebConfig(db=url, folder=tmp_path / "web", secret="test-secret")), url


@pytest.fixture()
def client(web):
    """A test client, not logged in."""
    with TestClient(web[0]) as c:
        yield c


@pytest.fixture()
def new_client(web):
    """Another browser (its own cookies) on the same app."""
    clients = []

    def make():
        c = TestClient(web[0])
        clients.append(c)
        return c
    yield make
    for c in clients:
        c.close()
