"""The statistics side speaks both languages: errors, job notes and the weighting diagnostics.

As tests/test_i18n_errors.py does for the staff-facing files, statically (AST): every error built in
the weighting, scoring, forecast and reference files passes ``code=``, every code has ``error.<code>``
in both catalogues (survey/locale/*/LC_MESSAGES/statistics.po), with its hint, and every field of the
message is one of its ``params``. Then the notes of the jobs and the diagnostics text, in Vietnamese
and in English, through the command line and the jobs.
"""
from __future__ import annotations


import pytest

from survey import i18n
from survey.errors import SurveyError
from tests.test_i18n_errors import FIELD, ROOT, _codes_of, _constructions, _name, _param_names, code_problems

STAT_FILES = sorted(
    [p for folder in ("weights", "scoring", "forecast") for p in (ROOT / "survey" / folder).glob("*.py")]
    + [ROOT / "survey" / "reference.py", ROOT / "survey" / "vocabulary.py"])
#: error codes of these files whose words live in pgi_survey.po (shared with the staff-facing files)
SHARED = {"language", "weighting.unknown_margin"}


@pytest.fixture(autouse=True)
def _no_language_from_the_environment(monkeypatch):
    monkeypatch.delenv("PGI_LANG", raising=False)


def _calls():
    for path in STAT_FILES:
        for call, raised in _constructions(path):
            yield path, call, raised


def _statistics_ids(lang: str) -> set[str]:
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "statistics.po").open("rb") as fh:
        return {m.id for m in read_po(fh, locale=lang) if m.id}


def test_the_scan_sees_the_errors():
    raised = [c for _, c, r in _calls() if r]
    assert len(raised) >= 60


def test_every_error_raised_in_the_statistics_files_has_a_code():
    missing = []
    for path, call, raised in _calls():
        name = _name(call.func) or ""
        if raised and not name.endswith("Error") and name != "Problem":
            continue  # ``raise _not_met(...)``: the helper's own construction is checked
        if not any(k.arg == "code" for k in call.keywords):
            missing.append(f"{path.relative_to(ROOT)}:{call.lineno} {name}(...)")
    assert missing == []


def test_every_code_has_its_words_in_both_catalogues_with_its_params_and_hint():
    problems, codes = [], set()
    for path, call, _raised in _calls():
        code_kw = next((k for k in call.keywords if k.arg == "code"), None)
        found = _codes_of(code_kw.value) if code_kw is not None else None
        if not found:
            continue
        names = _param_names(call)
        where, hinted = f"{path.name}:{call.lineno}", any(k.arg == "hint" for k in call.keywords)
        for code in found:
            codes.add(code)

            def in_statistics(lang: str, code=code, where=where) -> list[str]:
                if code in SHARED or f"error.{code}" in _statistics_ids(lang):
                    return []
                return [f"{where}: error.{code} is not in statistics.po ({lang})"]
            problems += code_problems(where, code, names, hint=hinted, check=in_statistics)
    assert problems == []
    assert len(codes) >= 60


def test_both_statistics_catalogues_have_the_same_ids_and_only_the_statistics_families():
    vi, en = _statistics_ids("vi"), _statistics_ids("en")
    assert vi == en
    errors = {i for i in vi if i.startswith("error.")}
    assert all(i.split(".")[1] in {"weighting", "estimation", "official", "reference", "forecast"} for i in errors)


def test_a_weighting_error_reads_in_either_language():
    from survey.weights.margins import load_margins

    with pytest.raises(SurveyError) as info:
        load_margins("/nonexistent/margins.yaml")
    assert i18n.error_text(info.value, "en") == str(info.value) == "/nonexistent/margins.yaml: margins file not found"
    assert i18n.error_text(info.value, "vi") == "/nonexistent/margins.yaml: không tìm thấy tệp biên"


def test_an_estimation_error_keeps_its_english_and_reads_in_vietnamese():
    from survey.forecast.forecast import resolve_province

    with pytest.raises(SurveyError) as info:
        resolve_province("Bac Giang", 2026)
    assert i18n.error_text(info.value, "en") == str(info.value)
    assert (info.value.params["old"], info.value.params["new"]) == ("Bac Giang", "Bac Ninh")
    assert i18n.error_text(info.value, "vi") == ("Bắc Giang đã sáp nhập vào Bắc Ninh từ ngày 1/7/2025: hãy dự báo cho "
                                                 "Bắc Ninh năm 2026")


# ---------------------------------------------------------------- the notes of the jobs


def test_a_forecast_without_a_weighted_survey_says_in_vietnamese_that_the_survey_is_not_used(tmp_path):
    from survey import jobs
    from survey.forecast import ForecastConfig
    from survey.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    outcome = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=500))
    assert outcome.value.survey_share == 0.0
    note = next(n for n in outcome.notes if n.startswith("khảo sát của Hiệp hội chưa có"))
    assert note == ("khảo sát của Hiệp hội chưa có chỉ số năm 2025 nên không được dùng: chưa có câu trả lời nào "
                    "của 'pgi_feedback' được gán trọng số trong năm 2025")
    assert not any("association's survey" in n for n in outcome.notes)
    english = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=500), lang="en")
    assert ("the association's survey has no index for 2025 and is not used: no weighted responses of "
            "'pgi_feedback' in 2025") in english.notes


def test_the_merger_note_reads_in_either_language():
    from survey.jobs import _merger_note

    vi, en = _merger_note("Bắc Giang", "Bac Ninh"), _merger_note("Bắc Giang", "Bac Ninh", "en")
    assert en.startswith("the association's survey covers the former ") and "part of Bac Ninh since 1 July 2025" in en
    assert vi.startswith("khảo sát của Hiệp hội bao phủ tỉnh Bắc Giang cũ") and "đã sáp nhập vào Bắc Ninh từ ngày 1/7/2025" in vi
    assert "chỉ áp dụng cho phần Bắc Giang cũ" in vi and "informs the former Bac Giang only" in en


def test_the_notes_and_diagnostics_have_their_words_in_both_languages():
    for msgid in _statistics_ids("en") - {""}:
        if msgid.startswith(("job.", "weighting.diagnostics.")):
            vi, en = i18n.translations("vi").gettext(msgid), i18n.translations("en").gettext(msgid)
            assert vi != msgid and en != msgid and set(FIELD.findall(vi)) == set(FIELD.findall(en)), msgid
