"""Benchmark the joint forecast simulation: 10,000 draws over 63 provinces (target: under one second).

Times ``simulate`` (every province's score, with common shift and mean reversion drawn per
draw) plus the rank of one province in each draw, against a bare numpy baseline that draws
the same number of independent normals in the same process.

Usage: ``.venv/bin/python benchmarks/bench_forecast.py [--draws 10000] [--provinces 63]``
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey.forecast import ForecastInputs, ranks_of, simulate  # noqa: E402


def demo_inputs(p: int) -> ForecastInputs:
    """Forecast inputs of the size of the real problem: p provinces with a history."""
    rng = np.random.default_rng(0)
    return ForecastInputs([f"P{i}" for i in range(p)], 21.0, 4.4, 4.0, rng.normal(0, 2, p),
                          rng.integers(1, 3, p), np.zeros(p), 0.6, 0.01, 1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--provinces", type=int, default=63)
    args = parser.parse_args()
    p = args.provinces
    inputs = demo_inputs(p)

    def ours():
        draws = simulate(inputs, args.draws, 1, (0, 25.0, 1.0))
        return ranks_of(draws, 0)

    def bare():
        return np.random.default_rng(1).standard_normal((args.draws, p))

    t_ours = statistics.median(_time(ours) for _ in range(5))
    t_bare = statistics.median(_time(bare) for _ in range(5))
    print(f"{args.draws:,} joint draws over {p} provinces (scores + ranks): {t_ours * 1000:.1f} ms "
          f"(target < 1000 ms); bare normal draws: {t_bare * 1000:.1f} ms; ratio {t_ours / t_bare:.1f}")


def _time(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
