"""The benchmark suite: every stage at each size, against a same-run baseline doing the same work.

One command generates the data and prints the scaling table (issue 18):

- ingest ``.sav`` 300 columns (Likert, yes/no, numbers, texts) against a bare ``pyreadstat.read_sav``
  of the same file (goal: 1.5x the time, 2x the peak memory); up to ``--wide-max`` rows (a 1M x 300
  file is 2.4 GB once read);
- ingest ``.sav`` of ``pgi_feedback`` (42 questions, no response id, so rows are keyed by their
  answers) into a wave already holding as many responses, against a bare ``read_sav``: the stage
  that shows ingest is linear up to 1M rows (it was quadratic: a scan of the wave per 500 rows);
- ingest Kobo CSV (``monthly_difficulties``, 46 columns, labels, multiple choices split in 0/1
  columns, texts) against a bare ``pandas.read_csv`` of the same file (goal: 1.5x the time, plus a
  start-up under 1 s, reported apart);
- the 300-column ``.sav`` and the Kobo CSV again, against the same read followed by the leanest honest
  storing (``bench_ingest.lean_store``: one SQLite table, a unique id index, one ``executemany`` in one
  transaction), no goal: what the checks cost beyond the floor of writing the rows;
- weights: raking to 3 margins with 200 bootstrap replicates (no lean baseline: goal 2 GiB at most);
- score by domain (200 firms x 3 years each, n / 600 domains) with 200 replicates against the lean
  per-domain weighted ratios of ``bench_national.bare_ratio`` (goal: 1.5x);
- forecast: 10,000 joint simulations over 63 provinces and 34 units against the bare numpy
  arithmetic of the same model, both warmed up alike (at the first size only: it does not depend on it).

Each measurement runs in a fresh interpreter, so that its peak memory (VmHWM) is its own, ``--repeat``
times (default 3), ours and the baseline in turn; the table quotes MEDIANS. Start-up (imports and
set-up) is timed apart from the work. ``peak MiB`` is the whole process's peak (VmHWM), set-up included,
or, when larger, the largest resident memory of the process and its children together (sampled every 20 ms
by this script: a large ``.sav`` is read in a child; a forked child's pages still shared with its parent
count in both, so the sum overstates; proportional set sizes would not, but reading them walks the
measured process's page tables every 20 ms and slowed a 1,000,000-row load by a tenth); the JSON also has ``child_peak_mb`` (the children's
largest sampled sum) and ``work_peak_mb``, the peak while the timed work ran (VmHWM reset after the set-up): for
the score, whose set-up weights a design in the same process, the set-up's raking (old and new replicate
matrices at once) can be the larger. ``growth`` is how much the time grew from the size before, divided by
how much the rows grew (1.0 is linear).

Exit status: 0 when every stage is within its goal plus 30% (noise is not a regression), 1 when a
stage's time ratio, memory ratio, memory cap or growth exceeds it by more than 30%, or when a baseline's
timed work imports a module the project's had imported in its set-up (``imported`` in the JSON: the
modules each timed work imported; a baseline that pays an import the project does not is unequal work).

Usage: ``.venv/bin/python benchmarks/run_all.py --sizes 1e4,1e5,1e6 [--repeat 3] [--json out/benchmarks.json]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

#: a regression is a ratio above its goal by more than this share (so noise does not fail the run)
TOLERANCE = 0.30

STAGE = textwrap.dedent("""
    import time
    begin = time.perf_counter()
    import json, sys
    sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
    args = json.loads(sys.argv[1])
    {setup}
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork/exec
    hwm = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024
    setup_peak = hwm()
    try:  # from here VmHWM is the work's own peak (what the inputs hold, plus what the work adds)
        open("/proc/self/clear_refs", "w").write("5")
    except OSError:
        pass
    warm = set(sys.modules)
    start = time.perf_counter()
    {work}
    seconds = time.perf_counter() - start
    work_peak = hwm()
    imported = sorted(set(sys.modules) - warm)  # the modules the timed work imported
    print(json.dumps({{"seconds": seconds, "startup": start - begin, "peak_mb": max(setup_peak, work_peak),
                      "work_peak_mb": work_peak, "extra": extra, "imported": imported}}))
