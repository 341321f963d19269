"""Firms' free text in reports is shown as typed ("$...$" is never mathtext); a failed write leaves no file."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from survey.cli import main
from survey.reports.common import plt

ROOT = Path(__file__).resolve().parents[2]
MARGINS = ROOT / "survey" / "data" / "margins" / "bac_giang_2024.yaml"
PERIOD = "2025-11"
BAD_MATH = r"Phí xử lý $\notacommand{x}$ quá cao"   # an unknown mathtext command: used to stop the digest
POWER = r"Chi phí tăng $\alpha^{2}$ lần"             # valid mathtext: used to print as "α 2"


def monthly_store(folder: Path, descriptions: tuple[str, ...] = ()) -> str:
    """A store with one weighted wave of ``monthly_difficulties``; return its URL.

    Each text in ``descriptions`` becomes the description of a firm that agreed to forward
    its case, so it is printed in the digest's list of cases.
    """
    from survey.demo import make_population, make_responses
    from survey.ingest import ingest_file
    from survey.questionnaire import load_questionnaire
    from survey.store import Store
    from survey import jobs
    from survey.weights import RakingConfig
    from survey.weights.margins import load_margins
    from tests.fixtures import to_kobo_csv

    qn = load_questionnaire("monthly_difficulties")
    answers = make_responses(qn, make_population(load_margins(MARGINS), 2025), 60, seed=2036)
    forwarded = answers.index[(answers["forward_consent"] == 1) & answers["description"].notna()]
    for row, text in zip(forwarded, descriptions):
        answers.loc[row, "description"] = text
    url = f"sqlite:///{folder / 'monthly.sqlite'}"
    store = Store(url)
    ingest_file(to_kobo_csv(answers, qn, folder / "monthly.csv"), qn, PERIOD, store=store)
    jobs.weight_wave(store, qn, PERIOD, RakingConfig(MARGINS, use=("sector_group",), replicates="JK1"))
    return url


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    return monthly_store(tmp_path_factory.mktemp("free_text"), (BAD_MATH, POWER))


def pdf_text(path: Path) -> str:
    """The text of a PDF in content order (``pdftotext -raw``)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_mathtext_is_off_in_every_report():
    assert plt.rcParams["text.parse_math"] is False


def test_digest_prints_dollar_text_as_typed(db, tmp_path, capsys):
    assert main(["digest", "--period", PERIOD, "--out", str(tmp_path), "--db", db, "--lang", "en"]) == 0
    assert "error" not in capsys.readouterr().err
    text = pdf_text(tmp_path / f"digest_{PERIOD}.pdf")
    assert BAD_MATH in text and POWER in text


def test_text_page_prints_valid_math_literally(tmp_path):
    from matplotlib.backends.backend_pdf import PdfPages

    from survey.reports.common import text_page

    with PdfPages(tmp_path / "t.pdf") as pdf:
        text_page(pdf, "Ghi chú", [POWER])
    assert POWER in pdf_text(tmp_path / "t.pdf")  # not "Chi phí tăng α 2 lần"


def _fails_on_second_call(real):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("failure while writing")
        return real(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("kind", ["pdf", "xlsx"])
@pytest.mark.parametrize("existing", [False, True])
def test_failed_digest_write_leaves_no_partial_file(db, tmp_path, monkeypatch, kind, existing):
    import survey.reports.digest as digest_module
    from survey.questionnaire import load_questionnaire
    from survey.store import Store
    from survey import jobs

    qn = load_questionnaire("monthly_difficulties")
    digest = digest_module.build_digest(jobs.load_weighted(Store(db), qn, PERIOD).design, qn, PERIOD)
    target = tmp_path / f"digest.{kind}"
    if existing:
        target.write_bytes(b"previous version")
    hook = "table_page" if kind == "pdf" else "safe_cells"
    monkeypatch.setattr(digest_module, hook, _fails_on_second_call(getattr(digest_module, hook)))
    writer = digest_module.write_digest_pdf if kind == "pdf" else digest_module.write_digest_xlsx
    with pytest.raises(RuntimeError, match="failure while writing"):
        writer(digest, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ([target.name] if existing else [])
    if existing:
        assert target.read_bytes() == b"previous version"
