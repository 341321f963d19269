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
