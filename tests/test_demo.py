"""The demo pipeline writes the exports of both questionnaires."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pyreadstat

ROOT = Path(__file__).resolve().parents[1]


def test_demo_writes_three_exports_per_questionnaire(tmp_path):
    spec = importlib.util.spec_from_file_location("demo", ROOT / "pipelines" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(["--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in (tmp_path / "questionnaires").iterdir())
    assert names == ["monthly_difficulties.sav", "monthly_difficulties.xlsx", "monthly_difficulties_codebook.md",
                     "pgi_feedback.sav", "pgi_feedback.xlsx", "pgi_feedback_codebook.md"]
    _, meta = pyreadstat.read_sav(str(tmp_path / "questionnaires" / "pgi_feedback.sav"), metadataonly=True)
    assert meta.number_columns == 48
