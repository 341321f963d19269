"""The benchmark suite: every stage at scale, with time, peak memory and a same-run baseline.

One command generates the scale data and prints a table:

- ingest: a 10,000 and a 100,000 x 300 ``.sav`` against a bare ``pyreadstat.read_sav``;
- weighting: 100,000 respondents raked to 3 margins with 200 bootstrap replicates, against
  R ``survey`` doing the same when ``Rscript`` is installed;
- scoring: a national data set, 63 provinces x 200 firms x 3 years of ``pgi_feedback``,
  scored by province with 200 replicates, against the bare weighted ratio of the same
  indicator matrices (numpy);
- forecast: 10,000 joint simulations over 63 provinces and 34 units against the bare numpy arithmetic of the same model (both warmed up).

Each stage runs in a fresh interpreter so that its peak memory is its own. Figures go to
``--json`` (default ``out/benchmarks.json``).

Usage: ``.venv/bin/python benchmarks/run_all.py [--rows 100000] [--json out/benchmarks.json]``
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

STAGE = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
    args = json.loads(sys.argv[1])
    {setup}
    start = time.perf_counter()
    {work}
    seconds = time.perf_counter() - start
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork/exec
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
    print(json.dumps({{"seconds": seconds, "peak_mb": peak, "extra": extra}}))
""")

#: stage -> (setup, not timed; work, timed)
BODIES = {
    "read_sav": ("import pyreadstat", "frame, _ = pyreadstat.read_sav(args['sav'], user_missing=True); extra = len(frame)"),
    "ingest": ("from pathlib import Path; from survey.ingest import ingest_file; "
               "from survey.questionnaire import load_questionnaire; "
               "qn = load_questionnaire(Path(args['definition']), root=Path(args['definition']).parent)",
               "extra = ingest_file(args['sav'], qn, '2025-11', db=args['db']).accepted"),
    "weights": ("from bench_weights import make_data, to_margins, run_python; "
                "data, table = make_data(args['rows']); m = to_margins(table)",
                "extra = run_python(data, m, 200)[2]"),
    "score": ("from bench_national import national, score_national; d, qn = national()",
              "extra = score_national(d, qn)"),
    "score_baseline": ("from bench_national import national, bare_ratio; d, qn = national()",
                       "extra = bare_ratio(d, qn)"),
    "forecast": ("from bench_forecast import demo_inputs, ours; rec, units = demo_inputs(); ours(rec, units, 100)",
                 "extra = ours(rec, units, 10000)"),
    "forecast_baseline": ("from bench_forecast import demo_inputs, bare; rec, units = demo_inputs(); bare(rec, units, 100)",
                          "extra = bare(rec, units, 10000)"),
}


def stage(name: str, **args) -> dict:
    setup, work = BODIES[name]
    code = STAGE.format(root=str(ROOT), here=str(HERE), setup=setup, work=work)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", default=str(ROOT / "out" / "benchmarks.json"))
    args = parser.parse_args()
    from bench_ingest import make_sav, write_definition
    from bench_weights import make_data, run_r

    tmp = Path(tempfile.mkdtemp(prefix="pgi-bench-all-"))
    definition = write_definition(tmp / "questionnaires")
    rows = []
    for n in sorted({10_000, args.rows}):
        sav = make_sav(definition, n, tmp / f"scale_{n}.sav")
        base = stage("read_sav", sav=str(sav))
        ours = stage("ingest", sav=str(sav), definition=str(definition), db=f"sqlite:///{tmp / f'store_{n}.sqlite'}")
        rows.append(("ingest (x300 columns)", n, ours, "pyreadstat.read_sav", base))
    weights = stage("weights", rows=args.rows)
    data, table = make_data(args.rows)
    data.to_csv(tmp / "data.csv", index=False)
    table.to_csv(tmp / "margins.csv", index=False)
    r = run_r(tmp, 200)
    rows.append(("weights (3 margins, 200 reps)", args.rows, weights, "R survey",
                 {"seconds": r[0], "peak_mb": float("nan")} if r else None))
    rows.append(("score by province (200 reps)", 63 * 200 * 3, stage("score"), "bare weighted ratios",
                 stage("score_baseline")))
    rows.append(("forecast (10,000 x 63 -> 34)", 10_000, stage("forecast"), "bare numpy model", stage("forecast_baseline")))
    print(f"machine: {platform.machine()}, {platform.processor() or ''} {_cores()} cores, Python {platform.python_version()}")
    print(f"{'stage':<31}{'rows':>8}{'time s':>8}{'peak MB':>8}  {'baseline':<21}{'time s':>7}{'peak MB':>8}"
          f"{'time x':>7}{'mem x':>6}")
    out = []
    for name, n, ours, base_name, base in rows:
        ratio = ours["seconds"] / base["seconds"] if base else float("nan")
        mem = ours["peak_mb"] / base["peak_mb"] if base and base["peak_mb"] == base["peak_mb"] else float("nan")
        bt = f"{base['seconds']:7.2f}" if base else "    n/a"
        bm = f"{base['peak_mb']:8.0f}" if base and base["peak_mb"] == base["peak_mb"] else "     n/a"
        print(f"{name:<31}{n:>8,}{ours['seconds']:>8.2f}{ours['peak_mb']:>8.0f}  {base_name:<21}{bt}{bm}"
              f"{ratio:>7.2f}{mem:>6.2f}")
        out.append({"stage": name, "rows": n, "seconds": ours["seconds"], "peak_mb": ours["peak_mb"],
                    "baseline": base_name, "baseline_seconds": base["seconds"] if base else None,
                    "baseline_peak_mb": base["peak_mb"] if base else None, "time_ratio": ratio, "memory_ratio": mem})
    growth = [r for r in out if r["stage"].startswith("ingest")]
    if len(growth) == 2:
        print(f"ingest time grows {growth[1]['seconds'] / growth[0]['seconds']:.1f}x for "
              f"{growth[1]['rows'] / growth[0]['rows']:.0f}x the rows")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"machine": platform.platform(), "cores": _cores(), "stages": out}, indent=2))
    print(f"figures written to {args.json}")


def _cores() -> int:
    import os
    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
