"""The notes of the forecasts, the scores and the official tables read in the reader's language.

A note is made as :class:`survey.notes.Note` (a code and parameters) where it arises and is
rendered from ``note.<code>`` (survey/locale/*/LC_MESSAGES/notes.po) wherever a person sees it:
Vietnamese by default, English as it was written before.
"""
from __future__ import annotations

import ast
import copy
import pickle
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from babel.messages.pofile import read_po

from survey import i18n
from survey.forecast import ForecastConfig, forecast_province, forecast_text
from survey.notes import Note, note_text, notes_text
from survey.scoring import ScoringConfig, score, summary_text
from survey.weights import Design
from tests.fixtures import make_answers

SOURCE = Path(__file__).resolve().parents[1] / "survey"
FIELD = re.compile(r"\{(\w+)")

MERGER_EN = ("since 1 July 2025 the province is Bac Giang, Bac Ninh: each old province is simulated, then combined "
             "with uncertain shares around equal (no sourced enterprise counts by old province); that uncertainty "
             "is in the ranges")
MERGER_VI = ("từ 1/7/2025 tỉnh gồm Bắc Giang, Bắc Ninh: mỗi tỉnh cũ được mô phỏng riêng rồi gộp với tỷ trọng không "
             "chắc chắn quanh mức bằng nhau (chưa có số doanh nghiệp theo tỉnh cũ có nguồn); độ bất định này nằm "
             "trong các khoảng")
NO_REPLICATES_EN = "the design has no replicate weights: no standard errors or intervals"
NO_REPLICATES_VI = "thiết kế mẫu không có trọng số lặp: không có sai số chuẩn và khoảng tin cậy"


# ---------------------------------------------------------------- the forecast


@pytest.fixture(scope="module")
def forecast_2025():
    return forecast_province("Bac Ninh", 2025, config=ForecastConfig(draws=500))


def test_a_forecast_for_2025_states_the_merger_in_vietnamese_by_default(forecast_2025):
    assert Note("forecast.merged.dirichlet", {"names": "Bac Giang, Bac Ninh", "concentration": 4.0}) \
        in forecast_2025.notes
    text = forecast_text(forecast_2025)
    assert f"- {MERGER_VI}" in text.splitlines()
    assert MERGER_EN not in text


def test_a_forecast_for_2025_states_the_merger_in_english(forecast_2025):
    text = forecast_text(forecast_2025, "en")
    assert f"- {MERGER_EN}" in text.splitlines()
    assert "từ 1/7/2025" not in text


def test_the_forecast_job_gives_its_notes_in_its_language(tmp_path):
    from survey import jobs
    from survey.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    vi = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=300))
    en = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=300), lang="en")
    assert all(isinstance(n, str) for n in vi.notes + en.notes)
    assert MERGER_VI in vi.notes and MERGER_EN not in vi.notes
    assert MERGER_EN in en.notes and MERGER_VI not in en.notes


def test_notes_read_in_english_and_in_vietnamese_with_local_numbers():
    cases = {
        Note("forecast.survey.not_used", {"years": 0, "needed": 2}):
            "the association's survey is not used (weight 0%): only 0 years have both its estimate and an official "
            "value; at least 2 are needed to know how the two scales relate",
        Note("official.pilot_total", {"name": "Ha Noi", "total": 30.1, "sum": 30.5, "year": 2022}):
            "Ha Noi: total 30.10 differs from the sum of sub-indices 30.50 (2022 was a pilot edition; kept)",
    }
    for note, english in cases.items():
        assert note.text("en") == english
        assert note_text(note, "vi") != english
    assert "(chênh lệch trung bình -0,25)" in Note("forecast.survey.used", {"years": 2, "offset": -0.25}).text("vi")
    assert Note("forecast.survey.used", {"years": 2, "offset": 0.3}).text("vi").count("(chênh lệch trung bình +0,30)") == 1
    assert Note("forecast.subindices.above_max", {"measure": "sub1", "share": 0.053}).text("vi").startswith(
        "Chỉ số thành phần 1: 5,3% số lần mô phỏng")


