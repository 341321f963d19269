"""The replicate variance summed a block at a time, without holding every replicate's estimates (issue 18).

The score at a million responses has 201 x 128,000 replicate estimates (206 MB) of which it needs only the
variances. ``with_replicates(..., keep=False)`` sums them as the blocks come. Expected values: the
two-pass formula written out in the test (``scale * sum(rscale * (theta - mean)^2)`` over the finite
replicates, the scale adjusted as R's ``survey`` does for those left out), and the hook with
``keep=True``.
"""
from __future__ import annotations

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from survey.weights import design as design_module
from survey.weights import make_design, replicate_design, with_replicates
from survey.weights.replicates import _RunningVariance

from .test_memory import _data


def _two_pass(thetas: np.ndarray, rscales: np.ndarray, scale: float, rep_type: str) -> np.ndarray:
    """Each estimate's replicate variance from all its replicates at once, written out."""
    R, p = thetas.shape
    out = np.full(p, np.nan)
    for j in range(p):
        keep = np.isfinite(thetas[:, j])
        used = int(keep.sum())
        if used == 0:
            continue
        t, rs = thetas[keep, j], rscales[keep]
        if not (rs > 0).any():
            continue
        centre = t[rs > 0].mean()
        if used == R:
            k = scale
        elif rep_type == "bootstrap":
            k = scale * (R - 1) / (used - 1) if used > 1 else np.nan
        else:
            k = scale * R / used
        out[j] = k * np.sum(rs * (t - centre) ** 2)
    return out


_VALUE = st.one_of(st.floats(-50, 50), st.floats(1e6, 1e6 + 1), st.just(np.nan), st.just(np.inf))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), R=st.integers(2, 12), p=st.integers(1, 6), rep_type=st.sampled_from(["bootstrap", "JK1", "BRR"]))
def test_summed_block_by_block_it_is_the_two_pass_variance(data, R, p, rep_type):
    """Any replicate estimates (some not finite, large values close together beside small ones, a column with
    no finite replicate), any rscales (some 0), any split into blocks, whatever the full-sample estimate: the
    variance of the two-pass formula (no sum cancels: a one-pass sum around a distant centre was off by a
    relative 1e-3 here)."""
    thetas = data.draw(arrays(np.float64, (R, p), elements=_VALUE))
    rscales = data.draw(arrays(np.float64, R, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0])))
    full = data.draw(arrays(np.float64, p, elements=st.one_of(st.floats(-50, 50), st.just(np.nan))))
    cuts = sorted(data.draw(st.lists(st.integers(0, R), max_size=4)))
    design = SimpleNamespace(rscales=rscales, scale=0.3, rep_type=rep_type)
    running = _RunningVariance(design, full)
    for a, b in zip([0, *cuts], [*cuts, R]):
        running.add(thetas[a:b])
    expected = _two_pass(thetas, rscales, 0.3, rep_type)
    np.testing.assert_allclose(running.variance(), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(running.dropped(), (~np.isfinite(thetas)).sum(axis=0))


@pytest.mark.parametrize("kind", ["bootstrap", "JK1"])
@pytest.mark.parametrize("views", [False, True])
def test_the_hook_without_the_replicates_gives_the_same_variances(kind, views):
    data = _data(400, seed=5)
    d = replicate_design(make_design(data, "w0"), kind, replicates=30, seed=2) if kind == "bootstrap" \
        else replicate_design(make_design(data.iloc[:60], "w0"), kind)
    Y = np.column_stack([d.data["y"].to_numpy(), (d.data["a"] == 1).to_numpy(float), d.data["c"].to_numpy(float)])

    def ratio(W):
        W = np.asarray(W, dtype=float)
        return (W.T @ Y) / W.sum(axis=0)[:, None]
    kept, summed = (with_replicates(d, ratio, views=views, keep=k) for k in (True, False))
    assert summed.replicates is None and summed.covariance is None
    np.testing.assert_array_equal(summed.estimate, kept.estimate)
    np.testing.assert_allclose(summed.variance, kept.variance, rtol=1e-10)
    np.testing.assert_array_equal(summed.dropped, kept.dropped)


def test_the_replicate_estimates_are_never_held(monkeypatch):
    """20,000 estimates x 201 weight columns would be 32 MB of estimates: summed, the memory is a block's
    (16 replicates: 2.6 MB) and its temporaries."""
    monkeypatch.setattr(design_module, "VIEW_COLUMNS", 16)
    d = replicate_design(make_design(_data(300, seed=1), "w0"), "bootstrap", replicates=200, seed=1)
    columns = np.random.default_rng(0).normal(size=(d.n, 20_000))

    def many(W):
        return np.asarray(W, dtype=float).T @ columns  # (k, 20,000)
    peaks = {}
    for keep in (True, False):
        tracemalloc.start()
        with_replicates(d, many, views=True, keep=keep)
        peaks[keep] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[True] > 201 * 20_000 * 8  # the (R + 1, p) matrix, held when kept
    assert peaks[False] < 201 * 20_000 * 8 / 4


def test_a_covariance_keeps_the_replicates():
    d = replicate_design(make_design(_data(50), "w0"), "bootstrap", replicates=5, seed=1)
    res = with_replicates(d, lambda W: np.asarray(W, dtype=float)[:3].T, covariance=True, keep=False)
    assert res.replicates.shape == (5, 3) and res.covariance.shape == (3, 3)


def test_bootstrap_draws_pass_through_blocks_of_a_quarter_of_the_block_size(monkeypatch):
    """Drawing the bootstrap, beside the replicate matrix itself, only a few arrays of a quarter of
    ``BLOCK_BYTES`` are alive at once (the draws, their counts, the multipliers, the weights): at a million
    responses four 64 MiB arrays were the peak of weighting (2.1 GiB); the draws are the same either way."""
    import sys

    data = _data(100_000, seed=2)
    design = make_design(data, "w0")
    monkeypatch.setattr(sys.modules["survey.weights.replicates"], "BLOCK_BYTES", 4 * 2 ** 20)
    tracemalloc.start()
    made = replicate_design(design, "bootstrap", replicates=40, seed=1, dtype="float64")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    matrix = made.repweights.nbytes  # 32 MB
    # the units' own arrays (about 6 MB here) and a few arrays of a quarter block (1 MiB); whole blocks
    # (4 MiB each) were 20 MB beside the matrix
    assert peak - matrix < 3 * 2 ** 22
    monkeypatch.setattr(sys.modules["survey.weights.replicates"], "BLOCK_BYTES", 64 * 2 ** 20)
    np.testing.assert_array_equal(replicate_design(design, "bootstrap", replicates=40, seed=1,
                                                   dtype="float64").repweights, made.repweights)
