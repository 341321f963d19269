"""Stores and readers shared by the report tests: a weighted month with planted free text, and every
output's text (PDF through pdftotext, HTML without its tags, every XLSX cell)."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]
MARGINS = ROOT / "survey" / "data" / "margins" / "bac_giang_2024.yaml"
PERIOD = "2025-11"


def monthly_store(folder: Path, descriptions: tuple[str, ...] = (), proposals: tuple[str, ...] = (),
                  n: int = 60, no_difficulty: bool = False, use: tuple[str, ...] = ("sector_group",)) -> str:
    """A store with one weighted wave of ``monthly_difficulties``; return its URL.

    Each text in ``descriptions`` (and ``proposals``) becomes the free text of a firm that agreed to
    forward its case. ``no_difficulty``: no firm reports a difficulty this month.
    """
    from survey import jobs
    from survey.demo import make_population, make_responses
    from survey.questionnaire import load_questionnaire
    from survey.store import Store
    from survey.weights import RakingConfig
    from survey.weights.margins import load_margins
    from tests.fixtures import to_kobo_csv

    qn = load_questionnaire("monthly_difficulties")
    answers = make_responses(qn, make_population(load_margins(MARGINS), 2025), n, seed=2036)
    if no_difficulty:
        answers["had_difficulty"] = 0
        for q in qn.questions:
            if q.relevant is not None and "had_difficulty" in str(q.relevant) or q.id in ("reported_to", "reported_date",
                                                                         "resolution"):
                answers[q.id] = None
    forwarded = answers.index[(answers["forward_consent"] == 1) & answers["description"].notna()]
    for row, text in zip(forwarded, descriptions):
        answers.loc[row, "description"] = text
    for row, text in zip(forwarded, proposals):
        answers.loc[row, "proposal"] = text
    url = f"sqlite:///{folder / 'monthly.sqlite'}"
    store = Store(url)
    jobs.load_export(store, to_kobo_csv(answers, qn, folder / "monthly.csv"), qn, PERIOD)
    jobs.weight_wave(store, qn, PERIOD, RakingConfig(MARGINS, use=use, replicates="JK1"))
    return url


def pdf_text(path: Path, *args: str) -> str:
    """The text of a PDF in content order (``pdftotext -raw``: a table cell's lines stay together)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", *(args or ("-raw",)), str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def html_text(path: Path) -> str:
    """The text a reader sees in an HTML report: tags and embedded pictures removed, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def xlsx_cells(path: Path) -> list[str]:
    return [str(c.value) for ws in openpyxl.load_workbook(path) for row in ws.iter_rows() for c in row
            if c.value is not None]


def squeeze(text: str) -> str:
    """Text without any white space, so that a phrase wrapped over lines is still found."""
    return re.sub(r"\s+", "", text)


def outputs_text(folder: Path, stem: str) -> dict[str, str]:
    """The reader's text of the PDF, HTML and XLSX named ``stem``, squeezed."""
    return {"pdf": squeeze(pdf_text(folder / f"{stem}.pdf")), "html": squeeze(html_text(folder / f"{stem}.html")),
            "xlsx": squeeze(" ".join(xlsx_cells(folder / f"{stem}.xlsx")))}
