"""The web page on PostgreSQL (several staff at once): accounts, audit and two loads confirmed together.
Skipped without ``PGI_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it)."""
from __future__ import annotations

import threading

from tests.web.helpers import PASSWORD, ROLES, csrf_of, kobo_export, login
from tests.web.test_routes import confirm_url, upload


def test_two_staff_load_at_once_on_postgresql(tmp_path):
    from fastapi.testclient import TestClient

    from survey import jobs
    from survey.web import WebConfig, create_app
    from tests.conftest import postgres_store

    stores = postgres_store("web_two_staff")
    store = next(stores)
    try:
        for role in ROLES:
            jobs.add_user(store, role, role, PASSWORD)
        app = create_app(WebConfig(db=store.url, folder=tmp_path / "web", secret="s"))
        clients = [TestClient(app), TestClient(app)]
        pages = []
        for i, (c, name) in enumerate(zip(clients, ("staff", "admin"))):
            login(c, name)
            pages.append(upload(c, kobo_export(tmp_path / f"f{i}.csv", n=15, seed=i, prefix=f"u{i}")).text)
        done = [None, None]

        def confirm(i):
            done[i] = clients[i].post(confirm_url(pages[i]), data={"csrf": csrf_of(pages[i])})
        threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert sorted(r.url.path for r in done) == ["/loads/1", "/loads/2"]
        loads = jobs.list_loads(store).value
        assert sorted(loads["user_name"]) == ["admin", "staff"] and loads["accepted"].sum() + \
            loads["corrected"].sum() == 28
        log = jobs.audit_log(store).value
        assert sorted(log.loc[log["action"] == "load", "user_name"]) == ["admin", "staff"]
        [c.close() for c in clients]
    finally:
        stores.close()