""")

#: what a load imports on first use (lazily, so that the CLI starts fast): imported in the set-up, as the
#: baselines make their first call there, so both are warm-started alike and imports count as start-up.
#: (Not pandera: a load imports it only for columns its fast path does not clear, none in these files.)
INGEST_IMPORTS = "import pyarrow.compute, tqdm, zstandard, adbc_driver_sqlite.dbapi; "

#: body -> (setup: imports and inputs, not in "seconds"; work: timed)
BODIES = {
    # a baseline's set-up makes its first call on the file's first rows: its reader imports what it needs on
    # that call (pyreadstat: pandas, 0.2 s, and narwhals; read_csv: pyarrow's pandas layer), which the
    # project's set-up has imported already; the suite flags a baseline whose timed work imports anything
    "read_sav": ("import pyreadstat, pandas; pyreadstat.read_sav(args['file'], user_missing=True, row_limit=5)",
                 "frame, _ = pyreadstat.read_sav(args['file'], user_missing=True); extra = len(frame)"),
    "ingest_sav": (INGEST_IMPORTS + "from pathlib import Path; from survey.ingest import ingest_file; "
                   "from survey.questionnaire import load_questionnaire; "
                   "qn = load_questionnaire(Path(args['definition']), root=Path(args['definition']).parent)",
                   "extra = ingest_file(args['file'], qn, '2025-11', db=args['db'], progress=False).accepted"),
    "ingest_feedback": (INGEST_IMPORTS + "from survey.ingest import ingest_file; "
                        "from survey.questionnaire import load_questionnaire; "
                        "qn = load_questionnaire('pgi_feedback'); "
                        "ingest_file(args['preload'], qn, '2024-12', db=args['db'], progress=False)",
                        "extra = ingest_file(args['file'], qn, '2024-12', db=args['db'], progress=False).accepted"),
    "read_csv": ("import pandas as pd; pd.read_csv(args['file'], sep=';', nrows=5)",
                 "frame = pd.read_csv(args['file'], sep=';'); extra = len(frame)"),
    "ingest_kobo": (INGEST_IMPORTS + "from survey.ingest import ingest_file; "
                    "from survey.questionnaire import load_questionnaire; "
                    "qn = load_questionnaire('monthly_difficulties', period='2025-11')",
                    "extra = ingest_file(args['file'], qn, '2025-11', db=args['db'], progress=False).accepted"),
    # the same reads, then stored as leanly as honest code would (bench_ingest.lean_store)
    "store_sav": ("import pyreadstat; from bench_ingest import lean_store; "
                  "lean_store(pyreadstat.read_sav(args['file'], user_missing=True, row_limit=5)[0], "
                  "args['db'] + '.warm')",
                  "frame, _ = pyreadstat.read_sav(args['file'], user_missing=True); "
                  "extra = lean_store(frame, args['db'])"),
    "store_csv": ("import pandas as pd; from bench_ingest import lean_store; "
                  "lean_store(pd.read_csv(args['file'], sep=';', nrows=5), args['db'] + '.warm', '_uuid')",
                  "frame = pd.read_csv(args['file'], sep=';'); extra = lean_store(frame, args['db'], '_uuid')"),
    "weights": ("from bench_weights import make_data, to_margins, run_python; "
                "data, table = make_data(args['rows']); m = to_margins(table)",
                "extra = run_python(data, m, 200)[2]"),
    "score": ("from bench_national import national, score_national; d, qn = national(provinces=args['provinces'])",
              "extra = score_national(d, qn)"),
    "score_baseline": ("from bench_national import national, bare_ratio; d, qn = national(provinces=args['provinces'])",
                       "extra = bare_ratio(d, qn)"),
    "forecast": ("from bench_forecast import demo_inputs, ours; rec, units = demo_inputs(); ours(rec, units, 100)",
                 "extra = ours(rec, units, 10000)"),
    "forecast_baseline": ("from bench_forecast import demo_inputs, bare; rec, units = demo_inputs(); "
                          "bare(rec, units, 100)", "extra = bare(rec, units, 10000)"),
}

#: stage -> (ours, baseline or None, time goal (x baseline) or None, memory goal (x baseline) or None,
#:           memory cap in MiB or None)
STAGES = {
    "ingest .sav x300": ("ingest_sav", "read_sav", 1.5, 2.0, None),
    "ingest .sav no ids": ("ingest_feedback", "read_sav", 1.5, 2.0, None),
    "ingest Kobo CSV": ("ingest_kobo", "read_csv", 1.5, 2.0, None),
    # what ingest costs beyond reading and storing the file (no goal: shown so the reader sees the floor)
    "ingest .sav x300 vs read+store": ("ingest_sav", "store_sav", None, None, None),
    "ingest Kobo CSV vs read+store": ("ingest_kobo", "store_csv", None, None, None),
    "weights 200 reps": ("weights", None, None, None, 2048.0),
    "score 200 reps": ("score", "score_baseline", 1.5, None, 2048.0),
    # 10,000 joint simulations, 63 provinces -> 34 units, both warmed up alike; the same at every size
    "forecast 10k sims": ("forecast", "forecast_baseline", None, None, None),
}
#: start-up allowed to the Kobo CSV load over the bare read's (imports, questionnaire), seconds
KOBO_STARTUP = 1.0


def run(body: str, **args) -> dict:
    """One measurement of ``body`` in a fresh interpreter.

    Its peak is its own VmHWM or, when larger, the largest resident memory of it and its child processes
    together (a large ``.sav`` is read in a child), sampled from here every 20 ms (from this process, not
    a thread of the measured one, whose interpreter lock a sampler would contend for)."""
    setup, work = BODIES[body]
    code = STAGE.format(root=str(ROOT), here=str(HERE), setup=setup, work=work)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], stdout=out, stderr=err, text=True,
                                env=env)
        tree = children = 0.0
        while proc.poll() is None:
            kids = sum(_rss_mb(k) for k in _descendants(proc.pid))
            children, tree = max(children, kids), max(tree, _rss_mb(proc.pid) + kids)
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{body} failed:\n{err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["child_peak_mb"] = children
    result["peak_mb"] = max(result["peak_mb"], tree)
    return result


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return int(next(line for line in fh if line.startswith("VmRSS")).split()[1]) / 1024
    except (OSError, StopIteration):
        return 0.0


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (children of each of its threads, then theirs)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids = [int(k) for k in fh.read().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_descendants(kid)]
    return found


def medians(runs: list[dict]) -> dict:
    out = {k: statistics.median(r[k] for r in runs)
           for k in ("seconds", "startup", "peak_mb", "work_peak_mb", "child_peak_mb")}
    out["imported"] = sorted(set().union(*(r["imported"] for r in runs)))
    return out


def unequal_start(ours: dict, base: dict | None) -> list[str]:
    """Modules the baseline's timed work imported and ours did not (ours had them from its set-up): their
    import time counted against the baseline only, unequal work in the project's favour. Both set-ups must
    import them (empty: warm-started alike)."""
    return sorted(set(base["imported"]) - set(ours["imported"])) if base else []


def measure(name: str, repeat: int, fresh: callable, **args) -> tuple[dict, dict | None]:
    """Medians of ``repeat`` runs of a stage and of its baseline, taken in turn (A B A B ...)."""
    ours, base = STAGES[name][0], STAGES[name][1]
    a, b = [], []
    for i in range(repeat):
        a.append(run(ours, **fresh(i, "ours"), **args))
        if base:
            b.append(run(base, **fresh(i, "base"), **args))
    return medians(a), (medians(b) if b else None)


def inputs(n: int, tmp: Path, wide_max: int, wanted: list[str], first: bool) -> Iterator[tuple[str, dict]]:
    """Each wanted stage's arguments at ``n`` rows, its file generated when its turn comes."""
    from bench_ingest import make_sav, write_definition

    if n <= wide_max and "ingest .sav x300" in wanted:
        definition = write_definition(tmp / "questionnaires")
        wide = {"file": str(make_sav(definition, n, tmp / f"wide_{n}.sav")), "definition": str(definition)}
        yield "ingest .sav x300", wide
        if "ingest .sav x300 vs read+store" in wanted:
            yield "ingest .sav x300 vs read+store", wide
    if "ingest .sav no ids" in wanted:
        yield "ingest .sav no ids", {"file": str(feedback_sav(n, tmp / f"feedback_{n}.sav")),
                                     "preload": str(feedback_sav(n, tmp / f"feedback_{n}_before.sav", seed=2))}
    if "ingest Kobo CSV" in wanted or "ingest Kobo CSV vs read+store" in wanted:
        kobo = {"file": str(kobo_csv(n, tmp / f"kobo_{n}.csv"))}
        yield from ((name, kobo) for name in ("ingest Kobo CSV", "ingest Kobo CSV vs read+store") if name in wanted)
    if "weights 200 reps" in wanted:
        yield "weights 200 reps", {"rows": n}
    if "score 200 reps" in wanted:
        # domains of 200 firms x 3 years (the demo population holds a few thousand firms): more domains, not
        # bigger ones, as rows grow
        yield "score 200 reps", {"provinces": max(1, round(n / 600))}
    if "forecast 10k sims" in wanted and first:
        yield "forecast 10k sims", {}


