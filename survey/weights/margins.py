"""Population margins: how many active enterprises each category of the province holds.

A margins file (YAML) is per province and year and names its source::

    province: Bac Giang
    year: 2024
    source: "..."
    illustrative: true            # figures not from a published source
    margins:
      size_class:                 # margin name
        question: size_class      # the questionnaire variable it is built from
        categories:
          micro: {codes: [1], count: 7150}
          ...
      ownership:                  # category labels: answers stored as text are matched as text
        question: ownership
        categories:
          private: {codes: [private, "tư nhân"], count: 9800}
          ...
      sector_by_size:             # interaction: cells of two (or more) questions, e.g. a census table
        question: [sector, size_class]
        categories:
          manufacturing_small: {codes: [[1, 1], [1, 2]], count: 640}
          ...
      employees:                  # numeric auxiliary: the population total of a number (calibration only)
        question: employees
        total: 183500
    collapse:                     # merges allowed when a category has too few respondents
      - {margin: size_class, merge: [large, very_large], into: large_200_plus}
    min_respondents: 5
    design:                       # optional: how the firms were selected (columns of the responses)
      strata: size_class          # first-stage strata
      ids: [zone]                 # clusters, one column per stage (e.g. industrial zones, then firms)
      fpc: [zones_in_stratum]     # population size per stage (finite population correction)
      lonely_psu: certainty       # a stratum with one cluster: fail, certainty, remove, adjust, average

Before calibration, :func:`prepare_margins` counts respondents per category,
applies the declared merges where a category is empty or below
``min_respondents`` (with a log line each), and refuses a category with
population but no respondents that no merge covers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..errors import Problem, UnknownMarginError, WeightingError
from .notes import Note

__all__ = ["Category", "Margin", "PopulationMargins", "load_margins", "prepare_margins", "margin_categories",
           "margin_values", "answer_key", "default_margins_path"]


@dataclass(frozen=True)
class Category:
    """One category of a margin: the answers it covers (codes, text labels, or tuples of answers for an
    interaction of several questions) and its population count."""

    name: str
    codes: tuple[Any, ...]
    count: float


@dataclass(frozen=True)
class Margin:
    """A population margin: counts of enterprises by the categories of one variable (or of the cells of
    several, ``question`` a tuple), or, for a numeric auxiliary, the population ``value_total`` of a number."""

    name: str
    question: str | tuple[str, ...]
    categories: tuple[Category, ...]
    value_total: float | None = None

    @property
    def is_numeric(self) -> bool:
        """A numeric auxiliary: calibrated on the total of the variable, not on category counts."""
        return self.value_total is not None

    @property
    def questions(self) -> tuple[str, ...]:
        return (self.question,) if isinstance(self.question, str) else tuple(self.question)

    @property
    def total(self) -> float:
        return float(sum(c.count for c in self.categories))

    def counts(self) -> pd.Series:
        """Population count per category name."""
        return pd.Series({c.name: c.count for c in self.categories}, dtype=float)


@dataclass(frozen=True)
class Collapse:
    margin: str
    merge: tuple[str, ...]
    into: str


@dataclass(frozen=True)
class PopulationMargins:
    """The margins of one province and year, with their source."""

    province: str
    year: int
    source: str
    illustrative: bool
    margins: tuple[Margin, ...]
    collapse: tuple[Collapse, ...] = ()
    min_respondents: int = 1
    file: str | None = None
    log: tuple[Note | str, ...] = field(default=())
    design: dict[str, Any] = field(default_factory=dict)  # strata, ids, fpc, lonely_psu of the selection

    def margin(self, name: str) -> Margin:
        """The margin called ``name``.

        Raises
        ------
        UnknownMarginError
            (a ``WeightingError`` and a ``KeyError``) When the file has no such margin.
        """
        for m in self.margins:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.margins)
        raise UnknownMarginError(f"unknown margin {name!r}", code="weighting.unknown_margin",
                                 params={"name": name, "known": known},
                                 file=self.file, hint=f"known: {known}")

    @property
    def total(self) -> float:
        """Enterprises in the population: the total of the first margin by categories."""
        return next(m.total for m in self.margins if not m.is_numeric)

    def select(self, names: list[str] | None) -> "PopulationMargins":
        """Only the margins named (all when None)."""
        if not names:
            return self
        unknown = [n for n in names if n not in {m.name for m in self.margins}]
        if unknown:
            known = ", ".join(m.name for m in self.margins)
            raise WeightingError(f"unknown margin(s) {unknown}", file=self.file, code="weighting.unknown_margins",
                                 params={"unknown": str(unknown), "known": known}, hint="known: " + known)
        return replace(self, margins=tuple(self.margin(n) for n in names))


def default_margins_path(province: str, year: int) -> Path:
    """The shipped margins file of a province and year."""
    from ..reference import margins_path

    return margins_path(province, year)


def _category(name: str, obj: Any, where: str, file: str, problems: list[Problem], width: int = 1) -> Category | None:
    if not isinstance(obj, dict) or "codes" not in obj or "count" not in obj:
        problems.append(Problem("a category is written {codes: [1, 2], count: 1234}", file, where,
                                code="weighting.category_form", params={"form": "{codes: [1, 2], count: 1234}"}))
        return None
    codes, count = obj["codes"], obj["count"]
    if not isinstance(codes, list) or not codes or not all(_answer(c, width) is not None for c in codes):
        problems.append(Problem(f"category '{name}': codes must be a list of answer codes", file, where,
                                code="weighting.category_codes", params={"name": name}))
        return None
    if not isinstance(count, (int, float)) or count < 0:
        problems.append(Problem(f"category '{name}': count must be a number >= 0, got {count!r}", file, where,
                                code="weighting.category_count", params={"name": name, "count": repr(count)}))
        return None
    return Category(str(name), tuple(_answer(c, width) for c in codes), float(count))


def _answer(code: Any, width: int) -> Any:
    """One answer of a category as matched against the responses: an int code or a text label, or for an
    interaction of ``width`` questions a tuple of them; None when malformed."""
    if width > 1:
        if not isinstance(code, list) or len(code) != width:
            return None
        parts = tuple(_answer(c, 1) for c in code)
        return None if any(p is None for p in parts) else parts
    if isinstance(code, bool):
        return None
    if isinstance(code, int) or isinstance(code, str) and code.strip():
        return answer_key(code)
    return None


def answer_key(value: Any) -> Any:
    """An answer as margins name it: whole numbers as int, text as it is, missing as None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else text  # "3" read from a text column is the code 3


