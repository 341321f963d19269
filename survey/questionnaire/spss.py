"""Export a questionnaire (and optionally its answers) to an SPSS ``.sav`` file.

One variable per question; a multiple-choice question becomes one 0/1
variable per option, named ``<question>_<code>`` (SPSS "multiple
dichotomy"). Variable labels, value labels (including declared missing
codes) and user-missing values are written, so SPSS shows 98 "don't know" as
missing without any recoding.

SPSS limits labels to bytes, not characters (256 for a variable label, 120
for a value label) and Vietnamese letters take 2-3 bytes in UTF-8; longer
labels are cut at a character boundary with "…" rather than left to the
writer, which would cut silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExportError
from ..lazy_import import lazy_module
from .expressions import holds_codes
from .model import Question, Questionnaire

# imported at first use: commands that only list or read definitions need neither (issue 18)
np = lazy_module("numpy")
pd = lazy_module("pandas")
pyreadstat = lazy_module("pyreadstat")

__all__ = ["SavLayout", "sav_layout", "write_sav", "fit_bytes", "VARIABLE_LABEL_BYTES", "VALUE_LABEL_BYTES"]

VARIABLE_LABEL_BYTES = 256
VALUE_LABEL_BYTES = 120
_SELECTED = {"vi": ("Không chọn", "Có chọn"), "en": ("Not selected", "Selected")}


def fit_bytes(text: str, limit: int) -> str:
    """Cut ``text`` so that its UTF-8 encoding fits in ``limit`` bytes, marking a cut with "…"."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len("…".encode("utf-8"))
    out = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return out.rstrip() + "…"


@dataclass
class SavLayout:
    """What the ``.sav`` will hold: variables in order and their metadata."""

    columns: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    missing: dict[str, list[float]] = field(default_factory=dict)
    measure: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # numeric, text, date
    source: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # var -> (question, code)


def _add_question(layout: SavLayout, qn: Questionnaire, q: Question, lang: str) -> None:
    label = q.label.get(lang)
    if q.type == "multiple":
        off, on = _SELECTED[lang]
        for c in qn.choices(q):
            var = f"{q.id}_{c.code}"
            layout.columns.append(var)
            layout.labels[var] = fit_bytes(f"{label}: {c.label.get(lang)}", VARIABLE_LABEL_BYTES)
            layout.value_labels[var] = {0.0: off, 1.0: on}
            layout.measure[var], layout.formats[var], layout.kinds[var] = "nominal", "F1.0", "numeric"
            layout.source[var] = (q.id, c.code)
        return
    var = q.id
    layout.columns.append(var)
    layout.labels[var] = fit_bytes(label, VARIABLE_LABEL_BYTES)
    layout.source[var] = (q.id, None)
    if q.is_select or q.missing:
        layout.value_labels[var] = {float(c.code): fit_bytes(c.label.get(lang), VALUE_LABEL_BYTES)
                                    for c in qn.choices(q)}
    if q.missing:
        layout.missing[var] = [float(m) for m in q.missing]
    if q.type == "text":
        # ReadStat sizes a text variable to its longest answer (A1 in an empty
        # template); SPSS users widen it in Variable View before typing.
        layout.measure[var], layout.kinds[var] = "nominal", "text"
    elif q.type == "date":
        layout.measure[var], layout.formats[var], layout.kinds[var] = "scale", "DATE11", "date"
    else:
        layout.measure[var] = {"likert": "ordinal", "integer": "scale", "decimal": "scale"}.get(q.type, "nominal")
        layout.formats[var] = "F8.2" if q.type == "decimal" else "F8.0"
        layout.kinds[var] = "numeric"


def sav_layout(qn: Questionnaire, lang: str = "vi", include_personal: bool = True) -> SavLayout:
    """The variables of the ``.sav`` export and their metadata, in ``lang`` ("vi" or "en")."""
    layout = SavLayout()
    for q in qn.questions:
        if q.personal and not include_personal:
            continue
        _add_question(layout, qn, q, lang)
    return layout


def _frame(layout: SavLayout, data: pd.DataFrame | None) -> pd.DataFrame:
    """Answers laid out as the ``.sav`` variables (multiple choices split to 0/1)."""
    n = 0 if data is None else len(data)
    cols = {}
    for var in layout.columns:
        qid, code = layout.source[var]
        raw = data[qid] if data is not None and qid in data.columns else pd.Series([None] * n, dtype=object)
        raw = raw.reset_index(drop=True)
        if code is not None:
            # selected()'s rule over the column; not asked stays missing, not "not selected"
            cols[var] = np.where(raw.notna().to_numpy(), holds_codes(raw, (code,)), np.nan)
        elif layout.kinds[var] == "text":
            cols[var] = raw.astype(object).where(raw.notna(), "")
        elif layout.kinds[var] == "date":
            cols[var] = pd.to_datetime(raw, errors="raise").astype("datetime64[ns]")
        else:
            cols[var] = pd.to_numeric(raw, errors="raise").astype(float)
    return pd.DataFrame(cols, columns=layout.columns)


def write_sav(qn: Questionnaire, path: str | Path, data: pd.DataFrame | None = None, *,
              lang: str = "vi", include_personal: bool | None = None) -> Path:
    """Write an SPSS ``.sav`` file for the questionnaire.

    Parameters
    ----------
    data : DataFrame, optional
        Answers, one row per firm, one column per question id; multiple
        choices as space-separated codes (``"1 3"``).  Without data an empty
        file (a template for data entry) is written.
    lang : {"vi", "en"}
        Language of variable and value labels.
    include_personal : bool, optional
        Keep personal-data variables. Default: yes for an empty template, no
        when ``data`` is given, so that answers never leave with personal data
        unless asked for.

    Raises
    ------
    ExportError
        If an answer cannot be written in its variable's type.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if include_personal is None:
        include_personal = data is None
    layout = sav_layout(qn, lang, include_personal)
    try:
        frame = _frame(layout, data)
    except (ValueError, TypeError) as exc:
        raise ExportError(f"an answer does not fit its SPSS variable type: {exc}", file=str(path),
                          code="questionnaire.spss_type", params={"reason": str(exc)}) from None
    pyreadstat.write_sav(
        frame, str(path), file_label=fit_bytes(qn.title.get(lang), 64),
        column_labels=layout.labels, variable_value_labels=layout.value_labels,
        missing_ranges=layout.missing, variable_measure=layout.measure,
        variable_format=layout.formats,
    )
    return path
