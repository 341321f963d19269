"""Benchmark the forecast's joint simulation: 10,000 draws over the 63 old provinces and the 34 units.

Times :func:`survey.forecast.simulate_units` on the shipped record (the 2024 table completed per draw, mean
reversion fitted per draw, the national shift drawn, the 34 units combined with Dirichlet weights) plus one
unit's rank in each draw, against the leanest honest baseline doing the bare arithmetic of that model in
numpy (the same normal, gamma and uniform draws, the units' weighted means and the rank). Both are warmed
up first (imports and one run), then timed in the same process.

Usage: ``.venv/bin/python benchmarks/bench_forecast.py [--draws 10000]``
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey.forecast import ranks_of, simulate_units, wide_record, year_record  # noqa: E402
from survey.reference import crosswalk, official_panel, official_tables  # noqa: E402


def demo_inputs():
    """The shipped record's 2023 and 2024 cross-sections for the 63 old provinces, and their units."""
    old = sorted(crosswalk())
    wide = wide_record(official_panel())
    tables = official_tables()
    records = [year_record(wide, y, old, tables[y], m) for y, m in ((2023, 21.0), (2024, 25.39))]
    return records, [crosswalk()[p] for p in old]


def ours(records, unit_of, draws: int) -> float:
    sim = simulate_units(records, 2025, unit_of, draws=draws, seed=1, shift_mean=0.0, shift_sd=4.0)
    return float(ranks_of(sim.units, sim.unit_names.index("Bac Ninh")).mean())


def bare(records, unit_of, draws: int) -> float:
    rng = np.random.default_rng(1)
    last = np.nan_to_num(records[-1].total, nan=26.0)
    level = last.mean() + rng.normal(0, 4, draws)
    y = level[:, None] + 0.4 * (last - last.mean()) + rng.standard_normal((draws, last.size)) * 1.2
    y[:, np.isnan(records[-1].total)] = rng.uniform(25.2, 27.6, (draws, int(np.isnan(records[-1].total).sum())))
    names = sorted(set(unit_of))
    units = np.empty((draws, len(names)))
    for j, u in enumerate(names):
        idx = [i for i, n in enumerate(unit_of) if n == u]
        g = rng.gamma(4.0, 1.0, (draws, len(idx)))
        units[:, j] = np.sum(g / g.sum(axis=1, keepdims=True) * y[:, idx], axis=1)
    k = names.index("Bac Ninh")
    return float((1 + np.sum(units > units[:, [k]], axis=1)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    args = parser.parse_args()
    records, unit_of = demo_inputs()
    for f in (ours, bare):
        f(records, unit_of, args.draws)  # warm: imports, caches, first allocation
    t_ours = statistics.median(_time(lambda: ours(records, unit_of, args.draws)) for _ in range(5))
    t_bare = statistics.median(_time(lambda: bare(records, unit_of, args.draws)) for _ in range(5))
    print(f"{args.draws:,} joint draws over 63 provinces and 34 units (scores + ranks): {t_ours * 1000:.1f} ms; "
          f"bare numpy arithmetic of the same model: {t_bare * 1000:.1f} ms; ratio {t_ours / t_bare:.1f}")


def _time(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
