"""Benchmark ingest of a large SPSS file against a bare ``pyreadstat.read_sav`` of the same file.

Generates a questionnaire of 300 questions (Likert with a don't-know code,
yes/no, integers with ranges, decimals, texts) and a ``.sav`` of N rows
(default 100,000) through the project's own exporter, then runs, each in a
fresh process so that peak memory belongs to that step alone:

- baseline: ``pyreadstat.read_sav(path, user_missing=True)``
- ingest:   ``survey.ingest.ingest_file`` into a new SQLite store
            (read in chunks, map, coerce, validate, hash, insert, one transaction)

and prints wall time, peak resident memory and the ratios. It also times
10,000 rows to show how time grows.

Usage: ``.venv/bin/python benchmarks/bench_ingest.py [--rows 100000] [--json out/bench_ingest.json]``
"""
from __future__ import annotations

import argparse
import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = [("likert", 200), ("yesno", 50), ("integer", 30), ("decimal", 10), ("text", 10)]


def write_definition(folder: Path) -> Path:
    """A 300-question questionnaire, ``bench.yaml``."""
    lines = ['id: bench', 'version: "1"', 'title: {vi: "Thử nghiệm", en: "Benchmark"}',
             'missing_codes:', '  - {code: 98, vi: "Không biết", en: "Don\'t know"}',
             'choice_lists:',
             '  agree5: [' + ", ".join(f'{{code: {i}, vi: "Mức {i}", en: "Level {i}"}}' for i in range(1, 6)) + ']',
             '  yesno: [{code: 1, vi: "Có", en: "Yes"}, {code: 0, vi: "Không", en: "No"}]',
             'sections:', '  - id: main', '    label: {vi: "Chính", en: "Main"}', '    questions:']
    for kind, count in KINDS:
        for i in range(count):
            q = [f'      - id: {kind}_{i}', f'        type: {kind}',
                 f'        label: {{vi: "Câu {kind} {i}", en: "Question {kind} {i}"}}']
            if kind == "likert":
                q += ["        choices: agree5", "        missing: [98]"]
            elif kind == "yesno":
                q += ["        choices: yesno"]
            elif kind in ("integer", "decimal"):
                q += ["        range: {min: 0, max: 1000}"]
            lines += q
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.yaml").write_text("province: none\n", encoding="utf-8")
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_sav(definition: Path, rows: int, out: Path, seed: int = 1) -> Path:
    from survey.questionnaire import load_questionnaire, write_sav

    qn = load_questionnaire(definition, root=definition.parent)
    rng = np.random.default_rng(seed)
    cols = {}
    for q in qn.questions:
        if q.type == "likert":
            cols[q.id] = rng.choice([1, 2, 3, 4, 5, 98], size=rows, p=[.15, .2, .25, .2, .15, .05]).astype(float)
        elif q.type == "yesno":
            cols[q.id] = rng.integers(0, 2, rows).astype(float)
        elif q.is_numeric:
            cols[q.id] = rng.integers(0, 1000, rows).astype(float)
        else:
            cols[q.id] = np.where(rng.random(rows) < 0.7, "Khó khăn về thủ tục môi trường", "")
    return write_sav(qn, out, pd.DataFrame(cols))


CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    step, path, definition, db = sys.argv[1:5]
    start = time.perf_counter()
    if step == "baseline":
        import pyreadstat
        frame, meta = pyreadstat.read_sav(path, user_missing=True)
        rows = len(frame)
    else:
        from pathlib import Path
        from survey.ingest import ingest_file
        from survey.questionnaire import load_questionnaire
        qn = load_questionnaire(Path(definition), root=Path(definition).parent)
        result = ingest_file(path, qn, "2025-11", db=db)
        rows = result.accepted
    # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across fork/exec
    peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]) / 1024  # KiB on Linux -> MiB
    print(json.dumps({{"seconds": time.perf_counter() - start, "rows": rows, "peak_mb": peak}}))
""")


def measured(step: str, sav: Path, definition: Path, db: str) -> dict:
    """Run one step in a fresh interpreter; return its time (s), rows and peak resident memory (MiB)."""
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), step, str(sav), str(definition), db],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pgi-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # its stores can be gigabytes
    definition = write_definition(tmp / "questionnaires")
    report = {"columns": 300, "runs": []}
    print(f"{'rows':>8} {'step':<10} {'time (s)':>9} {'peak MB':>9} {'time ratio':>11} {'memory ratio':>13}")
    for rows in sorted({10_000, args.rows}):
        sav = make_sav(definition, rows, tmp / f"bench_{rows}.sav")
        base = measured("baseline", sav, definition, "")
        ingest = measured("ingest", sav, definition, f"sqlite:///{tmp / f'store_{rows}.sqlite'}")
        assert ingest["rows"] == rows, "every row must be accepted"
        for name, d in (("baseline", base), ("ingest", ingest)):
            ratio_t, ratio_m = d["seconds"] / base["seconds"], d["peak_mb"] / base["peak_mb"]
            print(f"{rows:>8} {name:<10} {d['seconds']:>9.2f} {d['peak_mb']:>9.0f} {ratio_t:>11.2f} {ratio_m:>13.2f}")
        report["runs"].append({"rows": rows, "size_mb": sav.stat().st_size / 1e6, "baseline": base, "ingest": ingest})
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()


def lean_store(frame: pd.DataFrame, db: str, key: str | None = None) -> int:
    """The leanest honest storing of a read file: one SQLite table of its columns (typed as read), filled
    from Arrow by the ADBC SQLite driver (values bound in C, as ingest stages its rows) in one
    transaction, then a unique index on the response id when the file has one (built once, after the rows).

    No mapping, coercion, checks, fingerprints, audit log or archive: what ingest does beyond this is
    the cost of those. Returns the rows stored. (Until ingest staged its rows through ADBC, this baseline
    used ``executemany``, as ingest did: 100,000 x 300 took 1.2x ingest's whole time.)
    """
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    path = db.removeprefix("sqlite:///")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with adbc.connect(path) as con:
        with con.cursor() as cursor:
            cursor.adbc_ingest("responses", table, mode="create")
            if key is not None:
                cursor.execute(f'CREATE UNIQUE INDEX responses_key ON responses ("{key}")')
            con.commit()
            cursor.execute("SELECT count(*) FROM responses")
            return int(cursor.fetchone()[0])
