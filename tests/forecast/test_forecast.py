"""The forecast: what the record supports first, totals that are sums, censored tables, the pilot break,
the survey's role, the plan's targets, and calibration in a realistic simulation.

Expected values come from the published record read with pandas here, from hand computation, or from
worlds built so that the answer is known; never from the forecast itself.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.forecast import (
    ForecastConfig, backtest, forecast_province, round_probability, simulate_units, simulation_study, wide_record,
    year_record,
)
from survey.forecast.record import mean_range
from survey.reference import crosswalk, load_targets, match_province, official_panel, official_tables

FAST = ForecastConfig(draws=2000)


@pytest.fixture(scope="module")
def bac_ninh():
    return forecast_province("Bac Ninh", 2025, targets=load_targets("bac_giang"), survey_province="Bac Giang",
                             config=FAST)


# ---------------------------------------------------------------- totals are sums

def test_the_total_is_the_sum_of_the_sub_indices_in_every_draw(bac_ninh):
    assert bac_ninh.sub_draws is not None
    assert np.allclose(bac_ninh.sub_draws.sum(axis=1), bac_ninh.total_draws, atol=1e-9)
    table = bac_ninh.table.set_index("measure")
    assert table.loc[["sub1", "sub2", "sub3", "sub4"], "mean"].sum() == pytest.approx(table.loc["total", "mean"])


def test_sub_indices_above_ten_are_kept_and_said(bac_ninh):
    above = (bac_ninh.sub_draws > 10).mean(axis=0)
    said = {n.params["measure"] for n in bac_ninh.notes if getattr(n, "code", "") == "forecast.subindices.above_max"}
    assert said == {m for m, share in zip(("sub1", "sub2", "sub3", "sub4"), above) if share > 0.001}
    assert bac_ninh.sub_draws.max() > 10  # not clipped


# ---------------------------------------------------------------- the pilot is a break

def _with_pilot_jump(panel: pd.DataFrame, jump: float) -> pd.DataFrame:
    out = panel.copy()
    out.loc[out["year"] == 2022, "score"] += jump
    return out


def test_a_pilot_year_jump_does_not_move_the_forecast():
    panel = official_panel()
    base = forecast_province("Bac Ninh", 2025, panel=panel, config=FAST)
    jumped = forecast_province("Bac Ninh", 2025, panel=_with_pilot_jump(panel, -8.0), config=FAST)
    assert jumped.table["mean"].to_numpy() == pytest.approx(base.table["mean"].to_numpy(), nan_ok=True)
    assert jumped.deviation["mean"].iloc[0] == pytest.approx(base.deviation["mean"].iloc[0])


def test_the_national_shift_comes_from_the_stated_prior_not_from_past_jumps():
    result = forecast_province("Bac Ninh", 2025, config=FAST)
    prior = result.scenarios.set_index("scenario").loc["prior"]
    unchanged = result.scenarios.set_index("scenario").loc["unchanged"]
    # the prior's spread (4 points) dominates the level's 80% range: at least 2 * 1.28 * 4 wide
    assert prior["pi80_high"] - prior["pi80_low"] > 2 * 1.28 * 4.0 * 0.95
    # with the national mean held, the range is the province's own uncertainty only
    assert unchanged["pi80_high"] - unchanged["pi80_low"] < 0.5 * (prior["pi80_high"] - prior["pi80_low"])
    # the named scenario moves the level by exactly the 2023 -> 2024 published move (25.39 - 21.00)
    last = result.scenarios.set_index("scenario").loc["as_last"]
    assert last["median"] - unchanged["median"] == pytest.approx(25.39 - 21.00, abs=1e-9)


# ---------------------------------------------------------------- probabilities

def _ladder(n: int = 12, gap: float = 3.0) -> pd.DataFrame:
    """12 provinces, two regular years, spaced ``gap`` points apart: P00 on top by far, P11 at the bottom."""
    rows = []
    for year, level in ((2023, 20.0), (2024, 22.0)):
        for i in range(n):
            rows.append({"year": year, "province": f"P{i:02d}", "measure": "total", "score": level + gap * (n - i)})
    return pd.DataFrame(rows)


def test_probabilities_of_the_top_follow_the_standing():
    config = ForecastConfig(draws=2000, top=3)
    none = {}
    top = forecast_province("P00", 2024 + 1, panel=_ladder(), tables=none, config=config)
    bottom = forecast_province("P11", 2025, panel=_ladder(), tables=none, config=config)
    assert top.probability("top") > 0.95
    assert bottom.probability("top") < 0.05
    assert top.rank_summary()["median_rank"].iloc[0] == 1
    assert bottom.rank_summary()["median_rank"].iloc[0] == 12


def test_probabilities_are_rounded_to_five_points_in_words_and_kept_in_full_in_the_table(bac_ninh):
    assert round_probability(0.4393) == 0.45 and round_probability(0.424) == 0.4 and round_probability(0.976) == 1.0
    p = bac_ninh.probabilities.set_index("event")
    assert p.loc["top", "mc_se"] == pytest.approx(np.sqrt(p.loc["top", "p"] * (1 - p.loc["top", "p"]) / FAST.draws))


def test_the_plan_target_is_reported_among_34_and_as_its_share_of_63(bac_ninh):
    p = bac_ninh.probabilities.set_index("event")
    assert (p.loc["top", "rank_at_most"], p.loc["top", "of"]) == (10, 34)
    assert (p.loc["top_equivalent", "rank_at_most"], p.loc["top_equivalent", "of"]) == (round(10 * 34 / 63), 34) == (5, 34)
    assert p.loc["top_equivalent", "p"] <= p.loc["top", "p"]
    ranks = bac_ninh.ranks
    assert p.loc["top", "p"] == pytest.approx(ranks[ranks.index <= 10].sum())


def test_the_median_rank_and_its_range_are_read_from_the_distribution():
    from survey.forecast import ForecastResult
    dist = pd.Series([0.05, 0.05, 0.5, 0.3, 0.1], index=range(1, 6))
    empty = pd.DataFrame(columns=["event", "p"])
    r = ForecastResult("X", 2025, empty, empty, empty, dist, empty, 5, ["X"], empty, empty)
    s = r.rank_summary().iloc[0]
    assert (s["median_rank"], s["rank_80_low"], s["rank_80_high"]) == (3, 2, 5)


def test_the_plan_s_score_targets_are_shown_beside_official_values_not_the_forecast(bac_ninh):
    t = bac_ninh.targets.set_index("measure")
    assert set(t.index) == {"sub1", "sub2", "sub3", "sub4"}
    assert (t["scale_year"] == 2022).all()
    published = official_panel().query("province == 'Bac Giang' and year == 2024").set_index("measure")["score"]
    assert t["official"].to_dict() == published.drop("total", errors="ignore").to_dict()
    assert "p_target" not in bac_ninh.table.columns


# ---------------------------------------------------------------- history and the merger

def test_the_history_shows_each_old_province_as_published(bac_ninh):
    panel = official_panel()
    for name in ("Bac Giang", "Bac Ninh"):
        shown = bac_ninh.history[bac_ninh.history["province"] == name].set_index(["year", "measure"])["score"]
        published = panel[panel["province"] == name].set_index(["year", "measure"])["score"]
        assert shown.sort_index().to_dict() == published.sort_index().to_dict()
    assert bac_ninh.predecessors == ["Bac Giang", "Bac Ninh"]
    # no constructed average under the merged name: Bac Ninh's 2024 total is its own 27.78
    own = bac_ninh.history.query("province == 'Bac Ninh' and year == 2024 and measure == 'total'")["score"]
    assert own.tolist() == [27.78]


def test_unknown_merger_weights_widen_the_range_and_enterprise_counts_fix_them():
    equal = pd.Series(1.0, index=sorted(crosswalk()))
    dirichlet = forecast_province("Bac Ninh", 2025, config=FAST)
    fixed = forecast_province("Bac Ninh", 2025, enterprise_weights=equal, config=FAST)
    width = lambda r: float(r.deviation["pi80_high"].iloc[0] - r.deviation["pi80_low"].iloc[0])  # noqa: E731
    assert width(dirichlet) > width(fixed)
    heavy = forecast_province("Bac Ninh", 2025, enterprise_weights=equal.mul(
        pd.Series({"Bac Ninh": 9.0}).reindex(equal.index).fillna(1.0)), config=FAST)
    # Bac Ninh (old) stood 3.1 points above Bac Giang in 2024: weighting it 9:1 instead of 1:1 raises the unit
    assert heavy.deviation["mean"].iloc[0] > fixed.deviation["mean"].iloc[0] + 0.2


# ---------------------------------------------------------------- partial tables

def test_the_2024_table_bounds_the_unpublished_top_30_and_finds_the_mean_inconsistent():
    panel = official_panel()
    rec = year_record(wide_record(panel), 2024, sorted(crosswalk()), official_tables()[2024], 25.39)
    assert rec.censored.sum() == 14
    assert [(b.low, b.high, b.count) for b in rec.blocks] == [(26.34, 27.56, 3), (25.24, 26.34, 11)]
    # the highest mean the table allows, by hand: published totals + sums of sub-indices + block tops
    p24 = panel[panel["year"] == 2024]
    totals = p24[p24["measure"] == "total"].set_index("province")["score"]
    subs = p24[p24["measure"] != "total"].pivot_table(index="province", columns="measure", values="score")
    subs = subs.dropna().sum(axis=1).drop(totals.index, errors="ignore")
    highest = (totals.sum() + subs.sum() + 3 * 27.56 + 11 * 26.34) / 63
    assert mean_range(rec)[1] == pytest.approx(highest) and highest == pytest.approx(25.19, abs=0.005)
    assert any(n.code == "forecast.table.mean" for n in rec.problems) is False  # the mean is checked separately
    from survey.forecast import table_problems
    assert [n.code for n in table_problems(rec)] == ["forecast.table.mean"]


def test_a_top_30_province_without_a_value_is_drawn_inside_its_bounds():
    old = sorted(crosswalk())
    rec = year_record(wide_record(official_panel()), 2024, old, official_tables()[2024], 25.39)
    draws = simulate_units([rec], 2025, old, draws=500, seed=3, shift_mean=0.0, shift_sd=4.0)
    drawn = draws.last[:, rec.censored]
    assert drawn.min() >= 25.24 and drawn.max() <= 27.56
    assert ((drawn > 26.34).sum(axis=1) == 3).all()          # exactly three above Hai Duong (rank 13) per draw
    assert np.unique(drawn.round(6)).size > 100              # drawn, not a fixed value


def test_the_latest_official_total_is_the_sum_where_only_sub_indices_are_published():
    rec = year_record(wide_record(official_panel()), 2024, sorted(crosswalk()), official_tables()[2024])
    i = rec.provinces.index("Bac Giang")
    assert rec.total[i] == pytest.approx(6.41 + 7.34 + 5.02 + 5.90) and rec.derived[i]


# ---------------------------------------------------------------- the survey

def _pairs(offset: float) -> pd.DataFrame:
    return pd.DataFrame({"year": [2023, 2024], "measure": "total", "estimate": [20.0, 23.0],
                         "official": [20.0 + offset, 23.0 + offset + 0.5]})


def test_the_survey_carries_no_weight_without_two_paired_years(bac_ninh):
    one = forecast_province("Bac Ninh", 2025, estimates={"total": (40.0, 0.1)}, history=_pairs(0).iloc[:1],
                            survey_province="Bac Giang", config=FAST)
    none = forecast_province("Bac Ninh", 2025, config=FAST)
    assert one.survey_share == 0.0 and one.survey_role == "none"
    assert one.table["mean"].to_numpy() == pytest.approx(none.table["mean"].to_numpy(), nan_ok=True)
    assert any(getattr(n, "code", "") == "forecast.survey.not_used" for n in one.notes)


def test_the_survey_s_weight_follows_its_precision():
    kw = dict(history=_pairs(1.0), survey_province="Bac Giang", config=FAST)
    precise = forecast_province("Bac Ninh", 2025, estimates={"total": (30.0, 0.5)}, **kw)
    vague = forecast_province("Bac Ninh", 2025, estimates={"total": (30.0, 5.0)}, **kw)
    plain = forecast_province("Bac Ninh", 2025, config=FAST)
    assert 0 < vague.survey_share < precise.survey_share < 1
    # the survey says former Bac Giang is at 30 + 1.25: both pull up, the precise one more
    up = lambda r: r.table.set_index("measure").loc["total", "mean"] - plain.table.set_index("measure").loc["total", "mean"]  # noqa: E731,E501
    assert up(precise) > up(vague) > 0


def test_the_survey_moves_its_own_old_province_not_the_merged_one():
    old = sorted(crosswalk())
    unit_of = [crosswalk()[p] for p in old]
    panel = official_panel()
    recs = [year_record(wide_record(panel), y, old, official_tables()[y], m) for y, m in ((2023, 21.0), (2024, 25.39))]
    from survey.forecast import Signal
    k = old.index("Bac Giang")
    base = simulate_units(recs, 2025, unit_of, draws=4000, seed=5, shift_mean=0, shift_sd=4)
    told = simulate_units(recs, 2025, unit_of, draws=4000, seed=5, shift_mean=0, shift_sd=4,
                          signal=Signal(k, 40.0, 0.01))
    moved = told.old.mean(axis=0) - base.old.mean(axis=0)
    common = np.median(moved)
    assert moved[k] - common > 1.0                                   # Bac Giang moves beyond the common shift
    assert abs(moved[old.index("Bac Ninh")] - common) < 0.2          # Bac Ninh (old) only with everyone


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("name", ["Huế", "Hue", "TP. Huế", "Thành phố Huế", "Thừa Thiên Huế"])
def test_hue_resolves_in_2025_tables(name):
    assert match_province(name, 2025) == "Thua Thien Hue"
    assert forecast_province(name, 2025, config=ForecastConfig(draws=200)).province == "Thua Thien Hue"


# ---------------------------------------------------------------- trust

def test_the_backtest_has_the_naive_baseline_computed_by_hand():
    panel = official_panel()
    table = backtest(panel, ForecastConfig(draws=1000))
    naive = table[(table["model"] == "naive") & (table["year"] == 2024)].iloc[0]
    wide = panel[panel["measure"] == "total"].pivot_table(index="province", columns="year", values="score")
    subs = panel[(panel["year"] == 2024) & (panel["measure"] != "total")].pivot_table(
        index="province", columns="measure", values="score").dropna()
    wide[2024] = wide[2024].fillna(subs.sum(axis=1))   # a total published only through its sub-indices
    both = wide[[2023, 2024]].dropna()
    assert naive["cases"] == len(both)
    assert naive["mae_level"] == pytest.approx((both[2024] - both[2023]).abs().mean())
    assert set(table["model"]) == {"naive", "persistence"}   # one regular pair: mean reversion cannot be fitted
    assert {n.code for n in table.attrs["notes"]} == {"forecast.backtest.origins", "forecast.backtest.no_bridge"}


def test_realistic_simulation_intervals_are_calibrated():
    study = simulation_study(panels=200, draws=600, seed=11).set_index("quantity")
    for quantity in ("level", "deviation", "rank"):
        assert 0.75 <= study.loc[quantity, "coverage80"] <= 0.85, study
        assert 0.92 <= study.loc[quantity, "coverage95"] <= 0.98, study


def test_over_confident_intervals_fail_the_realistic_simulation():
    narrow = ForecastConfig(draws=600, shift_sd=0.5)
    study = simulation_study(panels=60, draws=600, seed=11, config=narrow).set_index("quantity")
    assert study.loc["level", "coverage80"] < 0.7


# ---------------------------------------------------------------- the command

def test_the_command_shows_deviation_and_rank_first_then_levels_under_scenarios(tmp_path, capsys):
    assert main(["forecast", "--province", "Bac Ninh", "--year", "2025", "--draws", "2000",
                 "--db", f"sqlite:///{tmp_path / 's.db'}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Bắc Ninh: dự báo Chỉ số Xanh cấp tỉnh (PGI) 2025")
    assert lines[1].startswith("Chênh lệch tổng điểm so với trung bình cả nước (34 tỉnh, thành phố)")
    assert lines[2].startswith("Thứ hạng: trung vị ")
    assert "top 10/34" in lines[3] and "top 5/34" in lines[4] and "top 10/63" in lines[4]
    text = "\n".join(lines)
    assert "nếu trung bình cả nước thay đổi như 2023→2024 (+4,39 điểm)" in text
    assert "Khảo sát của Hiệp hội chiếm 0% trọng số" in text
    assert "Bắc Giang: 2022: 16,43 (bản thí điểm, thang khác); 2024: 24,67 (tổng các chỉ số thành phần)" in text


def test_simulate_and_backtest_commands_print_their_tables(capsys, tmp_path):
    assert main(["forecast", "backtest", "--db", f"sqlite:///{tmp_path / 's.db'}", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "same as last year" in out and "cannot be backtested yet" in out
    assert main(["forecast", "simulate", "--panels", "20", "--draws", "300", "--lang", "en"]) == 0
    assert "the 80% range holds" in capsys.readouterr().out


def test_importing_a_table_says_when_its_mean_disagrees_with_the_published_one(tmp_path):
    from survey import jobs
    from survey.store import Store

    old = sorted(crosswalk())
    totals = 20.0 + np.arange(63) * 0.1          # mean 23.1 exactly
    table = pd.DataFrame({"province": old, "total": totals.round(2), "rank": np.arange(63, 0, -1)})
    path = tmp_path / "pgi_2021.csv"
    table.to_csv(path, index=False)
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    agrees = jobs.import_official(store, path, 2021, mean=23.10, lang="en")
    assert not any("published national mean" in n for n in agrees.notes)
    differs = jobs.import_official(store, path, 2021, mean=23.50, lang="en")
    assert any("disagrees with the published national mean (23.50)" in n and "between 23.10 and 23.10" in n
               for n in differs.notes), differs.notes
