"""The weighting's log in Vietnamese and English: notes with a code, stored as JSON, old stores read as written."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import jobs
from survey.i18n import message_ids
from survey.weights import (
    NOTE_CODES, Category, Diagnostics, Margin, Note, PopulationMargins, diagnose, log_from_json, log_to_json,
    make_design, prepare_margins, rake, replicate_design,
)
from survey.weights.margins import Collapse

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "survey" / "weights"


def _raked():
    """13 responses; 'a' has 10 in a1, 2 in a2 and 1 in a3 (a2 and a3 merged, minimum 3); 'b' follows 'a'
    (b1 = a1, b2 = a2 + a3), so one pass meets both margins, on the weights and on every replicate
    (the bootstrap draws within strata a1 / a23, so no replicate loses a category)."""
    data = pd.DataFrame({"a": [1] * 10 + [2] * 2 + [3], "b": [1] * 10 + [2] * 3})
    margins = PopulationMargins(
        "Test", 2024, "test", False,
        (Margin("a", "a", (Category("a1", (1,), 60.0), Category("a2", (2,), 25.0), Category("a3", (3,), 15.0))),
         Margin("b", "b", (Category("b1", (1,), 60.0), Category("b2", (2,), 40.0)))),
        collapse=(Collapse("a", ("a2", "a3"), "a23"),), min_respondents=3)
    prepared = prepare_margins(margins, data)
    design = make_design(data, population=100.0, strata=np.where(data["a"] == 1, "a1", "a23"))
    design = replicate_design(design, "bootstrap", replicates=5, seed=7)
    return rake(design, prepared), prepared


EN = ["a: merged a2 (2), a3 (1) into 'a23' (respondents in brackets; minimum 3)",
      "bootstrap replicate weights: 5 replicates, seed 7",
      "raked on a, b in 1 passes"]
VI = ["a: đã gộp a2 (2), a3 (1) thành 'a23' (số phiếu trả lời trong ngoặc; tối thiểu 3)",
      "trọng số lặp bootstrap: 5 bộ, hạt giống ngẫu nhiên 7",
      "đã hiệu chỉnh lặp theo biên (raking) a, b sau 1 vòng"]


def test_a_raking_with_a_merge_and_bootstrap_replicates_shows_its_log_in_vietnamese_by_default():
    design, prepared = _raked()
    diagnostics = diagnose(design, prepared)
    assert [n.code for n in diagnostics.log] == ["merged", "replicates_seeded", "raked"]
    assert diagnostics.log_text() == VI
    text = diagnostics.text()
    assert text.splitlines()[-3:] == [f"- {line}" for line in VI]
    assert "merged" not in text and "replicate weights" not in text


def test_the_same_log_in_english_is_todays_wording():
    design, prepared = _raked()
    diagnostics = diagnose(design, prepared)
    assert diagnostics.log_text("en") == EN
    assert diagnostics.text("en").splitlines()[-3:] == [f"- {line}" for line in EN]
    assert [str(n) for n in diagnostics.log] == EN


def test_every_note_in_english_reads_as_the_log_was_written():
    # the f-strings the weighting wrote before its notes had codes, with the same values
    lo, hi, seed = 0.5, 1e3, 20251
    cases = {
        Note("sparse_kept", {"margin": "size", "category": "large", "count": 2, "minimum": 5}):
            "size: 'large' has only 2 respondent(s) (< 5); no merge declared, kept",
        Note("replicates", {"type": "JK1", "count": 120}): "JK1 replicate weights: 120 replicates",
        Note("replicates_seeded", {"type": "bootstrap", "count": 200, "seed": seed}):
            f"bootstrap replicate weights: 200 replicates, seed {seed}",
        Note("raked_dropped", {"margins": "a, b", "passes": 12, "dropped": 3}):
            "raked on a, b in 12 passes; 3 replicate(s) left out (a category empty or no convergence)",
        Note("raked_bounded", {"margins": "a, b", "low": f"{lo:g}", "high": f"{hi:g}"}):
            "raked on a, b with weights kept within [0.5, 1000] (logit calibration)",
        Note("poststratified", {"margin": "sector_group"}): "post-stratified on 'sector_group'",
        Note("trimmed", {"low": f"{lo:g}", "high": f"{hi:g}", "moved": 4}): "trimmed to [0.5, 1000]: 4 weights changed",
        Note("calibrated", {"calfun": "logit", "margins": "a, b"}): "calibrated (logit) to a, b",
    }
    for note, english in cases.items():
        assert note.text("en") == english
        vi = note.text("vi")
        assert vi != english and not vi.startswith("weighting.note.")


def test_notes_go_to_json_and_back():
    design, prepared = _raked()
    diagnostics = diagnose(design, prepared)
    stored = json.loads(json.dumps(diagnostics.to_json(), default=float))
    assert stored["log"][0] == {"code": "merged", "params": {"margin": "a", "before": "a2 (2), a3 (1)",
                                                             "into": "a23", "minimum": 3}}
    back = Diagnostics.from_json(stored)
    assert back.log == diagnostics.log and back.log_text("en") == EN
    assert log_from_json(["an old line", *log_to_json(diagnostics.log)])[0] == "an old line"


# ------------------------------------------------------------------ the store, the digest

@pytest.fixture()
def weighted(tmp_path, monthly):
    """A month weighted to a margins file whose sector groups 'b' and 'c' are merged, with bootstrap replicates."""
    import yaml
    from survey.reference import margins_path
    from survey.store import Store
    from survey.weights import RakingConfig
    from tests.fixtures import make_answers, to_kobo_csv

    answers = make_answers(monthly, 120, seed=5)
    sector = answers["sector"]
    # the respondents per group of this draw: the expected log lines below are written from them
    assert ((sector <= 6).sum(), sector.between(7, 14).sum(), (sector >= 15).sum()) == (39, 47, 34)
    spec = yaml.safe_load(margins_path("bac_giang", 2024).read_text(encoding="utf-8"))
    spec["margins"] = {"sector_group": {"question": "sector", "categories": {
        "a": {"codes": [1, 2, 3, 4, 5, 6], "count": 4800},
        "b": {"codes": list(range(7, 15)), "count": 3000},
        "c": {"codes": list(range(15, 22)), "count": 3200}}}}
    spec["collapse"] = [{"margin": "sector_group", "merge": ["b", "c"], "into": "bc"}]
    spec["min_respondents"] = 40
    margins = tmp_path / "margins.yaml"
    margins.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    jobs.load_export(store, to_kobo_csv(answers, monthly, tmp_path / "k.csv"), monthly, "2025-11")
    jobs.weight_wave(store, monthly, "2025-11", RakingConfig(margins, replicates="bootstrap", n_replicates=5,
                                                             seed=11))
    return store


STORED_EN = ["sector_group: merged b (47), c (34) into 'bc' (respondents in brackets; minimum 40)",
             "sector_group: 'a' has only 39 respondent(s) (< 40); no merge declared, kept",
             "bootstrap replicate weights: 5 replicates, seed 11",
             "raked on sector_group in 1 passes"]
STORED_VI = ["sector_group: đã gộp b (47), c (34) thành 'bc' (số phiếu trả lời trong ngoặc; tối thiểu 40)",
             "sector_group: 'a' chỉ có 39 phiếu trả lời (< 40); không có quy tắc gộp nào được khai báo, giữ nguyên",
             "trọng số lặp bootstrap: 5 bộ, hạt giống ngẫu nhiên 11",
             "đã hiệu chỉnh lặp theo biên (raking) sector_group sau 1 vòng"]


def test_a_stored_weighting_keeps_its_notes_and_shows_them_in_the_language(weighted, monthly):
    from survey.store.store import weightings

    with weighted.read() as conn:
        row = conn.execute(weightings.select()).mappings().one()
    assert json.loads(row["log"])[0]["code"] == "merged"
    assert json.loads(row["diagnostics"])["log"] == json.loads(row["log"])
    loaded = jobs.load_weighted(weighted, monthly, "2025-11")
    assert loaded.diagnostics.log_text("en") == STORED_EN
    assert loaded.diagnostics.log_text() == STORED_VI
    assert [str(n) for n in loaded.design.log] == STORED_EN  # the stored log, as the design carries it back
    assert loaded.diagnostics.text("en").splitlines()[-4:] == [f"- {line}" for line in STORED_EN]
    # the digest names the margin as readers know it (reports.po), never by its code
    assert jobs.monthly_digest(weighted, "2025-11", lang="en").value.notes[-4:] == [
        line.replace("sector_group", "sector group") for line in STORED_EN]
    assert jobs.monthly_digest(weighted, "2025-11", lang="vi").value.notes[-4:] == [
        line.replace("sector_group", "nhóm ngành") for line in STORED_VI]


@pytest.mark.parametrize("with_diagnostics", [True, False])
def test_a_store_written_with_plain_string_logs_still_reads(weighted, monthly, with_diagnostics):
    from survey.store.store import weightings

    old = ["sector_group: merged b (47), c (34) into 'bc' (respondents in brackets; minimum 40)",
           "bootstrap replicate weights: 5 replicates, seed 11", "raked on sector_group in 1 passes"]
    with weighted.read() as conn:
        diagnostics = json.loads(conn.execute(weightings.select()).mappings().one()["diagnostics"])
    diagnostics["log"] = old
    with weighted.begin() as conn:
        conn.execute(weightings.update().values(
            log=json.dumps(old), diagnostics=json.dumps(diagnostics) if with_diagnostics else None))
    loaded = jobs.load_weighted(weighted, monthly, "2025-11")
    assert loaded.design.log == tuple(old) and loaded.diagnostics.log == tuple(old)
    for lang in ("vi", "en"):  # shown as written, in any language
        assert loaded.diagnostics.log_text(lang) == old
        assert loaded.diagnostics.text(lang).splitlines()[-3:] == [f"- {line}" for line in old]
    assert jobs.monthly_digest(weighted, "2025-11", lang="vi").value.notes[-3:] == old


# ------------------------------------------------------------------ the catalogue

def _codes_in_source() -> set[str]:
    """Every code given to ``Note(...)`` in survey/weights."""
    codes = set()
    for path in WEIGHTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Note" and node.args:
                assert isinstance(node.args[0], ast.Constant), f"{path.name}: a note's code must be written out"
                codes.add(node.args[0].value)
    return codes


def test_every_weighting_note_is_in_both_languages():
    used = _codes_in_source()
    assert used == set(NOTE_CODES)
    for lang in ("vi", "en"):
        ids = message_ids(lang)
        assert {f"weighting.note.{c}" for c in used} <= ids, lang
    vi = {i for i in message_ids("vi") if i.startswith("weighting.note.")}
    en = {i for i in message_ids("en") if i.startswith("weighting.note.")}
    assert vi == en


def test_the_vietnamese_notes_have_the_same_fields_and_are_translated():
    from survey.i18n import _catalogue

    for code in NOTE_CODES:
        msgid = f"weighting.note.{code}"
        vi, en = _catalogue("vi")[msgid], _catalogue("en")[msgid]
        assert sorted(re.findall(r"\{(\w+)", vi)) == sorted(re.findall(r"\{(\w+)", en)), code
        assert vi != en, code
        assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", vi), code
