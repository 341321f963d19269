"""Raking and post-stratification make one new replicate matrix, a block of rows at a time (issue 18: no
second and third (n, 1 + R) copy at a million rows), and never touch the design they start from (the
numbers themselves are checked against plain numpy in test_memory.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from survey.weights import make_design, poststratify, rake, replicate_design
from survey.weights.margins import Category, Margin, PopulationMargins


def _data(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(1, 4, n), "b": rng.integers(1, 3, n), "w0": 10.0})


def _margins() -> PopulationMargins:
    a = Margin("a", "a", tuple(Category(f"a{c}", (c,), k) for c, k in ((1, 1500.0), (2, 1500.0), (3, 1000.0))))
    b = Margin("b", "b", tuple(Category(f"b{c}", (c,), k) for c, k in ((1, 2500.0), (2, 1500.0))))
    return PopulationMargins("t", 2024, "test", True, (a, b))


def test_the_starting_design_keeps_its_weights():
    data = _data()
    for design in (make_design(data, "w0"), replicate_design(make_design(data, "w0"), "bootstrap", replicates=5,
                                                            seed=1)):
        before = design.all_weights().copy()
        raked = rake(design, _margins())
        post = poststratify(design, _margins().margins[0])
        np.testing.assert_array_equal(design.all_weights(), before)
        assert abs(raked.weights.sum() - 4000.0) < 1e-6 and abs(post.weights.sum() - 4000.0) < 1e-6
