"""Benchmark the questionnaire stage against bare-library baselines run in the same process.

Prints, for each step, the median wall time of several runs and its ratio to a
baseline that does the least possible work with the underlying library:

- load + validate both definitions  vs  ``yaml.safe_load`` of the same files
- XLSForm export + pyxform convert  vs  pyxform's convert of the written file alone
- SPSS export of N answer rows      vs  ``pyreadstat.write_sav`` of the same frame, no metadata

Usage: ``.venv/bin/python benchmarks/bench_questionnaire.py [--rows 100000]``
"""
from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey.questionnaire import convert_xlsform, default_root, load_questionnaire, write_sav, write_xlsform  # noqa: E402
from survey.questionnaire.spss import _frame, sav_layout  # noqa: E402


def timed(func, repeat: int = 5) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def answers(qn, n: int, seed: int = 1) -> pd.DataFrame:
    """Random but valid-looking answers: codes from each list, numbers in range, short texts."""
    rng = np.random.default_rng(seed)
    cols = {}
    for q in qn.questions:
        if q.type == "multiple":
            codes = np.array([c.code for c in qn.choices(q)])
            cols[q.id] = [" ".join(map(str, rng.choice(codes, size=2, replace=False))) for _ in range(n)]
        elif q.is_select:
            cols[q.id] = rng.choice([c.code for c in qn.choices(q)], size=n)
        elif q.is_numeric:
            cols[q.id] = rng.integers(0, 100, size=n)
        elif q.type == "date":
            cols[q.id] = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 300, size=n), unit="D")
        else:
            cols[q.id] = np.where(rng.random(n) < 0.5, "Khó khăn về thủ tục", "")
    return pd.DataFrame(cols)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    root = default_root()
    files = [root / "pgi_feedback.yaml", root / "monthly_difficulties.yaml", root / "profile.yaml"]
    qn = load_questionnaire("pgi_feedback")
    tmp = Path(tempfile.mkdtemp())
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # its stores can be gigabytes
    xlsx = write_xlsform(qn, tmp / "f.xlsx")
    data = answers(qn, args.rows)
    bare = _frame(sav_layout(qn, include_personal=False), data)

    rows = [
        ("load+validate 2 definitions", timed(lambda: [load_questionnaire(i) for i in ("pgi_feedback", "monthly_difficulties")]),
         "yaml.safe_load", timed(lambda: [yaml.safe_load(f.read_text(encoding="utf-8")) for f in files])),
        ("XLSForm write+convert", timed(lambda: convert_xlsform(write_xlsform(qn, tmp / "g.xlsx")), 3),
         "pyxform convert", timed(lambda: convert_xlsform(xlsx), 3)),
        (f"SPSS export {args.rows:,} rows", timed(lambda: write_sav(qn, tmp / "a.sav", data), 3),
         "pyreadstat.write_sav", timed(lambda: pyreadstat.write_sav(bare, str(tmp / "b.sav")), 3)),
    ]
    print(f"{'step':<32}{'time (s)':>10}   {'baseline':<24}{'time (s)':>10}{'ratio':>8}")
    for name, t, base, tb in rows:
        print(f"{name:<32}{t:>10.4f}   {base:<24}{tb:>10.4f}{t / tb:>8.2f}")


if __name__ == "__main__":
    main()
