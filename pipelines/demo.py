"""`make demo`: run pgi-survey end to end on the bundled demo data.

For now: validate both questionnaires and write their exports (XLSForm,
SPSS, codebook) to ``<out>/questionnaires/``. Later steps (generate, ingest,
weights, scores, forecast, reports) are added as they are built.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.errors import SurveyError  # noqa: E402
from survey.questionnaire import EXPORT_FORMATS, export_questionnaire, list_questionnaires, load_questionnaire  # noqa: E402


def export_all(out: Path, province: str | None = None) -> list[Path]:
    """Validate every questionnaire and write its three exports under ``out``."""
    written = []
    for path in list_questionnaires():
        qn = load_questionnaire(path, province=province)
        print(f"[questionnaire] {qn.id} v{qn.version}: {len(qn.questions)} questions, "
              f"{len(qn.indicators)} indicators — valid")
        for fmt in EXPORT_FORMATS:
            written.append(export_questionnaire(qn, fmt, out / "questionnaires"))
            print(f"    {fmt:<9} -> {written[-1]}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="out", help="output folder (default: out)")
    parser.add_argument("--province", help="locality list (default: questionnaires/settings.yaml)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        written = export_all(out, args.province)
    except SurveyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\nDone: {len(written)} files in {out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
