"""The forecast in words and numbers, for the terminal and reports."""
from __future__ import annotations

import pandas as pd

from .forecast import ForecastResult

__all__ = ["forecast_text"]

_NAMES = {"sub1": ("Giảm thiểu rủi ro", "Minimizing risk"), "sub2": ("Tuân thủ tiêu chuẩn", "Maintaining standards"),
          "sub3": ("Vai trò lãnh đạo", "Environmental leadership"), "sub4": ("Chính sách hỗ trợ", "Environmental incentives"),
          "total": ("Tổng điểm", "Total")}


def forecast_text(result: ForecastResult, lang: str = "vi") -> str:
    """Per model: each measure's forecast, intervals and probabilities; the rank distribution of the total."""
    vi = lang == "vi"
    lines = [f"{result.province} {result.year} — " + result.notes[0]]
    for model, part in result.table.groupby("model", sort=False):
        lines.append(f"\n[{model}]")
        lines.append(f"  {'':<26}{'dự báo' if vi else 'forecast':>9}  {'80%':<13}{'95%':<13}"
                     f"{'P(mục tiêu)' if vi else 'P(target)':>12}{'P(tăng)' if vi else 'P(improve)':>11}")
        for r in part.itertuples():
            name = _NAMES[r.measure][0 if vi else 1]
            pt = "" if pd.isna(r.p_target) else f"{r.p_target:.0%}"
            pi = "" if pd.isna(r.p_improve) else f"{r.p_improve:.0%}"
            lines.append(f"  {name:<26}{r.mean:>9.2f}  {r.pi80_low:5.2f}–{r.pi80_high:<6.2f}"
                         f"{r.pi95_low:5.2f}–{r.pi95_high:<6.2f}{pt:>12}{pi:>11}")
        rs = result.rank_summary().set_index("model").loc[model]
        likely, low, high = int(rs["most_likely_rank"]), int(rs["rank_80_low"]), int(rs["rank_80_high"])
        lines.append(("  Thứ hạng: " if vi else "  Rank: ")
                     + (f"có khả năng nhất {likely}/{result.n_provinces}, 80% trong khoảng "
                        f"{low}–{high}; P(top {result._top}) = {rs['p_top']:.0%}" if vi else
                        f"most likely {likely} of {result.n_provinces}, 80% between "
                        f"{low} and {high}; P(top {result._top}) = {rs['p_top']:.0%}"))
    lines += [f"- {n}" for n in result.notes[1:]]
    return "\n".join(lines)
