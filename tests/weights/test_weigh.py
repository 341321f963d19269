"""From stored responses to stored weights and back: the weights command end to end."""
from __future__ import annotations

import numpy as np
import pytest

from survey import jobs
from survey.cli import main
from survey.errors import WeightingError
from survey.ingest import ingest_file
from survey.store import load_responses
from survey.weights import RakingConfig, default_margins_path, load_margins, margin_check, mean, weigh
from tests.fixtures import make_answers, to_kobo_csv

MARGINS = default_margins_path("bac_giang", 2024)


@pytest.fixture()
def loaded(any_store, tmp_path, monthly):
    store = any_store
    for month, seed in (("2025-10", 1), ("2025-11", 2)):
        answers = make_answers(monthly, 250, seed=seed)
        ingest_file(to_kobo_csv(answers, monthly, tmp_path / f"{month}.csv", uuids=[f"{month}-{i}" for i in range(250)]),
                    monthly, month, store=store)
    return store


def test_weights_meet_the_margins_and_reload_identically(loaded, monthly):
    config = RakingConfig(MARGINS, n_replicates=30, seed=7)
    result = jobs.weight_wave(loaded, monthly, "2025-10..2025-11", config).value
    d = result.design
    assert d.n == 500 and d.repweights.shape == (500, 30)
    check = margin_check(d, result.margins)
    assert np.allclose(check["achieved"], check["target"], rtol=1e-7)
    again = jobs.load_weighted(loaded, monthly, "2025-10..2025-11")
    a = again.design
    assert np.array_equal(a.weights, d.weights) and np.array_equal(a.repweights, d.repweights, equal_nan=True)
    assert a.scale == d.scale and a.rep_type == "bootstrap"
    assert mean(a, "had_difficulty").equals(mean(d, "had_difficulty"))  # same SE from stored replicates
    text = again.diagnostics.text("en")  # as stored with the weights, not recomputed
    assert text == result.diagnostics.text("en")
    assert again.diagnostics.text() == result.diagnostics.text() == result.diagnostics.text("vi") != text
    assert "illustrative" in text and "Kish design effect" in text and "bootstrap replicate weights: 30" in text
    assert again.diagnostics.check["achieved"].tolist() == check["achieved"].tolist()


def test_a_weighting_without_replicates_keeps_its_steps_for_linearised_errors(loaded, monthly):
    config = RakingConfig(MARGINS, use=("size_class", "ownership"), replicates=None)
    d = jobs.weight_wave(loaded, monthly, "2025-11", config).value.design
    with pytest.warns(Warning, match="no replicate weights"):
        again = jobs.load_weighted(loaded, monthly, "2025-11").design
    assert [s.kind for s in again.steps] == [s.kind for s in d.steps] == ["rake"]
    for key in ("new",):
        assert np.array_equal(again.steps[0].info[key], d.steps[0].info[key])
    first, second = mean(d, "had_difficulty"), mean(again, "had_difficulty")
    assert first.equals(second)
    # without its steps the same weights give another (plain Horvitz-Thompson) standard error
    from dataclasses import replace
    assert mean(replace(again, steps=()), "had_difficulty")["se"].iloc[0] != first["se"].iloc[0]


def test_weighting_is_reproducible_with_a_seed(loaded, monthly):
    data = load_responses(monthly, "2025-11", "2025-11", store=loaded)
    config = RakingConfig(MARGINS, use=("size_class", "ownership"), n_replicates=10, seed=3)
    a, b = weigh(data, config), weigh(data, config)
    assert np.array_equal(a.design.repweights, b.design.repweights)
    c = weigh(data, RakingConfig(MARGINS, use=("size_class", "ownership"), n_replicates=10, seed=4))
    assert not np.array_equal(a.design.repweights, c.design.repweights)


def test_many_replicates_that_cannot_be_raked_are_reported(loaded, monthly):
    # four very skewed margins on 250 uniformly drawn test firms: some bootstrap replicates cannot meet them
    from survey.errors import SurveyWarning
    data = load_responses(monthly, "2025-11", "2025-11", store=loaded)
    with pytest.warns(SurveyWarning, match="replicates could not be raked"):
        result = weigh(data, RakingConfig(MARGINS, n_replicates=20, seed=3))
    assert "replicate(s) left out" in " ".join(map(str, result.design.log))
    dropped = result.diagnostics.replicates[2]  # counted in the diagnostics, whatever the rate
    assert dropped == result.design.dropped_replicates > 0
    assert f"{dropped} of 20 replicates left out" in result.diagnostics.text("en")
    stored = jobs.weight_wave(loaded, monthly, "2025-11", RakingConfig(MARGINS, n_replicates=20, seed=3))
    assert any("could not be raked" in note for note in stored.notes)  # the job hands the warning on


def test_no_responses_or_weights(loaded, monthly):
    with pytest.raises(WeightingError, match="no stored responses of 'monthly_difficulties' for 2024-01"):
        jobs.weight_wave(loaded, monthly, "2024-01", RakingConfig(MARGINS))
    with pytest.raises(WeightingError, match="has no stored weights"):
        jobs.load_weighted(loaded, monthly, "2025-10")


@pytest.mark.parametrize("bad", [dict(method="magic"), dict(replicates="JK9"), dict(n_replicates=1),
                                 dict(trim_limits=(5.0, 1.0))])
def test_a_raking_config_is_checked_when_built(bad):
    with pytest.raises(WeightingError):
        RakingConfig(MARGINS, **bad)


