"""Shared fixtures: a private copy of the definitions folder that tests may edit."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from survey.questionnaire import default_root, load_questionnaire

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def qdir(tmp_path: Path) -> Path:
    """A copy of questionnaires/ in a temporary folder."""
    dst = tmp_path / "questionnaires"
    shutil.copytree(default_root(), dst)
    return dst


def edit_text(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a file; fail if ``old`` is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def edit_yaml(path: Path, change) -> None:
    """Load a YAML file, let ``change`` edit the data, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture(scope="session")
def pgi():
    return load_questionnaire("pgi_feedback")


@pytest.fixture(scope="session")
def monthly():
    return load_questionnaire("monthly_difficulties")
