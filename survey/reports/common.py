"""What every report shares: fonts with Vietnamese diacritics, safe cells, no personal data."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # reports are written to files, never shown
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..questionnaire import Questionnaire  # noqa: E402
from ..text import spreadsheet_cell  # noqa: E402
from ..vocabulary import ESTIMATE_NOTICE as UNOFFICIAL  # noqa: E402  ("Ước tính không chính thức / unofficial estimate")

__all__ = ["UNOFFICIAL", "plt", "drop_personal", "safe_cells"]

# DejaVu Sans ships with matplotlib and has every Vietnamese letter (ă â đ ê ô ơ ư and the tones).
# Text from firms is shown as typed: "$...$" is never read as mathtext (which fails on unknown
# commands and garbles the rest), anywhere in a report.
plt.rcParams.update({"font.family": "DejaVu Sans", "pdf.fonttype": 42, "axes.spines.top": False,
                     "axes.spines.right": False, "text.parse_math": False})


def drop_personal(frame: pd.DataFrame, qn: Questionnaire, include_personal: bool = False) -> pd.DataFrame:
    """Remove the questionnaire's personal-data columns, unless explicitly asked to keep them."""
    if include_personal:
        return frame
    return frame.drop(columns=[c for c in qn.personal_questions if c in frame.columns])


def safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells a spreadsheet can hold and will not run: characters an .xlsx cannot store (control
    characters firms paste from Word) dropped, cut to Excel's cell limit, and text that would run
    as a formula (=, +, -, @, a tab or line break first) given a leading apostrophe."""
    return frame.map(spreadsheet_cell)
