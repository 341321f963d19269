"""Replicate weights at a million rows (issue 18): one matrix, float32 when large, swept in blocks.

Every expected number here comes from plain numpy written out in the test (the old whole-matrix
algorithms), never from the functions under test; the block sizes are shrunk so that a few hundred rows
already take many blocks.
"""
from __future__ import annotations

import sys
import numpy as np
import pandas as pd
import pytest

from survey import jobs
from survey.errors import WeightingError
from survey.store import Store
from survey.weights import (
    Category, Margin, PopulationMargins, make_design, mean, poststratify, rake, replicate_design, subset,
    with_replicates,
)
from survey.weights import design as design_module
from survey.weights.design import replicate_dtype

POP = {"a": {1: 1500.0, 2: 1500.0, 3: 1000.0}, "b": {1: 2500.0, 2: 1500.0}, "c": {1: 1000.0, 2: 1800.0, 3: 1200.0}}


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4 KiB: a few columns or rows each, so every loop over blocks runs many times."""
    for module in ("design", "replicates", "calibrate", "estimate"):  # modules: survey.weights.calibrate is a function
        monkeypatch.setattr(sys.modules[f"survey.weights.{module}"], "BLOCK_BYTES", 4096)


def _data(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(1, 4, n), "b": rng.integers(1, 3, n), "c": rng.integers(1, 4, n),
                         "y": rng.normal(5, 2, n), "w0": rng.uniform(5, 10, n)})


def _margins(names=("a", "b", "c")) -> PopulationMargins:
    return PopulationMargins("t", 2024, "test", True, tuple(
        Margin(v, v, tuple(Category(f"{v}{c}", (c,), k) for c, k in POP[v].items())) for v in names))


def _plain_rake(data: pd.DataFrame, W: np.ndarray, names, tol: float = 1e-8) -> tuple[np.ndarray, int]:
    """Iterative proportional fitting of every column of W (n, C), row by row, as raking is defined."""
    W = W.copy()
    for passes in range(1, 501):
        for v in names:
            idx = data[v].to_numpy() - 1
            pop = np.array(list(POP[v].values()))
            totals = np.stack([np.bincount(idx, weights=W[:, j], minlength=len(pop)) for j in range(W.shape[1])], 1)
            W *= (pop[:, None] / totals)[idx]
        gaps = max(np.max(np.abs(np.stack([np.bincount(data[v].to_numpy() - 1, weights=W[:, j])
                                           for j in range(W.shape[1])], 1) - np.array(list(POP[v].values()))[:, None])
                          / np.array(list(POP[v].values()))[:, None]) for v in names)
        if gaps < tol:
            return W, passes
    raise AssertionError("plain raking did not converge")


def test_raking_with_replicates_equals_plain_row_by_row_raking(small_blocks):
    data = _data()
    design = replicate_design(make_design(data, "w0"), "bootstrap", replicates=12, seed=5)
    expected, passes = _plain_rake(data, np.column_stack([design.weights, design.repweights]), "abc")
    raked = rake(design, _margins())
    np.testing.assert_allclose(raked.weights, expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(raked.repweights, expected[:, 1:], rtol=1e-12)
    assert raked.log[-1].params["passes"] == passes
    assert raked.repweights.flags.f_contiguous and raked.repweights.dtype == np.float64


def test_poststratification_equals_plain_scaling(small_blocks):
    data = _data()
    design = replicate_design(make_design(data, "w0"), "bootstrap", replicates=7, seed=2)
    W = np.column_stack([design.weights, design.repweights])
    idx, pop = data["a"].to_numpy() - 1, np.array(list(POP["a"].values()))
    totals = np.stack([np.bincount(idx, weights=W[:, j]) for j in range(W.shape[1])], 1)
    expected = W * (pop[:, None] / totals)[idx]
    post = poststratify(design, _margins(("a",)).margins[0])
    np.testing.assert_allclose(np.column_stack([post.weights, post.repweights]), expected, rtol=1e-13)


def test_bootstrap_replicates_are_the_plain_draws_whatever_the_blocks(small_blocks):
    data = _data(300)
    got = replicate_design(make_design(data, "w0"), "bootstrap", replicates=9, seed=11)
    rng = np.random.default_rng(11)  # Rao-Wu: n - 1 draws out of n per replicate, rescaled by n / (n - 1)
    draws = rng.integers(0, 300, size=(9, 299))
    counts = np.stack([np.bincount(d, minlength=300) for d in draws], axis=1)
    np.testing.assert_array_equal(got.repweights, data["w0"].to_numpy()[:, None] * (counts * 300 / 299))


def test_stratified_cluster_bootstrap_is_the_same_with_small_and_large_blocks(monkeypatch):
    data = _data(400).assign(s=lambda d: d["a"], psu=lambda d: np.arange(400) // 4)
    made = lambda: replicate_design(make_design(data, "w0", strata="s", ids="psu"), "bootstrap",  # noqa: E731
                                    replicates=10, seed=3).repweights
    large = made()
    monkeypatch.setattr(sys.modules["survey.weights.replicates"], "BLOCK_BYTES", 64)
    np.testing.assert_array_equal(made(), large)


def test_replicate_estimates_in_blocks_equal_the_whole_matrix(small_blocks):
    data = _data()
    raked = rake(replicate_design(make_design(data, "w0"), "bootstrap", replicates=15, seed=1), _margins())
    y = data["y"].to_numpy()
    W = np.column_stack([raked.weights, raked.repweights])
    thetas = (W.T @ y) / W.sum(axis=0)
    variance = raked.scale * np.sum((thetas[1:] - thetas[1:].mean()) ** 2)
    res = with_replicates(raked, lambda block: (block.T @ y) / block.sum(axis=0))
    assert abs(res.estimate[0] - thetas[0]) < 1e-12 * abs(thetas[0])
    np.testing.assert_allclose(res.replicates[:, 0], thetas[1:], rtol=1e-12)
    assert abs(res.variance[0] - variance) < 1e-12 * variance
    assert abs(mean(raked, "y")["se"].iloc[0] - np.sqrt(variance)) < 1e-12 * np.sqrt(variance)


def test_statistics_see_read_only_blocks(small_blocks):
    raked = replicate_design(make_design(_data(), "w0"), "bootstrap", replicates=15, seed=1, dtype="float64")
    before = raked.repweights.copy()

    def meddle(W):
        W[:] = 0.0
        return W.sum(axis=0)
    with pytest.raises(ValueError):
        with_replicates(raked, meddle)
    np.testing.assert_array_equal(raked.repweights, before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_view_blocks_are_the_design_s_own_columns_uncopied(monkeypatch, dtype):
    """``views=True``: the weights alone, then a few replicates at a time, each a read-only view of the
    design's own matrix in its own dtype (no copy); together, every column once, in order."""
    monkeypatch.setattr(design_module, "VIEW_COLUMNS", 4)
    raked = replicate_design(make_design(_data(), "w0"), "bootstrap", replicates=10, seed=1, dtype=dtype)
    blocks = list(raked.weight_blocks(views=True))
    assert [first for first, _ in blocks] == [0, 1, 5, 9] and [b.shape[1] for _, b in blocks] == [1, 4, 4, 2]
    assert all(not b.flags.writeable for _, b in blocks)
    assert np.shares_memory(blocks[0][1], raked.weights)
    assert all(np.shares_memory(b, raked.repweights) and b.dtype == np.dtype(dtype) for _, b in blocks[1:])
    np.testing.assert_array_equal(np.column_stack([b for _, b in blocks]),
                                  np.column_stack([raked.weights, raked.repweights]))
    y = _data()["y"].to_numpy()
    W = np.column_stack([raked.weights, raked.repweights.astype(float)])
    res = with_replicates(raked, lambda block: (block.astype(float).T @ y) / block.astype(float).sum(axis=0),
                          views=True)
    thetas = (W.T @ y) / W.sum(axis=0)
    np.testing.assert_allclose(res.replicates[:, 0], thetas[1:], rtol=1e-12)
    assert abs(res.variance[0] - raked.scale * np.sum((thetas[1:] - thetas[1:].mean()) ** 2)) < 1e-9 * res.variance[0]


