"""Output paths: checked before any work, never over an input or an existing file without --force, no tracebacks."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from survey.cli import main
from survey.errors import OutputError, SurveyError
from survey.outputs import atomic_path, check_output, check_output_dir
from survey.store import Store
from tests.fixtures import make_answers, to_kobo_csv
from tests.reports.test_free_text import MARGINS, PERIOD, monthly_store

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ the checks


@pytest.fixture()
def export(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(b"a;b\n1;2\n")
    return path


@pytest.mark.parametrize("way", ["same", "dotdot", "symlink", "hardlink"])
@pytest.mark.parametrize("force", [False, True])
def test_an_input_is_never_an_output(export, way, force):
    (export.parent / "sub").mkdir()
    other = {"same": export, "dotdot": export.parent / "sub" / ".." / export.name,
             "symlink": export.parent / "link.csv", "hardlink": export.parent / "hard.csv"}[way]
    if way == "symlink":
        other.symlink_to(export)
    elif way == "hardlink":
        os.link(export, other)
    with pytest.raises(OutputError, match="would be written over the input file") as info:
        check_output(other, inputs=[export], force=force, kind="report")
    assert str(other) in str(info.value) and "\n" not in str(info.value)


def test_the_extension_is_checked(tmp_path):
    with pytest.raises(OutputError, match=r"a report is \.csv or \.xlsx, not '\.pdf'.*ending in \.csv or \.xlsx"):
        check_output(tmp_path / "r.pdf", suffixes=(".csv", ".xlsx"), kind="report")
    with pytest.raises(OutputError, match="not a name without one"):
        check_output(tmp_path / "r", suffixes=(".csv", ".xlsx"))
    assert check_output(tmp_path / "R.XLSX", suffixes=(".csv", ".xlsx")) == tmp_path / "R.XLSX"


def test_an_existing_file_needs_force(export):
    with pytest.raises(OutputError, match="already exists.*use --force to replace it, or choose another name"):
        check_output(export)
    assert check_output(export, force=True) == export


@pytest.mark.parametrize("under", ["blocker/r.csv", "blocker/deeper/r.csv"])
def test_a_parent_that_is_a_file(tmp_path, under):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(OutputError, match=r"blocker is a file, not a folder"):
        check_output(tmp_path / under)
    with pytest.raises(OutputError, match=r"blocker(: the output folder)? is a file"):
        check_output_dir(tmp_path / Path(under).parent, ["r.csv"])


def test_a_folder_is_not_a_file_target(tmp_path):
    with pytest.raises(OutputError, match="would replace a folder"):
        check_output(tmp_path, force=True)


def test_an_output_folder_that_is_a_file(export):
    with pytest.raises(OutputError, match="the output folder is a file"):
        check_output_dir(export, ["a.pdf"])


def test_output_dir_checks_every_file(tmp_path):
    assert check_output_dir(tmp_path / "new" / "out", ["a.pdf", "a.xlsx"]) == [
        tmp_path / "new" / "out" / "a.pdf", tmp_path / "new" / "out" / "a.xlsx"]
    assert not (tmp_path / "new").exists()  # checking creates nothing
    (tmp_path / "a.xlsx").write_text("x")
    with pytest.raises(OutputError, match="a.xlsx: the file already exists"):
        check_output_dir(tmp_path, ["a.pdf", "a.xlsx"])
    assert len(check_output_dir(tmp_path, ["a.pdf", "a.xlsx"], force=True)) == 2


@pytest.mark.parametrize("missing", [False, True])
def test_a_folder_that_cannot_be_written(tmp_path, monkeypatch, missing):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    monkeypatch.setattr("tempfile.mkdtemp", refuse)  # root ignores permission bits; this is what a refusal looks like
    folder = tmp_path / "new" if missing else tmp_path
    with pytest.raises(OutputError, match=f"cannot .* the folder {tmp_path}: Permission denied"):
        check_output(folder / "r.csv")


def test_a_name_the_system_refuses(tmp_path):
    with pytest.raises(OutputError, match="cannot use this name: File name too long"):
        check_output(tmp_path / ("x" * 300 + ".csv"))


# ------------------------------------------------------------------ the atomic writer


def test_atomic_path_writes_whole_files(tmp_path):
    target = tmp_path / "new" / "t.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".csv" and tmp != target
        tmp.write_text("a,b\n")
    assert target.read_text() == "a,b\n" and os.listdir(target.parent) == ["t.csv"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # as a plain new file, not mkstemp's 0600


@pytest.mark.parametrize("existing", [False, True])
def test_atomic_path_leaves_nothing_on_failure(tmp_path, existing):
    target = tmp_path / "t.pdf"
    if existing:
        target.write_bytes(b"previous")
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_bytes(b"%PDF-1.4 partial")
        raise ValueError("bad text")
    assert os.listdir(tmp_path) == (["t.pdf"] if existing else [])
    if existing:
        assert target.read_bytes() == b"previous"


def test_atomic_path_turns_os_errors_into_clear_ones(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("os.replace", full)
    with pytest.raises(OutputError, match="t.csv: cannot write the file: No space left on device"):
        with atomic_path(tmp_path / "t.csv") as tmp:
            tmp.write_text("x")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ ingest --report


def _ingest(path: Path, db: str, *extra: str) -> list[str]:
    return ["ingest", str(path), "--survey", "monthly_difficulties", "--period", PERIOD, "--db", db,
            "--lang", "en", *extra]


@pytest.fixture()
def kobo(tmp_path, monthly) -> tuple[Path, str]:
    """A Kobo export and an empty store."""
    path = to_kobo_csv(make_answers(monthly, 8, seed=12), monthly, tmp_path / "k.csv")
    return path, f"sqlite:///{tmp_path / 's.sqlite'}"


def _no_loads(db: str) -> bool:
    return Store(db).list_loads().empty


@pytest.mark.parametrize("way", ["same", "dotdot", "symlink"])
def test_ingest_report_over_the_input_is_refused_before_loading(kobo, capsys, way):
    path, db = kobo
    before = path.read_bytes()
    (path.parent / "sub").mkdir()
    report = {"same": path, "dotdot": path.parent / "sub" / ".." / path.name, "symlink": path.parent / "link.csv"}[way]
    if way == "symlink":
        report.symlink_to(path)
    assert main(_ingest(path, db, "--report", str(report))) == 1
    err = capsys.readouterr().err
    assert "would be written over the input file" in err and err.count("\n") == 1
    assert path.read_bytes() == before and _no_loads(db)
    assert main(_ingest(path, db, "--report", str(report), "--force")) == 1  # --force never allows it
    assert path.read_bytes() == before and _no_loads(db)


@pytest.mark.parametrize("report, message", [("r.pdf", "a report is .csv or .xlsx, not '.pdf'"),
                                             ("k.csv/r.xlsx", "k.csv is a file, not a folder")])
def test_ingest_bad_report_path_is_refused_before_loading(kobo, capsys, report, message):
    path, db = kobo
    assert main(_ingest(path, db, "--report", str(path.parent / report))) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert _no_loads(db)
    assert not (path.parent / "r.pdf").exists()


def test_ingest_existing_report_needs_force(kobo, capsys):
    path, db = kobo
    report = path.parent / "r.xlsx"
    report.write_bytes(b"last month's report")
    assert main(_ingest(path, db, "--report", str(report))) == 1
    assert "already exists (use --force to replace it, or choose another name)" in capsys.readouterr().err
    assert report.read_bytes() == b"last month's report" and _no_loads(db)
    assert main(_ingest(path, db, "--report", str(report), "--force")) == 0
    assert list(pd.read_excel(report, sheet_name=None)) == ["Summary", "Problems"]
    assert len(Store(db).list_loads()) == 1


# ------------------------------------------------------------------ --out of the other commands


def feedback_store(folder: Path) -> str:
    """A store with one small weighted wave of ``pgi_feedback``; return its URL."""
    from survey.demo import make_population, make_responses
    from survey.ingest import ingest_file
    from survey.questionnaire import load_questionnaire, write_sav
    from survey import jobs
    from survey.weights import RakingConfig
    from survey.weights.margins import load_margins

    qn = load_questionnaire("pgi_feedback")
    answers = make_responses(qn, make_population(load_margins(MARGINS), 2025), 300, seed=2125, prefix="f")
    url = f"sqlite:///{folder / 'feedback.sqlite'}"
    store = Store(url)
    ingest_file(write_sav(qn, folder / "feedback.sav", answers, include_personal=True), qn, PERIOD, store=store)
    jobs.weight_wave(store, qn, PERIOD, RakingConfig(MARGINS, n_replicates=20))
    return url


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("stores")
    return {"monthly": monthly_store(folder), "feedback": feedback_store(folder),
            "empty": f"sqlite:///{folder / 'empty.sqlite'}"}


def _command(name: str, out: str, stores: dict[str, str]) -> list[str]:
    return ["--lang", "en"] + {
        "score": ["score", "--year", "2025", "--no-sensitivity", "--db", stores["feedback"], "--out", out],
        "forecast": ["forecast", "--province", "Bac Ninh", "--year", "2025", "--model", "persistence",
                     "--draws", "500", "--db", stores["empty"], "--out", out],
        "digest": ["digest", "--period", PERIOD, "--db", stores["monthly"], "--out", out],
        "report": ["report", "--year", "2025", "--forecast-province", "Bac Ninh", "--draws", "500",
                   "--db", stores["feedback"], "--out", out],
        "export": ["questionnaire", "export", "pgi_feedback", "--format", "sav", "--out", out],
    }[name]


CASES = [("score", "blocker/s.csv", "blocker is a file, not a folder"),
         ("forecast", "blocker/f.xlsx", "blocker is a file, not a folder"),
         ("digest", "blocker", "the output folder is a file"),
         ("digest", "blocker/out", "blocker is a file, not a folder"),
         ("report", "blocker", "the output folder is a file"),
         ("report", "blocker/out", "blocker is a file, not a folder"),
         ("export", "blocker", "the output folder is a file"),
         ("export", "blocker/q.sav", "blocker is a file, not a folder")]


@pytest.mark.parametrize("command, out, message", CASES)
def test_out_that_is_or_is_under_a_file_is_a_clear_error(stores, tmp_path, capsys, command, out, message):
    (tmp_path / "blocker").write_text("not a folder")
    assert main(_command(command, str(tmp_path / out), stores)) == 1  # no exception: no traceback
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # refused before anything was loaded or computed
    assert os.listdir(tmp_path) == ["blocker"] and (tmp_path / "blocker").read_text() == "not a folder"


@pytest.mark.parametrize("command, name", [("score", "s.csv"), ("forecast", "f.xlsx"), ("export", "q.sav"),
                                           ("digest", f"digest_{PERIOD}.pdf"), ("report", "pgi_estimate_2025.html")])
def test_existing_outputs_are_replaced_only_with_force(stores, tmp_path, capsys, command, name):
    target = tmp_path / name
    target.write_bytes(b"keep me")
    out = str(tmp_path if command in ("digest", "report") else target)
    assert main(_command(command, out, stores)) == 1
    err = capsys.readouterr().err
    assert f"{target}: the " in err and "already exists (use --force" in err and err.count("\n") == 1
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == [name]
    assert main(_command(command, out, stores) + ["--force"]) == 0
    assert target.read_bytes() != b"keep me" and f"wrote {target}" in capsys.readouterr().out
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporary file left


def test_table_extension_is_checked_before_computing(stores, tmp_path, capsys):
    code = main(["score", "--year", "2025", "--db", stores["empty"], "--out", str(tmp_path / "s.txt"), "--lang", "en"])
    assert code == 1 and "a table is .csv or .xlsx, not '.txt'" in capsys.readouterr().err  # not "no weighting"


def test_an_os_error_on_an_output_is_a_clear_error(stores, tmp_path, capsys):
    out = tmp_path / ("x" * 300 + ".csv")
    assert main(_command("score", str(out), stores)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "File name too long" in err and err.count("\n") == 1


def test_the_command_line_shows_no_traceback(tmp_path):
    (tmp_path / "blocker").write_text("x")
    run = subprocess.run([sys.executable, "-m", "survey.cli", "--lang", "en", "questionnaire", "export", "pgi_feedback",
                          "--format", "xlsform", "--out", str(tmp_path / "blocker" / "q.xlsx")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr == f"error: {tmp_path / 'blocker' / 'q.xlsx'}: {tmp_path / 'blocker'} is a file, not a folder " \
                         "(choose an output in a folder, or move that file away)\n"


def test_a_failed_report_leaves_no_partial_pdf(stores, tmp_path, monkeypatch):
    import survey.reports.annual as annual

    real, calls = annual._fig_fan, []

    def fails_in_the_pdf(report, lang):  # the HTML page draws the fan chart first, then the PDF
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("figure failed")
        return real(report, lang)
    monkeypatch.setattr(annual, "_fig_fan", fails_in_the_pdf)
    assert main(_command("report", str(tmp_path), stores)) == 70  # a bug: one line, no traceback
    assert (tmp_path / "pgi_estimate_2025.html").exists() and not (tmp_path / "pgi_estimate_2025.pdf").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_output_error_is_a_survey_error():
    assert issubclass(OutputError, SurveyError)
