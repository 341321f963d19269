"""The PDFs are A4 pages with the header, the notice and the page number on each, and no table text cut
(issue 14, item 1): every page is rendered to PNG (pdftoppm) and the text extracted from the PDF
(pdftotext) holds every cell of every table, header cells included."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from survey.reports.annual import annual_document
from tests.reports.helpers import pdf_text, squeeze

A4 = (595.28, 841.89)   # points


def _pages(path) -> list[tuple[float, float]]:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)]


def _documents(demo_reports):
    out, digest, annual = demo_reports
    return {"digest_2025-12": digest.value.document, "pgi_estimate_2025": annual_document(annual.value, "vi")}


@pytest.mark.parametrize("stem", ["digest_2025-12", "pgi_estimate_2025"])
def test_every_page_is_a4_with_header_notice_and_number(demo_reports, stem, tmp_path):
    out = demo_reports[0]
    doc = _documents(demo_reports)[stem]
    pages = _pages(out / f"{stem}.pdf")
    assert len(pages) >= 4 and all(abs(w - A4[0]) < 1 and abs(h - A4[1]) < 1 for w, h in pages)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out / f"{stem}.pdf"), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == len(pages)
    for i in range(1, len(pages) + 1):
        text = squeeze(pdf_text(out / f"{stem}.pdf", "-raw", "-f", str(i), "-l", str(i)))
        assert squeeze(doc.notice) in text, i
        assert squeeze(f"Trang {i} / {len(pages)}") in text, i
        assert squeeze(doc.province) in text and squeeze(doc.period) in text and squeeze(doc.issuer) in text, i


@pytest.mark.parametrize("stem", ["digest_2025-12", "pgi_estimate_2025"])
def test_no_table_text_is_cut(demo_reports, stem):
    out = demo_reports[0]
    doc = _documents(demo_reports)[stem]
    text = squeeze(pdf_text(out / f"{stem}.pdf"))
    tables = doc.tables()
    assert len(tables) >= 5
    missing = [(t.title, cell) for t in tables for cell in (*t.columns, *(c for row in t.rows for c in row))
               if squeeze(cell) not in text]
    assert missing == []


def test_the_html_is_one_offline_file(demo_reports):
    out = demo_reports[0]
    for stem in ("digest_2025-12", "pgi_estimate_2025"):
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)   # nothing fetched from outside
        assert "@import" not in page and "url(http" not in page
        assert page.count("data:image/svg+xml;base64,") >= 2           # charts as vector drawings


@pytest.mark.parametrize("stem", ["digest_2025-12", "pgi_estimate_2025"])
def test_charts_are_vector_drawings_and_fonts_are_embedded(demo_reports, stem):
    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages (poppler-utils) is not installed")
    path = demo_reports[0] / f"{stem}.pdf"
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2          # the header lines only: no picture made of pixels
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu-Sans" in fonts and all(" yes " in line for line in fonts.splitlines()[2:])
