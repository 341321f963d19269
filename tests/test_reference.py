"""Reference data shipped with the package: provinces, the 2025 merger, official figures."""
from __future__ import annotations

import re

from survey.reference import load_official, load_provinces, province_names, sources_text


def test_63_provinces_merge_into_34():
    df = load_provinces()
    assert len(df) == 63 and df["province"].is_unique
    assert df["province_from_2025"].nunique() == 34
    assert df.set_index("province").loc["Bac Giang", "province_from_2025"] == "Bac Ninh"
    assert set(df["province_from_2025"]) <= set(df["province"])
    assert "Bắc Giang" in set(df["province_vi"])


def test_every_official_row_has_a_documented_source():
    official = load_official()
    keys = set(re.findall(r"^\| (S_[A-Z0-9]+) \|", sources_text(), flags=re.M))
    assert len(official) > 200
    assert official["source"].notna().all()
    assert set(official["source"]) <= keys
    assert set(official["province"]) <= province_names()
    bg = official[(official.province == "Bac Giang") & (official.year == 2022)].set_index("measure")
    assert bg.loc["total", "score"] == 16.43 and bg.loc["sub1", "score"] == 3.45


# ------------------------------------------------------------------ issue 11: one vocabulary, one reference module

import ast  # noqa: E402
import dataclasses  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import survey.forecast  # noqa: E402
from survey import resources  # noqa: E402
import survey.forecast.forecast  # noqa: E402
import survey.forecast.panel  # noqa: E402
import survey.forecast.trust  # noqa: E402
import survey.reports  # noqa: E402
import survey.reports.common  # noqa: E402
import survey.scoring  # noqa: E402
import survey.scoring.official  # noqa: E402
from survey import reference, vocabulary  # noqa: E402
from survey.questionnaire import default_root, load_questionnaire  # noqa: E402
from survey.weights.margins import default_margins_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "survey"
#: names only survey/vocabulary.py may define
VOCABULARY = {"MEASURES", "SUBINDICES", "SCALE", "MERGER_YEAR", "MERGER_DATE", "PROVINCES_BEFORE", "PROVINCES_AFTER",
              "UNOFFICIAL", "NAMES", "SHORT_NAMES", "SUBINDEX_MAX", "TOTAL_MAX"}


def test_every_package_hands_out_the_vocabulary_itself():
    for module in (survey.scoring, survey.scoring.official, survey.forecast, survey.forecast.panel):
        assert module.MEASURES is vocabulary.MEASURES, module.__name__
    for module in (survey.scoring, survey.scoring.official, survey.forecast, survey.forecast.panel,
                   survey.forecast.forecast):
        assert module.MERGER_YEAR is vocabulary.MERGER_YEAR, module.__name__
    assert survey.forecast.SCALE is vocabulary.SCALE is survey.scoring.SCALE
    assert survey.forecast.national_means is reference.national_means is survey.forecast.panel.national_means
    for name in ("official_panel", "last_official", "match_province", "province_key", "load_targets", "targets_for"):
        assert getattr(survey.scoring, name) is getattr(reference, name) is getattr(survey.scoring.official, name)
    assert survey.reports.UNOFFICIAL is survey.reports.common.UNOFFICIAL is vocabulary.ESTIMATE_NOTICE
    assert survey.forecast.forecast.UNOFFICIAL is vocabulary.FORECAST_NOTICE


def test_the_vocabulary_keeps_its_values():
    assert vocabulary.MEASURES == ("sub1", "sub2", "sub3", "sub4", "total")
    assert dict(vocabulary.SCALE) == {"sub1": 10.0, "sub2": 10.0, "sub3": 10.0, "sub4": 10.0, "total": 40.0}
    assert vocabulary.MERGER_YEAR == 2025 == vocabulary.MERGER_DATE.year and vocabulary.MERGER_DATE.month == 7
    assert (vocabulary.PROVINCES_BEFORE, vocabulary.PROVINCES_AFTER) == (63, 34)
    assert vocabulary.ESTIMATE_NOTICE == "Ước tính không chính thức / unofficial estimate"
    assert vocabulary.FORECAST_NOTICE == "Dự báo không chính thức / unofficial forecast"
    assert vocabulary.unofficial("forecast", "vi") == "Dự báo không chính thức"
    assert vocabulary.measure_name("sub3", "en") == "Environmental leadership"
    with pytest.raises(TypeError):
        vocabulary.SCALE["total"] = 50.0  # one source, not changed by a caller


