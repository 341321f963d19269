"""Weight diagnostics: spread of the weights, design effect, and margins achieved against targets."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .calibrate import group_index
from .design import Design
from .margins import PopulationMargins

__all__ = ["weight_summary", "margin_check", "format_diagnostics"]


def weight_summary(design: Design) -> dict[str, float]:
    """n, sum, min, max, max/min, CV (population sd / mean), Kish design effect 1 + CV^2 and
    effective sample size (sum w)^2 / sum w^2 (Kish 1965)."""
    w = design.weights
    cv = float(np.std(w) / np.mean(w))
    return {"n": int(len(w)), "sum": float(w.sum()), "min": float(w.min()), "max": float(w.max()),
            "max_min_ratio": float(w.max() / w.min()) if w.min() > 0 else float("inf"),
            "cv": cv, "deff_kish": 1 + cv ** 2, "n_effective": float(w.sum() ** 2 / np.sum(w ** 2))}


def margin_check(design: Design, margins: PopulationMargins) -> pd.DataFrame:
    """For every margin category: respondents, target count, weighted total achieved and the gap."""
    rows = []
    for m in margins.margins:
        idx, pop = group_index(design, m)
        achieved = np.bincount(idx, weights=design.weights, minlength=len(pop))
        counts = np.bincount(idx, minlength=len(pop))
        for k, cat in enumerate(m.categories):
            rows.append({"margin": m.name, "category": cat.name, "respondents": int(counts[k]),
                         "target": cat.count, "achieved": achieved[k], "difference": achieved[k] - cat.count})
    return pd.DataFrame(rows)


def format_diagnostics(design: Design, margins: PopulationMargins) -> str:
    """A readable block: the summary, the margins table and the log."""
    s = weight_summary(design)
    lines = [f"Responses {s['n']}, representing {s['sum']:,.0f} enterprises",
             f"Weights: min {s['min']:.2f}, max {s['max']:.2f}, max/min {s['max_min_ratio']:.1f}, "
             f"CV {s['cv']:.3f}; Kish design effect {s['deff_kish']:.3f}, effective n {s['n_effective']:.1f}"]
    if design.rep_type:
        lines.append(f"Replicates: {design.rep_type}, {design.repweights.shape[1]}")
    table = margin_check(design, margins)
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    if margins.illustrative:
        lines.append("NOTE: these margins are illustrative, not published statistics.")
    lines += [f"- {note}" for note in margins.log + design.log]
    return "\n".join(lines)
