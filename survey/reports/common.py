"""What every report shares: fonts with Vietnamese diacritics, safe cells, no personal data."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # reports are written to files, never shown
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..questionnaire import Questionnaire  # noqa: E402
from ..text import printable, spreadsheet_cell  # noqa: E402
from ..vocabulary import ESTIMATE_NOTICE as UNOFFICIAL  # noqa: E402  ("Ước tính không chính thức / unofficial estimate")

__all__ = ["UNOFFICIAL", "plt", "figure_png", "drop_personal", "safe_cells", "text_page", "table_page"]

# DejaVu Sans ships with matplotlib and has every Vietnamese letter (ă â đ ê ô ơ ư and the tones).
# Text from firms is shown as typed: "$...$" is never read as mathtext (which fails on unknown
# commands and garbles the rest), anywhere in a report.
plt.rcParams.update({"font.family": "DejaVu Sans", "pdf.fonttype": 42, "axes.spines.top": False,
                     "axes.spines.right": False, "text.parse_math": False})


def figure_png(fig) -> str:
    """A figure as a base64 PNG, for a self-contained HTML page."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


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


def text_page(pdf, title: str, lines: list[str], notice: str | None = None) -> None:
    """One A4 page of text, wrapped."""
    import textwrap

    fig = plt.figure(figsize=(8.27, 11.69))
    y = 0.95
    for part in textwrap.wrap(title, 62):
        fig.text(0.07, y, part, fontsize=14, weight="bold", va="top")
        y -= 0.025
    if notice:
        fig.text(0.07, y, notice, fontsize=10, color="#b00020", va="top")
        y -= 0.03
    y -= 0.01
    for line in lines:
        for part in textwrap.wrap(printable(line, None), 105) or [""]:
            fig.text(0.07, y, part, fontsize=9.5, va="top")
            y -= 0.02
        if y < 0.05:
            break
    pdf.savefig(fig)
    plt.close(fig)


def table_page(pdf, title: str, table: pd.DataFrame, notice: str | None = None, max_rows: int = 38) -> None:
    """One A4 page with a table (long tables are cut at ``max_rows`` rows, and say so)."""
    fig, ax = plt.subplots(figsize=(8.27, 11.69))
    ax.axis("off")
    fig.text(0.07, 0.95, title, fontsize=14, weight="bold", va="top")
    if notice:
        fig.text(0.07, 0.92, notice, fontsize=9, color="#b00020", va="top")
    shown = table.head(max_rows).map(lambda v: "" if pd.isna(v) else printable(v, None))
    shown = shown.map(lambda s: s if len(s) <= 60 else s[:57] + "…")
    tab = ax.table(cellText=shown.values, colLabels=list(shown.columns), loc="upper center", cellLoc="left")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7)
    tab.scale(1, 1.25)
    if len(table) > max_rows:
        fig.text(0.07, 0.03, f"… {len(table) - max_rows} dòng nữa trong tệp Excel / more rows in the Excel file",
                 fontsize=8)
    pdf.savefig(fig)
    plt.close(fig)