def test_float32_replicates_give_the_float64_standard_errors():
    data = _data(20_000, seed=8)
    designs = {dtype: rake(replicate_design(make_design(data, "w0"), "bootstrap", replicates=40, seed=4,
                                            dtype=dtype), _margins()) for dtype in ("float64", "float32")}
    assert designs["float32"].repweights.dtype == np.float32 and designs["float32"].repweights.flags.f_contiguous
    m64, m32 = (mean(designs[k], "y").iloc[0] for k in ("float64", "float32"))
    assert m64["estimate"] == pytest.approx(m32["estimate"], rel=1e-13)  # the weights themselves stay float64
    # stated tolerance: float32 keeps 7 digits of each replicate weight; a standard error moves far less
    assert m32["se"] == pytest.approx(m64["se"], rel=1e-5)
    np.testing.assert_allclose(designs["float32"].repweights, designs["float64"].repweights, rtol=1e-6)


def test_float32_is_chosen_only_for_large_replicate_matrices():
    assert replicate_dtype(1_000_000, 200) == np.float32
    assert replicate_dtype(100_000, 200) == np.float64  # 153 MiB: the goldens' sizes stay float64
    assert replicate_dtype(1_000_000, 200, "float64") == np.float64
    assert replicate_dtype(10, 5, "float32") == np.float32
    with pytest.raises(WeightingError) as err:
        replicate_dtype(10, 5, "int64")
    assert err.value.code == "weighting.replicate_dtype"