def feedback_sav(n: int, path: Path, seed: int = 1) -> Path:
    """An SPSS export of ``n`` valid ``pgi_feedback`` responses (42 questions), with no response id: every
    row is keyed by its answers, the case the partial hash index serves (quadratic before issue 18).
    The stage loads another such file into the wave first (not timed): the look-ups of the timed load
    then search a wave of ``n`` stored responses, as the second load of a wave does."""
    from survey.questionnaire import load_questionnaire
    from tests.fixtures import make_answers, to_sav

    qn = load_questionnaire("pgi_feedback")
    return to_sav(make_answers(qn, n, seed=seed), qn, path)


def kobo_csv(n: int, path: Path) -> Path:
    """A Kobo CSV export of ``n`` valid responses to the monthly questionnaire (the wave's own lists),
    each with a random ``_uuid`` as Kobo writes them (version 4, drawn from a fixed seed): numbered ids
    would arrive in key order and flatter every index on them, the project's and the baseline's."""
    import uuid

    import numpy as np

    from survey.questionnaire import load_questionnaire
    from tests.fixtures import make_answers, to_kobo_csv

    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    drawn = np.random.default_rng(1).integers(0, 256, size=(n, 16), dtype=np.uint8)
    uuids = [str(uuid.UUID(bytes=row.tobytes(), version=4)) for row in drawn]
    return to_kobo_csv(make_answers(qn, n, seed=1), qn, path, uuids=uuids)