def test_the_provinces_agree_with_the_vocabulary():
    assert len(reference.provinces_of(2024)) == vocabulary.PROVINCES_BEFORE == len(reference.load_provinces())
    assert len(reference.provinces_of(vocabulary.MERGER_YEAR)) == vocabulary.PROVINCES_AFTER
    assert vocabulary.provinces_in(2024) == 63 and vocabulary.provinces_in(2026) == 34
    assert reference.crosswalk()["Bac Giang"] == "Bac Ninh"
    assert set(reference.load_official()["measure"]) <= set(vocabulary.MEASURES)
    assert set(reference.national_means()["measure"]) <= set(vocabulary.MEASURES)


def test_the_questionnaire_names_the_subindices_as_the_vocabulary_does():
    qn = load_questionnaire("pgi_feedback")
    assert [f"sub{s.number}" for s in qn.subindices] == list(vocabulary.SUBINDICES)
    for s in qn.subindices:
        for lang in ("vi", "en"):
            assert s.label.get(lang) == vocabulary.NAMES[f"sub{s.number}"][lang]
            assert s.short.get(lang) == vocabulary.SHORT_NAMES[f"sub{s.number}"][lang]


def _modules():
    return sorted(p for p in SURVEY.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_defines_the_vocabulary_again():
    found = []
    for path in _modules():
        if path == SURVEY / "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and t.id in VOCABULARY:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {t.id}")
        for node in ast.walk(tree):  # `year >= 2025`: the merger year written out
            if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value == 2025
                                                     for c in [node.left, *node.comparators]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: compares with 2025 (use MERGER_YEAR)")
    assert not found, "defined outside survey/vocabulary.py:\n" + "\n".join(found)


#: still building a data path from __file__ instead of survey.reference.data_path (to be moved)
_KNOWN_FILE_PATHS: set[str] = set()


def test_package_data_is_found_one_way():
    found = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        if ("Path(__file__)" in text or "resources.files(" in text) and rel != "survey/resources.py" \
                and rel not in _KNOWN_FILE_PATHS:
            found.append(rel)
    assert not found, f"find package data with survey.resources.data_path (survey.reference re-exports it), " \
                      f"not by hand: {found}"
    assert reference.data_path is resources.data_path


def test_every_loader_uses_the_package_data(monkeypatch, tmp_path):
    monkeypatch.delenv("PGI_QUESTIONNAIRES", raising=False)
    assert default_root() == reference.data_path("questionnaires") == SURVEY / "questionnaires"
    assert (ROOT / "questionnaires").resolve() == default_root().resolve()  # the link staff and docs use
    assert default_margins_path("bac_giang", 2024) == reference.data_path("data", "margins", "bac_giang_2024.yaml")
    assert default_margins_path("bac_giang", 2024).is_file()
    assert reference.targets_folder() == SURVEY / "data" / "targets"
    monkeypatch.setenv("PGI_QUESTIONNAIRES", str(tmp_path))
    assert default_root() == tmp_path


def test_the_forecast_reads_reference_data_without_scoring():
    code = "import sys, survey.forecast; print('survey.scoring' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ typed targets

def test_targets_are_typed_and_frozen():
    t = reference.load_targets("bac_giang")
    assert isinstance(t, reference.Targets) and t.key == "bac_giang" and t.province == "Bac Giang"
    assert "S_BGPLAN" in t.source and t.baseline_year == 2022 and t.baseline["total"] == 16.43
    assert sorted(t.years) == [2023, 2024, 2025]
    assert t.for_year(2024) == {"sub1": 3.95, "sub2": 6.01, "sub3": 4.68, "sub4": 2.49, "rank": 10.0}
    assert t.for_year(2026) == {}
    assert reference.targets_for(t, 2025) == t.for_year(2025) and reference.targets_for(None, 2025) == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.province = "Bac Ninh"
    assert reference.load_targets("atlantis") is None