def load_margins(path: str | Path) -> PopulationMargins:
    """Read and check a margins file.

    Raises
    ------
    WeightingError
        Listing every problem: missing source, bad categories, a code in two
        categories, margins whose totals disagree (by more than 0.5%), bad merges.
    """
    path = Path(path)
    file = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightingError("margins file not found", file=file, code="weighting.margins_not_found") from None
    except yaml.YAMLError as exc:
        raise WeightingError(f"cannot read YAML: {exc}", file=file, code="weighting.margins_yaml",
                             params={"reason": str(exc)}) from None
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise WeightingError("a margins file is a YAML mapping", file=file, code="weighting.margins_form")
    for key in ("province", "year", "source", "margins"):
        if not data.get(key):
            problems.append(Problem(f"'{key}' is missing", file, key, code="weighting.margins_key_missing",
                                    params={"key": key}))
    margins = []
    for name, obj in (data.get("margins") or {}).items():
        where = f"margins.{name}"
        question = obj.get("question") if isinstance(obj, dict) else None
        if isinstance(question, list) and len(question) > 1 and all(isinstance(q, str) for q in question):
            question = tuple(question)
        if isinstance(obj, dict) and isinstance(question, str) and "total" in obj and "categories" not in obj:
            if not isinstance(obj["total"], (int, float)) or isinstance(obj["total"], bool):
                problems.append(Problem(f"margin '{name}': total must be a number", file, where,
                                        code="weighting.numeric_total", params={"name": name}))
                continue
            margins.append(Margin(str(name), question, (), float(obj["total"])))
            continue
        if not isinstance(obj, dict) or not isinstance(question, (str, tuple)) or not isinstance(obj.get("categories"), dict):
            problems.append(Problem(f"margin '{name}' needs 'question' and 'categories'", file, where,
                                    code="weighting.margin_form", params={"name": name}))
            continue
        width = 1 if isinstance(question, str) else len(question)
        cats = [c for n, o in obj["categories"].items()
                if (c := _category(n, o, f"{where}.categories.{n}", file, problems, width))]
        seen: dict[Any, str] = {}
        for c in cats:
            for code in c.codes:
                if code in seen:
                    problems.append(Problem(f"code {code} is in both '{seen[code]}' and '{c.name}'", file, where,
                                            code="weighting.code_twice",
                                            params={"code": code, "first": seen[code], "second": c.name}))
                seen[code] = c.name
        margins.append(Margin(str(name), question, tuple(cats)))
    if margins and all(m.is_numeric for m in margins):
        problems.append(Problem("at least one margin counts enterprises by category", file, "margins",
                                code="weighting.only_numeric"))
    totals = {m.name: m.total for m in margins if not m.is_numeric}
    if totals and max(totals.values()) > 1.005 * min(totals.values()):
        problems.append(Problem("the margins do not add up to the same number of enterprises: "
                                + ", ".join(f"{k} {v:,.0f}" for k, v in totals.items()), file, "margins",
                                hint="every margin counts the same population", code="weighting.totals_differ",
                                params={"totals": ", ".join(f"{k} {v:,.0f}" for k, v in totals.items())}))
    collapse = _collapse_rules(data.get("collapse") or [], margins, file, problems)
    design = _design_spec(data.get("design"), file, problems)
    if problems:
        raise WeightingError(f"{len(problems)} problem(s) in the margins file", problems=problems,
                             code="weighting.margins_problems", params={"count": len(problems)})
    return PopulationMargins(str(data["province"]), int(data["year"]), str(data["source"]),
                             bool(data.get("illustrative", False)), tuple(margins), tuple(collapse),
                             int(data.get("min_respondents", 1)), file, design=design)


