"""Firms' free text in reports is shown as typed ("$...$" is never mathtext); a failed write leaves no file."""
from __future__ import annotations

from pathlib import Path

import pytest

from survey.cli import main
from survey.reports.common import plt
from tests.reports.helpers import MARGINS, PERIOD, monthly_store, pdf_text, squeeze  # noqa: F401 (tests/test_outputs.py imports them from here)

BAD_MATH = r"Phí xử lý $\notacommand{x}$ quá cao"   # an unknown mathtext command: used to stop the digest
POWER = r"Chi phí tăng $\alpha^{2}$ lần"             # valid mathtext: used to print as "α 2"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = monthly_store(tmp_path_factory.mktemp("free_text"), (BAD_MATH, POWER))
    from survey import jobs
    from survey.store import Store

    store = Store(url)
    for reference in jobs.review_cases(store, PERIOD).value["reference"]:
        jobs.approve_case(store, reference)
    return url


def test_mathtext_is_off_in_every_report():
    assert plt.rcParams["text.parse_math"] is False


def test_digest_prints_dollar_text_as_typed(db, tmp_path, capsys):
    assert main(["digest", "--period", PERIOD, "--out", str(tmp_path), "--db", db, "--lang", "en"]) == 0
    assert "error" not in capsys.readouterr().err
    text = squeeze(pdf_text(tmp_path / f"digest_{PERIOD}.pdf"))
    assert squeeze(BAD_MATH) in text and squeeze(POWER) in text


def _partial_then_fail(path_arg: int):
    def write(*args, **kwargs):
        Path(args[path_arg]).write_bytes(b"partial")
        raise RuntimeError("failure while writing")
    return write


@pytest.mark.parametrize("kind", ["pdf", "xlsx", "html"])
@pytest.mark.parametrize("existing", [False, True])
def test_failed_digest_write_leaves_no_partial_file(db, tmp_path, monkeypatch, kind, existing):
    import openpyxl
    import weasyprint

    import survey.reports.digest as digest_module
    import survey.reports.render as render
    from survey import jobs
    from survey.questionnaire import load_questionnaire
    from survey.store import Store

    qn = load_questionnaire("monthly_difficulties")
    digest = digest_module.build_digest(jobs.load_weighted(Store(db), qn, PERIOD).design, qn, PERIOD)
    target = tmp_path / f"digest.{kind}"
    if existing:
        target.write_bytes(b"previous version")
    if kind == "pdf":
        monkeypatch.setattr(weasyprint.HTML, "write_pdf", _partial_then_fail(1))
    elif kind == "xlsx":
        monkeypatch.setattr(openpyxl.Workbook, "save", _partial_then_fail(1))
    else:
        monkeypatch.setattr(Path, "write_text", _partial_then_fail(0))
    writer = {"pdf": digest_module.write_digest_pdf, "xlsx": digest_module.write_digest_xlsx,
              "html": digest_module.write_digest_html}[kind]
    with pytest.raises(RuntimeError, match="failure while writing"):
        writer(digest, target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([target.name] if existing else [])
    if existing:
        assert target.read_bytes() == b"previous version"
    assert render  # the writers all go through survey.reports.render / xlsx and atomic_path
