"""Read stored responses back into pandas, with codes or labels."""
from __future__ import annotations


from ..questionnaire import Questionnaire, load_questionnaire
from ..lazy_import import lazy_module
from .store import Store

pd = lazy_module("pandas")  # at first use (issue 18)

__all__ = ["load_responses"]


def _label_column(series: pd.Series, qn: Questionnaire, qid: str, lang: str) -> pd.Series:
    q = qn.question(qid)
    labels = {float(c.code): c.label.get(lang) for c in qn.choices(q)}
    if q.type == "multiple":
        by_text = {str(int(k)): v for k, v in labels.items()}
        return series.map(lambda v: "; ".join(by_text.get(t, t) for t in str(v).split()) if isinstance(v, str) else v)
    return series.map(lambda v: labels.get(v, v) if pd.notna(v) else v)


def load_responses(survey: str | Questionnaire, period_from: str | None = None, period_to: str | None = None,
                   *, db: str | None = None, store: Store | None = None, labels: bool = False,
                   lang: str = "vi", province: str | None = None) -> pd.DataFrame:
    """Stored responses of a questionnaire for periods ``period_from``..``period_to`` (inclusive, ``YYYY-MM``).

    Parameters
    ----------
    labels : bool
        Replace answer codes by their labels in ``lang`` (a multiple choice
        becomes labels joined by "; "); default: codes.

    Returns
    -------
    DataFrame with ``period``, ``response_key`` and one column per question.
    """
    qn = survey if isinstance(survey, Questionnaire) else load_questionnaire(survey, province=province)
    frame = (store or Store(db)).read_responses(qn, period_from, period_to)
    if labels:
        for q in qn.questions:
            if q.id in frame.columns and (q.is_select or q.missing):
                frame[q.id] = _label_column(frame[q.id], qn, q.id, lang)
    return frame
