"""Issue 11: the package carries its questionnaires and data.

The wheel is built from a copy of the project (nothing is left in the work tree), installed
without its dependencies in a fresh virtual environment, and run from a folder outside the
project: ``pgi-survey questionnaire list`` must list both questionnaires, read from the
installed package, not from this checkout. The dependencies come from this environment's
site-packages through PYTHONPATH, so nothing is downloaded.

Skipped (with the reason shown by ``-ra``) only when this Python cannot create a virtual
environment; a wheel that does not build, install or run fails.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if os.name == "nt" else "bin"


def _run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kwargs)


def _shown(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline from a copy of pyproject.toml, README.md and survey/."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "survey", src / "survey", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = _run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
                 "--disable-pip-version-check", "-w", tmp / "dist"], cwd=tmp)
    assert proc.returncode == 0, "the wheel did not build:\n" + _shown(proc)
    wheels = sorted((tmp / "dist").glob("pgi_survey-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with only the wheel installed (no dependencies, no network)."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    proc = _run([sys.executable, "-m", "venv", venv])
    python = venv / BIN / ("python.exe" if os.name == "nt" else "python")
    if proc.returncode != 0 or not python.exists():
        pytest.skip("this Python cannot create a virtual environment (python -m venv with pip): " + _shown(proc))
    proc = _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check", wheel])
    assert proc.returncode == 0, "the wheel did not install:\n" + _shown(proc)
    return venv


def _outside_env(tmp: Path) -> dict[str, str]:
    """The environment for the installed command: this venv's packages for the dependencies, no project paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PGI_QUESTIONNAIRES")}
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONNOUSERSITE"] = "1"
    env["HOME"] = str(tmp)
    env["MPLCONFIGDIR"] = str(tmp / "mpl")
    return env


def test_the_wheel_carries_every_data_file_of_the_package(wheel):
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "survey").rglob("*")
               if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert {"survey/questionnaires/pgi_feedback.yaml", "survey/questionnaires/localities/bac_giang.yaml",
            "survey/data/targets/bac_giang.yaml", "survey/data/reference/official_pgi.csv"} <= shipped
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(shipped - names)
    assert not missing, f"files of survey/ missing from the wheel (add them to package-data): {missing}"


def test_a_wheel_installed_in_a_fresh_venv_lists_the_questionnaires(fresh_venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _outside_env(tmp_path)
    command = fresh_venv / BIN / ("pgi-survey.exe" if os.name == "nt" else "pgi-survey")
    assert command.exists(), "the wheel installed no pgi-survey command"

    proc = _run([command, "questionnaire", "list"], cwd=elsewhere, env=env)
    assert proc.returncode == 0, _shown(proc)
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert listed == ["monthly_difficulties", "pgi_feedback"], _shown(proc)

    # the package, its questionnaires and its reference data come from the fresh venv, not from this checkout
    probe = ("import survey, survey.reference as r, survey.questionnaire as q, survey.weights.margins as m\n"
             "print(survey.__file__)\n"
             "print(q.default_root())\n"
             "print(m.default_margins_path('bac_giang', 2024))\n"
             "print(len(r.load_provinces()), len(r.load_official()) > 200, len(r.national_means()) > 0)\n"
             "print(r.load_targets('bac_giang').for_year(2024)['rank'])\n"
             "print(q.load_questionnaire('pgi_feedback').id)\n")
    proc = _run([fresh_venv / BIN / "python", "-c", probe], cwd=elsewhere, env=env)
    assert proc.returncode == 0, _shown(proc)
    package, root, margins, counts, rank, qid = proc.stdout.splitlines()
    venv = fresh_venv.resolve()
    for path in (package, root, margins):
        assert Path(path).resolve().is_relative_to(venv), f"{path} is not inside the fresh venv {venv}"
        assert not Path(path).resolve().is_relative_to(ROOT), path
    assert Path(root).name == "questionnaires" and Path(margins).is_file()
    assert counts == "63 True True" and rank == "10.0" and qid == "pgi_feedback"