def test_a_plain_string_note_is_shown_as_written():
    assert note_text("written before", "en") == note_text("written before", "vi") == "written before"
    assert notes_text([Note("forecast.backtest.origins", {"origins": 1}), "as is"], "vi") == [
        "kiểm định lùi có 1 năm gốc: mỗi năm là một lần thử, không phải mỗi tỉnh", "as is"]


def test_a_note_cannot_change():
    note = Note("forecast.backtest.origins", {"origins": 10})
    with pytest.raises(TypeError):
        note.params["origins"] = 3  # type: ignore[index]
    assert hash(note) == hash(Note("forecast.backtest.origins", {"origins": 10}))
    assert pickle.loads(pickle.dumps(note)) == copy.deepcopy(note) == note


# ---------------------------------------------------------------- scoring


@pytest.fixture(scope="module")
def unreplicated(pgi):
    data = make_answers(pgi, 120, seed=5)
    return score(Design(data, np.ones(len(data))), pgi, config=ScoringConfig(sensitivity=False))


def test_a_scoring_note_reads_in_vietnamese_by_default_and_in_english_as_before(unreplicated):
    assert Note("score.no_replicates") in unreplicated.notes
    vi, en = summary_text(unreplicated), summary_text(unreplicated, "en")
    assert f"- {NO_REPLICATES_VI}" in vi.splitlines() and NO_REPLICATES_EN not in vi
    assert f"- {NO_REPLICATES_EN}" in en.splitlines() and NO_REPLICATES_VI not in en


def test_the_annual_report_shows_the_notes_in_its_language(unreplicated, forecast_2025):
    from survey.reports.annual import _notes

    report = SimpleNamespace(scores=unreplicated, forecast=forecast_2025)
    assert NO_REPLICATES_VI in _notes(report, "vi") and MERGER_VI in _notes(report, "vi")
    assert NO_REPLICATES_EN in _notes(report, "en") and MERGER_EN in _notes(report, "en")


# ---------------------------------------------------------------- the catalogue


def _uses_our_note(path: Path, tree: ast.Module) -> bool:
    """Whether a module imports :class:`survey.notes.Note` (the weighting has a ``Note`` of its own, in
    survey/weights/notes.py, with its own messages)."""
    package = ["survey", *path.relative_to(SOURCE).parent.parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "Note" for a in node.names):
            base = package[:len(package) - node.level + 1] if node.level else []
            if ".".join(base + (node.module or "").split(".")) == "survey.notes":
                return True
    return False


def _codes_in_source() -> set[str]:
    """Every code given to ``Note(...)`` in the package (string literals, also inside a conditional)."""
    codes = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not _uses_our_note(path, tree):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Note":
                assert node.args, f"{path}: Note() without a code"
                found = [c.value for c in ast.walk(node.args[0]) if isinstance(c, ast.Constant)
                         and isinstance(c.value, str)]
                assert found, f"{path}:{node.lineno}: the code of a Note must be written out"
                codes |= set(found)
    return codes


def test_every_note_in_the_code_is_in_both_languages_with_the_same_fields():
    codes = _codes_in_source()
    assert len(codes) >= 20  # forecast, its record and backtest, scoring, official table
    for code in codes:
        msgid = f"note.{code}"
        assert i18n.has_message(msgid, "vi") and i18n.has_message(msgid, "en"), msgid
        vi, en = i18n.translations("vi").gettext(msgid), i18n.translations("en").gettext(msgid)
        assert vi != en and set(FIELD.findall(vi)) == set(FIELD.findall(en)), msgid


def _notes_po(lang: str) -> set[str]:
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "notes.po").open("rb") as fh:
        return {m.id for m in read_po(fh, locale=lang) if m.id and m.string}


def test_no_note_of_the_catalogue_is_unused():
    assert _notes_po("en") == _notes_po("vi") == {f"note.{c}" for c in _codes_in_source()}
