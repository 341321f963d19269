"""Weight diagnostics: spread of the weights, design effect, and margins achieved against targets."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .calibrate import group_index
from .design import Design
from .margins import PopulationMargins, margin_values
from .notes import Note, log_from_json, log_text, log_to_json

__all__ = ["weight_summary", "margin_check", "format_diagnostics", "Diagnostics", "diagnose"]


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
        if m.is_numeric:  # a numeric auxiliary: its weighted total against the population total
            achieved = float(design.weights @ margin_values(design.data, m).to_numpy(dtype=float))
            rows.append({"margin": m.name, "category": "", "respondents": design.n, "target": m.value_total,
                         "achieved": achieved, "difference": achieved - m.value_total})
            continue
        idx, pop = group_index(design, m)
        achieved = np.bincount(idx, weights=design.weights, minlength=len(pop))
        counts = np.bincount(idx, minlength=len(pop))
        for k, cat in enumerate(m.categories):
            rows.append({"margin": m.name, "category": cat.name, "respondents": int(counts[k]),
                         "target": cat.count, "achieved": achieved[k], "difference": achieved[k] - cat.count})
    return pd.DataFrame(rows)


#: the columns of :func:`margin_check`, named in the catalogue as ``weighting.diagnostics.column.<name>``
_CHECK_COLUMNS = ("margin", "category", "respondents", "target", "achieved", "difference")


@dataclass(frozen=True)
class Diagnostics:
    """What a weighting leaves to show: kept with the weights, so a report shows it without redoing it.

    Attributes
    ----------
    summary : dict
        :func:`weight_summary` of the final weights.
    check : DataFrame
        :func:`margin_check`: per margin category, respondents, target and achieved totals.
    replicates : (type, count, dropped) or None
        Replicate type, number of replicates and how many were left out (the weighting did not
        converge on them); older stores hold (type, count).
    illustrative : bool
        The margins are illustrative, not published statistics.
    log : tuple of Note (or str)
        Merges of sparse categories, trimming, iterations, replicates left out; written in the
        language when shown (plain strings, from older stores, as written).
    """

    summary: dict[str, float]
    check: pd.DataFrame = field(repr=False)
    replicates: tuple | None
    illustrative: bool
    log: tuple[Note | str, ...]

    def text(self, lang: str = "vi") -> str:
        """A readable block in ``lang`` (Vietnamese by default): the summary, the margins table and the log.

        Numbers are written per locale (``1.234,5`` in Vietnamese, ``1,234.5`` in English); the log
        lines are written in ``lang`` too (a plain string from an older store as written).
        """
        from ..i18n import _, format_number

        s = self.summary
        lines = [_("weighting.diagnostics.responses", lang, n=s["n"], total=s["sum"]),
                 _("weighting.diagnostics.weights", lang, min=s["min"], max=s["max"], ratio=s["max_min_ratio"],
                   cv=s["cv"], deff=s["deff_kish"], n_effective=s["n_effective"])]
        if self.replicates:
            lines.append(_("weighting.diagnostics.replicates", lang, type=self.replicates[0],
                           count=self.replicates[1]))
            if len(self.replicates) > 2 and self.replicates[2]:
                lines.append(_("weighting.diagnostics.replicates_dropped", lang, dropped=self.replicates[2],
                               count=self.replicates[1]))
        check = self.check.rename(columns={c: _(f"weighting.diagnostics.column.{c}", lang)
                                           for c in self.check.columns
                                           if isinstance(c, str) and c in _CHECK_COLUMNS})
        lines.append(check.to_string(index=False, float_format=lambda v: format_number(v, lang, 1)))
        if self.illustrative:
            lines.append(_("weighting.diagnostics.illustrative", lang))
        return "\n".join(lines + [f"- {note}" for note in self.log_text(lang)])

    def log_text(self, lang: str = "vi") -> list[str]:
        """The log lines in ``lang``."""
        return log_text(self.log, lang)

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "check": self.check.to_dict(orient="records"),
                "replicates": list(self.replicates) if self.replicates else None,
                "illustrative": self.illustrative, "log": log_to_json(self.log)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Diagnostics":
        return cls(data["summary"], pd.DataFrame(data["check"]),
                   tuple(data["replicates"]) if data["replicates"] else None, data["illustrative"],
                   log_from_json(data["log"]))


def diagnose(design: Design, margins: PopulationMargins) -> Diagnostics:
    """The diagnostics of a weighted design against the margins it was calibrated to."""
    reps = ((design.rep_type, int(design.repweights.shape[1]), design.dropped_replicates) if design.rep_type
            else None)
    return Diagnostics(weight_summary(design), margin_check(design, margins), reps, margins.illustrative,
                       tuple(margins.log + design.log))


def format_diagnostics(design: Design, margins: PopulationMargins, lang: str = "vi") -> str:
    """A readable block in ``lang``: the summary, the margins table and the log."""
    return diagnose(design, margins).text(lang)
