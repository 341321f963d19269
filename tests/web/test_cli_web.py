"""pgi-survey users add and serve: the command line's side of the web page."""
from __future__ import annotations

from survey.cli import main


def test_users_add_takes_the_password_from_the_environment_and_it_logs_in(tmp_path, monkeypatch, capsys):
    from survey import jobs
    from survey.store import Store

    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    monkeypatch.setenv("PGI_WEB_PASSWORD", "mật khẩu tám")
    assert main(["users", "add", "lan", "--role", "staff", "--db", db]) == 0
    assert "Đã lưu tài khoản lan (staff)" in capsys.readouterr().out
    store = Store(db)
    assert jobs.verify_user(store, "lan", "mật khẩu tám").value == "staff"
    assert jobs.verify_user(store, "lan", "mật khẩu chín").value is None
    # the hash, never the password, is kept
    with store.read() as conn:
        kept = conn.exec_driver_sql("SELECT password_hash FROM web_users").scalar()
    assert kept.startswith("$argon2id$") and "tám" not in kept


def test_users_add_refuses_a_short_password_and_an_unknown_role_in_vietnamese(tmp_path, monkeypatch, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    monkeypatch.setenv("PGI_WEB_PASSWORD", "ngắn")
    assert main(["users", "add", "lan", "--role", "staff", "--db", db]) == 1
    assert "Mật khẩu phải có ít nhất 8 ký tự" in capsys.readouterr().err
    monkeypatch.setenv("PGI_WEB_PASSWORD", "đủ dài rồi đó")
    assert main(["users", "add", "../x", "--role", "staff", "--db", db]) == 1
    assert "không hợp lệ" in capsys.readouterr().err


def test_serve_is_a_command_with_host_and_port(capsys):
    try:
        main(["serve", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--db" in out