def test_subset_keeps_the_dtype_and_zeroes_the_rows_outside(small_blocks):
    design = replicate_design(make_design(_data(), "w0"), "bootstrap", replicates=6, seed=1, dtype="float32")
    inside = design.data["a"].to_numpy() == 2
    sub = subset(design, inside)
    assert sub.repweights.dtype == np.float32 and sub.repweights.flags.f_contiguous
    np.testing.assert_array_equal(sub.repweights, np.where(inside[:, None], design.repweights, 0.0))


@pytest.fixture()
def wave_store(any_store, monthly) -> Store:
    """A store (SQLite, and PostgreSQL with a server) holding one empty wave, 2025-10."""
    with any_store.begin() as conn:
        any_store.wave_id(conn, monthly, "2025-10")
    return any_store


def test_stored_replicates_come_back_as_one_matrix(wave_store, monthly):
    n = 45_000  # three chunks of rows
    store, keys = wave_store, pd.DataFrame({"period": "2025-10", "response_key": [f"k{i:06d}" for i in range(n)]})
    rng = np.random.default_rng(2)
    reps = np.asfortranarray(rng.uniform(0, 3, (n, 5)).astype(np.float32))
    reps[7, 2] = np.nan  # a dropped replicate stays NaN
    meta = {"margins_file": "m.yaml", "margins_sha256": "0", "method": "rake", "summary": {}, "log": [],
            "rep_type": "bootstrap", "scale": 0.25, "rscales": [1.0] * 5}
    wid = store.save_weights(monthly.id, "2025-10", "2025-10", keys=keys, weights=np.arange(n, dtype=float),
                             repweights=reps, meta=meta)
    back = store.read_replicates(wid, dtype=np.float32)
    assert back.dtype == np.float32 and back.flags.f_contiguous
    np.testing.assert_array_equal(back, reps)  # float32 -> stored float64 bytes -> float32 is exact
    order = rng.permutation(n)  # stored row i to row order[i]
    np.testing.assert_array_equal(store.read_replicates(wid, order)[order], reps.astype(float))
    rows = store.read_weights(wid)
    np.testing.assert_array_equal(np.vstack(rows["replicates"].to_numpy()), reps.astype(float))
    assert rows["weight"].tolist() == list(range(n))
    none = store.save_weights(monthly.id, "2025-10", "2025-10", keys=keys.head(3), weights=np.ones(3),
                              repweights=None, meta=meta | {"rep_type": None, "rscales": None})
    assert store.read_replicates(none) is None and store.read_weights(none)["replicates"].isna().all()


def test_a_float32_weighting_reloads_identically(tmp_path, monthly, monkeypatch):
    from survey.ingest import ingest_file
    from survey.weights import RakingConfig, default_margins_path
    from tests.fixtures import make_answers, to_kobo_csv

    monkeypatch.setattr(design_module, "FLOAT32_ABOVE_BYTES", 1024)  # float32 already at 300 x 30
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_file(to_kobo_csv(make_answers(monthly, 300, seed=1), monthly, tmp_path / "m.csv",
                            uuids=[f"u{i}" for i in range(300)]), monthly, "2025-10", store=store)
    made = jobs.weight_wave(store, monthly, "2025-10", RakingConfig(default_margins_path("bac_giang", 2024),
                                                                    n_replicates=30, seed=7)).value.design
    again = jobs.load_weighted(store, monthly, "2025-10").design
    assert made.repweights.dtype == again.repweights.dtype == np.float32
    np.testing.assert_array_equal(again.repweights, made.repweights)
    assert mean(again, "had_difficulty").equals(mean(made, "had_difficulty"))


def test_calibration_of_every_replicate_equals_plain_greg():
    from survey.weights import calibrate

    data = _data()
    design = replicate_design(make_design(data, "w0"), "bootstrap", replicates=6, seed=9)
    X = np.column_stack([np.ones(len(data))] + [(data[v] == c).to_numpy(float) for v in "abc"
                                                for c in list(POP[v])[1:]])
    T = np.array([4000.0] + [POP[v][c] for v in "abc" for c in list(POP[v])[1:]])
    W = np.column_stack([design.weights, design.repweights])
    expected = np.column_stack([w * (1 + X @ np.linalg.solve(X.T @ (X * w[:, None]), T - X.T @ w)) for w in W.T])
    got = calibrate(design, _margins())
    np.testing.assert_allclose(np.column_stack([got.weights, got.repweights]), expected, rtol=1e-10)