_DESIGN_KEYS = ("strata", "ids", "fpc", "lonely_psu")


def _design_spec(obj: Any, file: str, problems: list[Problem]) -> dict[str, Any]:
    """The ``design:`` section: column names of strata, clusters (per stage) and fpc (per stage)."""
    if obj is None:
        return {}
    if not isinstance(obj, dict) or any(k not in _DESIGN_KEYS for k in obj):
        problems.append(Problem("'design' is a mapping with strata, ids, fpc and lonely_psu", file, "design",
                                code="weighting.design_form", params={"keys": ", ".join(_DESIGN_KEYS)}))
        return {}
    spec = {}
    for key, value in obj.items():
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names) or (
                key in ("strata", "lonely_psu") and len(names) != 1):
            problems.append(Problem(f"design.{key}: name column(s) of the responses", file, f"design.{key}",
                                    code="weighting.design_value", params={"key": key}))
            continue
        spec[key] = names[0] if key in ("strata", "lonely_psu") else tuple(names)
    return spec


def _collapse_rules(items: list, margins: list[Margin], file: str, problems: list[Problem]) -> list[Collapse]:
    out = []
    by_name = {m.name: m for m in margins}
    for i, obj in enumerate(items):
        where = f"collapse[{i}]"
        if not isinstance(obj, dict) or obj.get("margin") not in by_name or not obj.get("merge") or not obj.get("into"):
            problems.append(Problem("a merge is written {margin: NAME, merge: [a, b], into: a_b} with a known margin",
                                    file, where, code="weighting.merge_form",
                                    params={"form": "{margin: NAME, merge: [a, b], into: a_b}"}))
            continue
        names = {c.name for c in by_name[obj["margin"]].categories}
        unknown = [n for n in obj["merge"] if n not in names]
        if unknown:
            problems.append(Problem(f"merge names unknown categories {unknown} of '{obj['margin']}'", file, where,
                                    code="weighting.merge_unknown",
                                    params={"unknown": str(unknown), "margin": obj["margin"]}))
            continue
        out.append(Collapse(obj["margin"], tuple(obj["merge"]), str(obj["into"])))
    return out


def _check_variables(data: pd.DataFrame, margin: Margin) -> None:
    for q in margin.questions:
        if q not in data.columns:
            raise WeightingError(f"the responses have no variable '{q}' needed by margin '{margin.name}'",
                                 code="weighting.no_variable", params={"variable": q, "margin": margin.name})


def margin_categories(data: pd.DataFrame, margin: Margin) -> pd.Series:
    """Each respondent's category name in a margin (NaN when the answer is in no category).

    Answers match as whole-number codes or as text labels; for an interaction, the tuple of the
    answers to the margin's questions matches a cell.
    """
    lookup = {code: c.name for c in margin.categories for code in c.codes}
    _check_variables(data, margin)
    if len(margin.questions) == 1:
        return pd.Series(_each_distinct(data[margin.question], lambda v: lookup.get(answer_key(v))),
                         index=data.index, dtype=object)
    keys = zip(*(_each_distinct(data[q], answer_key) for q in margin.questions))
    return pd.Series([lookup.get(k) for k in keys], index=data.index, dtype=object)