def verdicts(name: str, n: int, ours: dict, base: dict | None, before: dict | None, n_before: int | None) -> list[str]:
    """What exceeds its goal by more than the tolerance (empty: within)."""
    _o, _b, t_goal, m_goal, cap = STAGES[name]
    over = []
    if base and t_goal and ours["seconds"] / base["seconds"] > t_goal * (1 + TOLERANCE):
        over.append(f"time {ours['seconds'] / base['seconds']:.2f}x > {t_goal}x")
    if base and m_goal and ours["peak_mb"] / base["peak_mb"] > m_goal * (1 + TOLERANCE):
        over.append(f"memory {ours['peak_mb'] / base['peak_mb']:.2f}x > {m_goal}x")
    if cap and ours["peak_mb"] > cap * (1 + TOLERANCE):
        over.append(f"peak {ours['peak_mb']:.0f} MiB > {cap:.0f} MiB")
    late = unequal_start(ours, base)
    if late:
        over.append(f"baseline's timed work imports {', '.join(late[:4])}{' ...' if len(late) > 4 else ''}: "
                    "warm both set-ups alike")
    if name == "ingest Kobo CSV" and base and ours["startup"] - base["startup"] > KOBO_STARTUP * (1 + TOLERANCE):
        over.append(f"start-up +{ours['startup'] - base['startup']:.2f} s > {KOBO_STARTUP} s")
    if before and n_before and n >= 100_000:  # below, fixed costs hide the growth
        growth = (ours["seconds"] / before["seconds"]) / (n / n_before)
        if growth > 1 + TOLERANCE:
            over.append(f"growth {growth:.2f} (1.0 is linear)")
    return over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5", help="rows, comma-separated (1e4,1e5,1e6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians are quoted")
    parser.add_argument("--wide-max", type=float, default=1e5, help="largest size of the 300-column .sav stage")
    parser.add_argument("--stages", default=",".join(STAGES), help="which stages (names as in the table)")
    parser.add_argument("--json", default=str(ROOT / "out" / "benchmarks.json"))
    args = parser.parse_args()
    sizes = sorted({int(float(s)) for s in args.sizes.split(",")})
    wanted = [s.strip() for s in args.stages.split(",")]
    # inputs and stores live in a folder removed at the end (a run at 1,000,000 rows wrote 8 GB there);
    # each stage's stores as soon as it is measured
    with tempfile.TemporaryDirectory(prefix="pgi-bench-all-") as folder:
        return _run(args, sizes, wanted, Path(folder))


def _run(args: argparse.Namespace, sizes: list[int], wanted: list[str], tmp: Path) -> int:
    print(f"machine: {platform.machine()} {_cores()} cores, Python {platform.python_version()}; "
          f"medians of {args.repeat} runs; tolerance {TOLERANCE:.0%} over each goal", flush=True)
    header = (f"{'stage':<31}{'rows':>10}{'time s':>8}{'start s':>8}{'peak MiB':>9}  {'baseline':<15}"
              f"{'time s':>7}{'peak MiB':>9}{'time x':>7}{'mem x':>6}{'growth':>7}  verdict")
    print(header, flush=True)
    out, failed, last = [], [], {}
    for n in sizes:
        for name, stage_args in inputs(n, tmp, int(args.wide_max), wanted, first=n == sizes[0]):
            fresh = (lambda i, who, n=n, name=name:
                     {"db": f"sqlite:///{tmp / f'store_{_slug(name)}_{who}_{n}_{i}.sqlite'}"}) \
                if name.startswith("ingest") else (lambda i, who: {})
            ours, base = measure(name, args.repeat, fresh, **stage_args)
            for store in tmp.glob(f"store_{_slug(name)}_*_{n}_*"):  # with their -wal, -shm and .warm
                store.unlink()
            before, n_before = last.get(name, (None, None))
            over = verdicts(name, n, ours, base, before, n_before)
            last[name] = (ours, n)
            failed += [f"{name} at {n:,}: {o}" for o in over]
            row = {"stage": name, "rows": n, **ours, "baseline": STAGES[name][1],
                   "baseline_seconds": base["seconds"] if base else None,
                   "baseline_peak_mb": base["peak_mb"] if base else None,
                   "time_ratio": ours["seconds"] / base["seconds"] if base else None,
                   "memory_ratio": ours["peak_mb"] / base["peak_mb"] if base else None,
                   "growth": (ours["seconds"] / before["seconds"]) / (n / n_before) if before else None,
                   "over": over}
            out.append(row)
            print(_line(row), flush=True)
    print("\n".join(["", "over goal (+30%):"] + [f"  {f}" for f in failed]) if failed else "\nevery stage within goal")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"machine": platform.platform(), "cores": _cores(), "repeat": args.repeat,
                                           "stages": out}, indent=2))
    print(f"figures written to {args.json}")
    return 1 if failed else 0


def _line(r: dict) -> str:
    fmt = (lambda v, spec: format(v, spec) if v is not None else "-")
    return (f"{r['stage']:<31}{r['rows']:>10,}{r['seconds']:>8.2f}{r['startup']:>8.2f}{r['peak_mb']:>9.0f}  "
            f"{(r['baseline'] or '-'):<15}{fmt(r['baseline_seconds'], '7.2f'):>7}{fmt(r['baseline_peak_mb'], '9.0f'):>9}"
            f"{fmt(r['time_ratio'], '7.2f'):>7}{fmt(r['memory_ratio'], '6.2f'):>6}{fmt(r['growth'], '7.2f'):>7}  "
            f"{'; '.join(r['over']) or 'ok'}")


def _slug(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum())


def _cores() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
