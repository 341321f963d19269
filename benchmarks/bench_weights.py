"""Benchmark raking with replicate weights against R's survey package in the same run.

Generates N respondents (default 100,000) with three margin variables, then times:

- pgi-survey: Rao-Wu bootstrap replicate weights (200) and raking of the weights and every
  replicate to 3 margins, then a mean with its replicate standard error;
- R (when ``Rscript`` with the survey package is installed): the same with
  ``as.svrepdesign(type="subbootstrap", replicates=200)``, ``rake`` and ``svymean``;
- 20 means on the raked design: one ``mean(design, [y1..y20])`` call (one matrix product over the
  n x (1 + R) weights), against 20 calls of one variable each and the bare numpy baseline
  (``W.T @ Y`` and the replicate variance written out), and R's ``svymean(~y1 + ... + y20)``.

Usage: ``.venv/bin/python benchmarks/bench_weights.py [--rows 100000] [--replicates 200] [--json FILE]``
"""
from __future__ import annotations

import argparse
import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey.weights import Category, Margin, PopulationMargins, make_design, mean, rake, replicate_design  # noqa: E402

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); for (v in c("a", "b", "c")) d[[v]] <- factor(d[[v]])
m <- read.csv(args[2])
pop <- function(v) { x <- m[m$margin == v, ]; df <- data.frame(factor(x$code), x$count); names(df) <- c(v, "Freq"); df }
t0 <- proc.time()[["elapsed"]]
set.seed(1)
rd <- as.svrepdesign(svydesign(ids = ~1, weights = ~w0, data = d), type = "subbootstrap",
                     replicates = as.integer(args[3]))
rr <- rake(rd, list(~a, ~b, ~c), list(pop("a"), pop("b"), pop("c")), control = list(maxit = 100, epsilon = 1e-8))
s <- svymean(~y, rr)
t1 <- proc.time()[["elapsed"]]
s20 <- svymean(make.formula(paste0("y", 1:20)), rr)
cat(t1 - t0, coef(s), SE(s), proc.time()[["elapsed"]] - t1, "\n")
"""

VARIABLES = [f"y{i}" for i in range(1, 21)]


def make_data(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"a": rng.choice([1, 2, 3, 4, 5], n, p=[.4, .25, .15, .12, .08]),
                         "b": rng.choice([1, 2, 3], n, p=[.5, .3, .2]),
                         "c": rng.choice(np.arange(1, 11), n)})
    data["y"] = 2 + 0.3 * data["a"] - 0.2 * data["b"] + rng.normal(0, 1, n)
    data["w0"] = 100_000.0 / n
    for i, name in enumerate(VARIABLES):
        data[name] = data["y"] * (1 + i / 10) + rng.normal(0, 1, n)
    margins = pd.DataFrame({"margin": ["a"] * 5 + ["b"] * 3 + ["c"] * 10,
                            "code": [1, 2, 3, 4, 5, 1, 2, 3] + list(range(1, 11)),
                            "count": [50000, 20000, 15000, 10000, 5000, 30000, 40000, 30000] + [10000] * 10})
    return data, margins


def to_margins(table: pd.DataFrame) -> PopulationMargins:
    ms = tuple(Margin(v, v, tuple(Category(f"{v}{c}", (int(c),), float(k)) for c, k in zip(p["code"], p["count"])))
               for v, p in table.groupby("margin", sort=False))
    return PopulationMargins("bench", 2024, "generated", True, ms)


def run_python(data: pd.DataFrame, margins: PopulationMargins, replicates: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    design = replicate_design(make_design(data, "w0"), "bootstrap", replicates=replicates, seed=1)
    raked = rake(design, margins, reuse_replicates=True)  # as weigh(): the replicate design is not used again
    del design
    est = mean(raked, "y").iloc[0]
    return time.perf_counter() - start, est["estimate"], est["se"]


def run_means(design, variables: list[str] = VARIABLES) -> dict[str, float]:
    """Seconds for the means of ``variables``: one call, one call per variable, and bare numpy."""
    start = time.perf_counter()
    together = mean(design, variables)
    one_call = time.perf_counter() - start
    start = time.perf_counter()
    apart = [mean(design, v) for v in variables]
    per_variable = time.perf_counter() - start
    start = time.perf_counter()
    W, Y = design.all_weights(), design.data[variables].to_numpy(dtype=float)
    thetas = (W.T @ Y) / W.sum(axis=0)[:, None]
    se = np.sqrt(design.scale * np.sum((thetas[1:] - thetas[1:].mean(axis=0)) ** 2, axis=0))
    numpy = time.perf_counter() - start
    assert np.allclose(together["se"], se) and np.allclose([a["se"].iloc[0] for a in apart], se)
    return {"one_call": one_call, "per_variable": per_variable, "numpy": numpy}


def run_r(tmp: Path, replicates: int) -> tuple[float, float, float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    script = tmp / "bench.R"
    script.write_text(R_SCRIPT)
    proc = subprocess.run(["Rscript", str(script), str(tmp / "data.csv"), str(tmp / "margins.csv"), str(replicates)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print("R failed:", proc.stderr.strip().splitlines()[-1:])
        return None
    seconds, est, se, means = map(float, proc.stdout.split()[:4])
    return seconds, est, se, means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pgi-bench-w-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # its stores can be gigabytes
    data, table = make_data(args.rows)
    data.to_csv(tmp / "data.csv", index=False)
    table.to_csv(tmp / "margins.csv", index=False)
    py = run_python(data, to_margins(table), args.replicates)
    raked = rake(replicate_design(make_design(data, "w0"), "bootstrap", replicates=args.replicates, seed=1),
                 to_margins(table))
    means = run_means(raked)
    r = run_r(tmp, args.replicates)
    print(f"{args.rows:,} respondents, 3 margins, {args.replicates} bootstrap replicates")
    print(f"{'':<12}{'time (s)':>10}{'mean':>10}{'SE':>10}")
    print(f"{'pgi-survey':<12}{py[0]:>10.2f}{py[1]:>10.4f}{py[2]:>10.5f}")
    if r:
        print(f"{'R survey':<12}{r[0]:>10.2f}{r[1]:>10.4f}{r[2]:>10.5f}")
        print(f"ratio pgi-survey / R: {py[0] / r[0]:.2f} (bootstrap draws differ, so SEs agree only roughly)")
    else:
        print("R with the survey package not found: no ratio")
    print(f"20 means with replicate SEs: one call {means['one_call']:.3f} s, 20 calls {means['per_variable']:.3f} s, "
          f"bare numpy {means['numpy']:.3f} s" + (f", R svymean {r[3]:.3f} s" if r else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "replicates": args.replicates,
                                               "python_s": py[0], "r_s": r[0] if r else None,
                                               "means_20": means, "r_means_20_s": r[3] if r else None}, indent=2))


if __name__ == "__main__":
    main()