def test_trimming_of_every_replicate_equals_plain_trimming():
    from survey.weights import trim

    design = replicate_design(make_design(_data(), "w0"), "bootstrap", replicates=5, seed=2)
    W = np.column_stack([design.weights, design.repweights])
    expected = W.copy()
    for j in range(W.shape[1]):  # R's trimWeights(strict=TRUE): clip, spread the excess over the others, repeat
        w = W[:, j]
        while ((w < 6) | (w > 15)).any():
            inside = (w >= 6) & (w <= 15)
            new = np.clip(w, 6, 15)
            new[inside] += (w - new).sum() / inside.sum()
            w = new
        expected[:, j] = w
    got = trim(design, 6, 15)
    np.testing.assert_allclose(np.column_stack([got.weights, got.repweights]), expected, rtol=1e-12)
    assert got.log[-1].params["moved"] == int(np.sum(expected[:, 0] != W[:, 0]))


@pytest.mark.parametrize("kind", ["bootstrap", "JK1", "repeated"])
def test_degrees_of_freedom_of_large_replicate_designs_are_the_rank(small_blocks, kind):
    from survey.weights import degrees_of_freedom

    base = make_design(_data(200), "w0")
    if kind == "repeated":  # 30 replicates, 10 different ones: rank 10
        mult = np.random.default_rng(1).integers(0, 3, (200, 10)).astype(float)
        design = replicate_design(base, "bootstrap", multipliers=np.tile(mult, 3))
    else:
        design = replicate_design(base, kind, replicates=30, seed=1)
    rank = np.linalg.matrix_rank(design.repweights)  # JK1: 200 replicates of rank 200
    assert degrees_of_freedom(design) == rank - 1 and (kind != "repeated" or rank == 10)


def test_raking_to_margins_that_disagree_names_the_margin_missed():
    data = _data()
    b = Margin("b", "b", (Category("b1", (1,), 3000.0), Category("b2", (2,), 2000.0)))  # 5,000 firms, a: 4,000
    margins = PopulationMargins("t", 2024, "test", True, (_margins(("a",)).margins[0], b))
    design = replicate_design(make_design(data, "w0"), "bootstrap", replicates=4, seed=1)
    with pytest.raises(WeightingError) as err:
        rake(design, margins, maxit=20)
    assert err.value.code == "weighting.not_converged"
    # after each pass the weights add up to b's 5,000, so a's categories are off by 5000/4000 - 1 = 25%
    (problem,) = err.value.problems
    assert problem.where == "a" and problem.params["gap"] == pytest.approx(0.25, rel=1e-9)


@pytest.mark.parametrize("how", ["rake", "trimmed rake", "calibrate", "poststratify"])
def test_reusing_the_replicate_matrix_gives_the_same_weights(how):
    from survey.weights import calibrate

    data = _data()
    adjust = {"rake": lambda d, **k: rake(d, _margins(), **k),
              "trimmed rake": lambda d, **k: rake(d, _margins(), trim_limits=(3.0, 12.0), **k),
              "calibrate": lambda d, **k: calibrate(d, _margins(), calfun="logit", bounds=(0.5, 2), **k),
              "poststratify": lambda d, **k: poststratify(d, _margins(("a",)).margins[0], **k)}[how]
    made = lambda: replicate_design(make_design(data, "w0"), "bootstrap", replicates=8, seed=6)  # noqa: E731
    kept = made()
    expected = adjust(kept)
    assert not np.shares_memory(expected.repweights, kept.repweights)  # by default a new matrix
    given = made()
    reused = adjust(given, reuse_replicates=True)
    assert reused.repweights is given.repweights  # written over the matrix given: one (n, R) matrix alive
    np.testing.assert_array_equal(reused.weights, expected.weights)
    np.testing.assert_array_equal(reused.repweights, expected.repweights)


def test_weigh_reuses_the_replicate_matrix_it_made(monkeypatch):
    """weigh gives the numbers of replicate_design then rake, with one (n, R) matrix (it made the first)."""
    from survey.weights import RakingConfig, default_margins_path, load_margins, prepare_margins, weigh
    from tests.fixtures import make_answers
    from survey.questionnaire import load_questionnaire

    monthly = load_questionnaire("monthly_difficulties")
    data = make_answers(monthly, 400, seed=3)
    config = RakingConfig(default_margins_path("bac_giang", 2024), n_replicates=12, seed=5)
    pm = prepare_margins(load_margins(config.margins), data)
    expected = rake(replicate_design(make_design(data, population=pm.total), "bootstrap", replicates=12, seed=5),
                    pm)
    made = []
    real = sys.modules["survey.weights.weigh"].replicate_design
    monkeypatch.setattr(sys.modules["survey.weights.weigh"], "replicate_design",
                        lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    got = weigh(data, config).design
    assert got.repweights is made[0].repweights
    np.testing.assert_array_equal(got.repweights, expected.repweights)
    np.testing.assert_array_equal(got.weights, expected.weights)
