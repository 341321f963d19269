"""Importing ingest and weights does not import the heavy libraries they use only in some calls (issue 18):
scipy.stats, statsmodels and pandera cost a noticeable part of a second at the start of every command."""
from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "statsmodels.api", "pandera")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("package", ["survey.weights", "survey.ingest"])
def test_importing_a_package_leaves_the_heavy_libraries_out(package):
    assert _imported_after(f"import {package}") == set()


def test_they_are_imported_when_first_used():
    assert _imported_after("from survey.lazy_import import lazy_module; lazy_module('scipy.stats')") == set()
    assert _imported_after("import survey.weights.estimate as e; e.stats.norm") == {"scipy.stats"}


def test_the_reading_child_imports_only_what_reading_needs():
    """A .sav is read in a child (survey.ingest.read_worker): it starts with every load, so it does not import
    the store, SQLAlchemy and the checks (survey.ingest's names come from their modules when first used)."""
    code = ("import sys; import survey.ingest.read_worker, survey.ingest.readers; "
            "print(' '.join(m for m in ('sqlalchemy', 'survey.store', 'survey.ingest.ingest', 'pandera') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == []
    # and the package's names are still there for everyone else
    code = "import survey.ingest as i; print(i.ingest_file.__module__, i.read_sav.__module__, 'ingest_file' in dir(i))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["survey.ingest.ingest", "survey.ingest.readers", "True"]


def test_a_load_into_sqlite_does_not_import_the_postgresql_dialect(tmp_path):
    """Naming PostgreSQL's index options on a SQLite store made SQLAlchemy import that dialect (27 ms of a
    first load, issue 18)."""
    from survey.questionnaire import load_questionnaire
    from tests.fixtures import make_answers, to_kobo_csv

    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    path = to_kobo_csv(make_answers(qn, 30, seed=1), qn, tmp_path / "m.csv")
    code = ("import sys; from survey.ingest import ingest_file; "
            f"r = ingest_file({str(path)!r}, 'monthly_difficulties', '2025-11', "
            f"db={'sqlite:///' + str(tmp_path / 's.sqlite')!r}, progress=False); "
            "print(r.accepted, 'sqlalchemy.dialects.postgresql' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["30", "False"]


def test_the_use_case_layer_leaves_scipy_out_until_a_design_is_weighted():
    """Every command imports ``survey.jobs``; scipy.sparse (with scipy's array layer, 0.1 s) is needed only
    to calibrate or linearise, not to load or list (issue 18)."""
    code = ("import sys; import survey.jobs; print('scipy' in sys.modules); "
            "import numpy; from survey.weights.design import group_indicator; "
            "group_indicator(numpy.zeros(1, int), 1); "
            "print('scipy.sparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_pandera_is_imported_only_for_columns_the_fast_path_does_not_clear(tmp_path):
    """A load whose answers all pass the per-column rules (the usual case) never imports pandera (0.2 s of a
    small load's command); an answer outside its list goes to the pandera schema, which names it."""
    import pandas as pd

    from survey.questionnaire import load_questionnaire
    from tests.fixtures import make_answers, to_kobo_csv

    qn = load_questionnaire("monthly_difficulties", period="2025-11")
    clean = to_kobo_csv(make_answers(qn, 30, seed=1), qn, tmp_path / "clean.csv")
    frame = pd.read_csv(clean, sep=";", dtype=str, keep_default_na=False)
    frame.loc[3, "profile/size_class"] = "9"  # not a code of the list
    frame.to_csv(tmp_path / "bad.csv", sep=";", index=False)
    code = ("import sys; from survey.ingest import ingest_file; "
            "r = ingest_file(sys.argv[1], 'monthly_difficulties', '2025-11', db=sys.argv[2], progress=False); "
            "print(r.accepted + r.corrected, sorted(set(r.problems['reason'])), 'pandera' in sys.modules)")
    seen = []
    for name in ("clean.csv", "bad.csv"):
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / name),
                              f"sqlite:///{tmp_path / (name + '.sqlite')}"], capture_output=True, text=True,
                             check=True).stdout
        seen.append(out.strip())
    assert seen[0] == "30 [] False"
    assert seen[1] == "29 ['unknown_code'] True"  # its row refused (the size class is a critical answer)