def test_cli_weights_prints_diagnostics(loaded, capsys, tmp_path):
    code = main(["weights", "--survey", "monthly_difficulties", "--period", "2025-10..2025-11", "--margins",
                 str(MARGINS), "--use", "size_class", "ownership", "--replicates", "JK1", "--db", loaded.url,
                 "--lang", "en"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Responses 500, representing 11,000 enterprises" in out and "Stored as weighting #1" in out
    assert "JK1" in out and "size_class" in out
    assert load_margins(MARGINS).illustrative


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_cli_weights_prints_the_diagnostics_in_the_chosen_language(loaded, capsys, monkeypatch, lang):
    monkeypatch.delenv("PGI_LANG", raising=False)
    code = main(["--lang", lang, "weights", "--survey", "monthly_difficulties", "--period", "2025-10..2025-11",
                 "--margins", str(MARGINS), "--use", "size_class", "ownership", "--replicates", "JK1",
                 "--db", loaded.url])
    assert code == 0
    out = capsys.readouterr().out
    vi = ["Số phiếu 500, đại diện cho 11.000 doanh nghiệp", "hiệu ứng thiết kế Kish", "cỡ mẫu hiệu dụng",
          "Trọng số lặp: JK1, 500 bộ", "LƯU Ý: các biên này chỉ mang tính minh họa", "đạt được", "chênh lệch"]
    en = ["Responses 500, representing 11,000 enterprises", "Kish design effect", "effective n",
          "Replicates: JK1, 500", "NOTE: these margins are illustrative", "achieved", "difference"]
    shown, hidden = (vi, en) if lang == "vi" else (en, vi)
    assert all(text in out for text in shown), out
    assert not any(text in out for text in hidden), out


def test_cli_weights_names_strata_for_jkn_and_bounds_for_logit(loaded, monthly, capsys):
    code = main(["weights", "--survey", "monthly_difficulties", "--period", "2025-10..2025-11", "--margins",
                 str(MARGINS), "--use", "size_class", "ownership", "--replicates", "JKn", "--strata", "size_class",
                 "--method", "logit", "--bounds", "0.001", "12", "--db", loaded.url, "--lang", "en"])
    assert code == 0
    stored = jobs.load_weighted(loaded, monthly, "2025-10..2025-11").design
    assert stored.rep_type == "JKn" and stored.repweights.shape == (500, 500)
    data = load_responses(monthly, "2025-10", "2025-11", store=loaded)
    start = 11000 / 500
    assert np.all(stored.weights / start > 0.001) and np.all(stored.weights / start < 12)
    # JKn: one replicate per firm, each dropping it within its size class; rscales (n_h - 1)/n_h
    sizes = data["size_class"].map(data["size_class"].value_counts()).to_numpy()
    assert np.allclose(np.sort(stored.rscales), np.sort((sizes - 1) / sizes))


def test_bounds_are_for_linear_and_logit_only():
    with pytest.raises(WeightingError, match="bounds apply to linear and logit"):
        RakingConfig(MARGINS, bounds=(0.3, 3.0))
    assert RakingConfig(MARGINS, method="logit", bounds=(0.3, 3.0)).bounds == (0.3, 3.0)


def test_margins_file_names_the_design(tmp_path, loaded, monthly):
    spec = MARGINS.read_text(encoding="utf-8") + "\ndesign:\n  strata: size_class\n"
    path = tmp_path / "m.yaml"
    path.write_text(spec, encoding="utf-8")
    assert load_margins(path).design == {"strata": "size_class"}
    data = load_responses(monthly, "2025-11", "2025-11", store=loaded)
    result = weigh(data, RakingConfig(path, use=("size_class", "ownership"), replicates="JKn"))
    assert result.design.rep_type == "JKn" and result.design.strata is not None
    outcome = jobs.weight_wave(loaded, monthly, "2025-11", RakingConfig(path, use=("size_class", "ownership"),
                                                                        replicates="JKn"))
    assert outcome.used["design"] == {"strata": "size_class", "ids": None, "fpc": None}
    path.write_text(MARGINS.read_text(encoding="utf-8") + "\ndesign:\n  zones: zone\n", encoding="utf-8")
    with pytest.raises(WeightingError, match="problem"):
        load_margins(path)


def test_a_stored_weighting_keeps_its_strata_and_clusters(loaded, monthly):
    """Without replicates, a stored weighting's linearised SE must be the cluster design's, not the element one."""
    config = RakingConfig(MARGINS, use=("size_class", "ownership"), replicates=None, strata="size_class",
                          ids=("locality",))
    d = jobs.weight_wave(loaded, monthly, "2025-11", config).value.design
    assert d.strata is not None and d.clusters is not None
    with pytest.warns(Warning, match="no replicate weights"):
        again = jobs.load_weighted(loaded, monthly, "2025-11").design
    assert np.array_equal(again.stratum(), d.stratum()) and np.array_equal(again.psu(), d.psu())
    assert again.lonely_psu == d.lonely_psu
    first, second = mean(d, "had_difficulty"), mean(again, "had_difficulty")
    assert first["se"].iloc[0] == pytest.approx(second["se"].iloc[0], rel=1e-12)
    from dataclasses import replace
    flat = mean(replace(again, strata=None, clusters=None), "had_difficulty")["se"].iloc[0]
    assert flat != pytest.approx(first["se"].iloc[0], rel=1e-3)  # the design matters to the SE