def test_a_plain_mapping_is_still_taken_as_targets():
    raw = {"province": "X", "source": "plan", "targets": [{"from": 2023, "to": 2024, "sub1": 5, "rank": 3},
                                                          {"from": 2024, "to": 2025, "sub1": 6}]}
    assert reference.targets_for(raw, 2024) == {"sub1": 5.0, "rank": 3.0}  # the first period listed wins
    assert reference.targets_for(raw, 2025) == {"sub1": 6.0}


def test_a_bad_targets_file_is_refused_with_every_problem(tmp_path):
    (tmp_path / "bad.yaml").write_text("province: X\ntargets:\n  - {from: 2025, to: 2023, sub1: 4}\n"
                                       "  - {from: 2023, to: 2025, sub5: 4, rank: ten}\n", encoding="utf-8")
    with pytest.raises(reference.ReferenceDataError) as err:
        reference.load_targets("bad", folder=tmp_path)
    text = str(err.value)
    for part in ("'source' must be a text", "from <= to", "unknown key 'sub5'", "rank: must be a number", "bad.yaml"):
        assert part in text, text
    with pytest.raises(reference.ReferenceDataError, match="not a targets key"):
        reference.load_targets("../bac_giang")


def test_the_command_line_s_choices_are_the_library_s():
    from survey import options
    from survey.forecast import MODELS
    from survey.ingest.readers import FORMATS
    from survey.questionnaire import EXPORT_FORMATS
    from survey.weights import BOOTSTRAP_SCALES, LONELY_PSU, METHODS, REPLICATE_TYPES

    assert MODELS == options.FORECAST_MODELS and FORMATS == options.INGEST_FORMATS
    assert tuple(EXPORT_FORMATS) == options.EXPORT_FORMAT_NAMES and METHODS == options.WEIGHTING_METHODS
    assert (LONELY_PSU, REPLICATE_TYPES, BOOTSTRAP_SCALES) == (options.LONELY_PSU, options.REPLICATE_TYPES,
                                                                options.BOOTSTRAP_SCALES)


def test_help_starts_without_the_heavy_libraries():
    code = ("import sys; import survey.cli; "
            "print(sorted(m for m in ('pandas', 'scipy', 'sqlalchemy', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_store_and_questionnaires_import_without_the_data_libraries():
    """`pgi-survey loads` opens the store and reads definitions: pandas, numpy and the readers are imported
    only when a frame is built or a file read (issue 18: start-up under half a second)."""
    code = ("import sys; import survey.store, survey.questionnaire; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyreadstat', 'openpyxl', 'pyarrow', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_complete_totals_adds_a_sum_only_where_all_four_sub_indices_and_no_total_are_published():
    """The one rule for derived totals (score's record, forecast history, annual report)."""
    import pandas as pd

    from survey.reference import complete_totals

    rows = [(2023, "A", m, v, "T1" if m != "sub4" else "T2") for m, v in
            zip(("sub1", "sub2", "sub3", "sub4"), (1.11, 2.22, 3.33, 4.449))]
    rows += [(2023, "B", m, 5.0, "T1") for m in ("sub1", "sub2", "sub3", "sub4")] + [(2023, "B", "total", 21.0, "T1")]
    rows += [(2023, "C", m, 5.0, "T1") for m in ("sub1", "sub2", "sub3")]  # one sub-index missing
    rows += [(2024, "A", m, 6.0, "T3") for m in ("sub1", "sub2", "sub3", "sub4")]  # another year: its own
    panel = pd.DataFrame(rows, columns=["year", "province", "measure", "score", "source"]).assign(rank=float("nan"))
    out = complete_totals(panel)
    added = out[out["derived"]].set_index(["year", "province"])
    assert sorted(added.index) == [(2023, "A"), (2024, "A")]
    assert added.loc[(2023, "A"), "score"] == 11.11  # 1.11 + 2.22 + 3.33 + 4.449, to 2 decimals
    assert added.loc[(2024, "A"), "score"] == 24.0 and added.loc[(2023, "A"), "source"] == "T1 + T2"
    assert added["measure"].eq("total").all() and added["rank"].isna().all()
    assert len(out) == len(panel) + 2 and not out.loc[: len(panel) - 1, "derived"].any()