def _each_distinct(col: pd.Series, fn) -> np.ndarray:
    """``fn`` of each value of ``col`` (an object array), called once per distinct value, not once per row
    (a margin's column holds a handful of codes; a million respondents made a million calls)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    # the last slot is for missing values (factorize's -1), which fn sees as None
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = fn(None)
    return mapped[codes]


def margin_values(data: pd.DataFrame, margin: Margin) -> pd.Series:
    """The numeric auxiliary of a numeric margin, per respondent (NaN when missing or not a number)."""
    _check_variables(data, margin)
    return pd.to_numeric(data[margin.question], errors="coerce")


def _merge(margin: Margin, rule: Collapse) -> Margin:
    merged = [c for c in margin.categories if c.name in rule.merge]
    kept = [c for c in margin.categories if c.name not in rule.merge]
    new = Category(rule.into, tuple(code for c in merged for code in c.codes), sum(c.count for c in merged))
    position = min(i for i, c in enumerate(margin.categories) if c.name in rule.merge)
    kept.insert(position, new)
    return replace(margin, categories=tuple(kept))


def prepare_margins(margins: PopulationMargins, data: pd.DataFrame) -> PopulationMargins:
    """Check respondents per category and apply the declared merges where needed.

    Returns the margins to calibrate to, with ``log`` saying what was merged and why.

    Raises
    ------
    WeightingError
        A respondent has no category in a margin (the answer is missing or in no
        category), or a category with population has no respondent and no merge covers it.
    """
    log, out, problems = list(margins.log), [], []
    for margin in margins.margins:
        if margin.is_numeric:
            missing = margin_values(data, margin).isna()
            if missing.any():
                problems.append(Problem(f"{int(missing.sum())} response(s) have no number for the numeric margin "
                                        f"'{margin.name}'", margins.file, margin.name,
                                        code="weighting.numeric_missing",
                                        params={"count": int(missing.sum()), "margin": margin.name},
                                        hint="correct or remove those responses, or drop the margin"))
            out.append(margin)
            continue
        cats = margin_categories(data, margin)
        missing = cats.isna()
        if missing.any():
            problems.append(Problem(f"{int(missing.sum())} response(s) have no category in margin '{margin.name}' "
                                    f"(question '{margin.question}' unanswered or answered outside the categories)",
                                    margins.file, margin.name, hint="correct or remove those responses, or add the "
                                    "codes to a category", code="weighting.uncategorised",
                                    params={"count": int(missing.sum()), "margin": margin.name,
                                            "question": margin.question}))
            out.append(margin)
            continue
        out.append(_collapse_margin(margin, cats, margins, log, problems))
    if problems:
        raise WeightingError("the responses cannot be weighted to these margins", problems=problems,
                             code="weighting.cannot_weight")
    return replace(margins, margins=tuple(out), log=tuple(log))


def _collapse_margin(margin: Margin, cats: pd.Series, margins: PopulationMargins, log: list[Note | str],
                     problems: list[Problem]) -> Margin:
    """Apply declared merges while a category is below ``min_respondents``; refuse empty ones left."""
    rules = [r for r in margins.collapse if r.margin == margin.name]
    while True:
        counts = cats.value_counts()
        names = {c.name for c in margin.categories}
        sparse = [c for c in margin.categories if c.count > 0 and counts.get(c.name, 0) < margins.min_respondents]
        rule = next((r for c in sparse for r in rules if c.name in r.merge and set(r.merge) <= names), None)
        if rule is None:
            break
        before = ", ".join(f"{n} ({int(counts.get(n, 0))})" for n in rule.merge)
        margin = _merge(margin, rule)
        cats = cats.map(lambda n, r=rule: r.into if n in r.merge else n)
        log.append(Note("merged", {"margin": margin.name, "before": before, "into": rule.into,
                                   "minimum": int(margins.min_respondents)}))
    for c in sparse:
        n = int(counts.get(c.name, 0))
        if n == 0:
            problems.append(Problem(f"category '{c.name}' of margin '{margin.name}' has {c.count:,.0f} enterprises "
                                    "but no respondent, and no merge covers it", margins.file, margin.name,
                                    hint="declare a merge under 'collapse' or drop the margin",
                                    code="weighting.empty_category",
                                    params={"category": c.name, "margin": margin.name, "count": c.count}))
        else:
            log.append(Note("sparse_kept", {"margin": margin.name, "category": c.name, "count": n,
                                            "minimum": int(margins.min_respondents)}))
    return margin
