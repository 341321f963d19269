"""Write a questionnaire's codebook in Markdown: questions, codes and the index.

The codebook is for people: reviewers of the questionnaire, analysts and
the readers of the annual report's method notes.  Pipe characters inside
texts are escaped so every table stays a table.
"""
from __future__ import annotations

from pathlib import Path

from .model import Indicator, Question, Questionnaire

__all__ = ["render_codebook", "write_codebook"]

_TYPE_NAMES = {
    "single": "một lựa chọn / single choice", "multiple": "nhiều lựa chọn / multiple choice",
    "likert": "thang Likert / Likert scale", "yesno": "có/không / yes-no",
    "integer": "số nguyên / integer", "decimal": "số thập phân / decimal",
    "text": "văn bản / text", "date": "ngày / date",
}
_METHODS = {
    "share": "tỷ lệ câu trả lời hợp lệ thuộc mã / share of valid answers in codes",
    "share_within": "tỷ lệ trong nhóm / share within sub-population",
    "mean": "trung bình / mean",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ") if text not in (None, "") else ""


def _row(*cells: object) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _range_text(q: Question) -> str:
    lo, hi = q.range
    if lo is None and hi is None:
        return ""
    return f"{'' if lo is None else lo} – {'' if hi is None else hi}"


def _question_lines(qn: Questionnaire, q: Question) -> list[str]:
    lines = [f"#### `{q.id}`{' — dữ liệu cá nhân / personal data' if q.personal else ''}", "",
             f"- vi: {q.label.vi}", f"- en: {q.label.en}",
             f"- Loại / type: {_TYPE_NAMES[q.type]}"]
    if q.hint:
        lines.append(f"- Gợi ý / hint: {q.hint.vi} / {q.hint.en}")
    if q.required:
        lines.append("- Bắt buộc / required")
    if q.relevant:
        lines.append(f"- Hiện khi / shown when: `{q.relevant.source}`")
    if _range_text(q):
        lines.append(f"- Khoảng giá trị / range: {_range_text(q)}")
    if q.constraint:
        lines.append(f"- Ràng buộc / constraint: `{q.constraint.source}`")
    if q.personal:
        lines.append("- Không bao giờ đưa vào báo cáo / never reported")
    if q.is_select:
        lines += ["", _row("Mã / code", "Tiếng Việt", "English", ""), "|---|---|---|---|"]
        for c in qn.choices(q):
            flag = "thiếu / missing" if c.code in q.missing else ""
            lines.append(_row(c.code, c.label.vi, c.label.en, flag))
    elif q.missing:
        lines.append("- Mã thiếu / missing codes: " + ", ".join(
            f"{m} = {qn.missing_codes[m].vi} / {qn.missing_codes[m].en}" for m in q.missing))
    return lines + [""]


def _indicator_row(ind: Indicator, share: float) -> str:
    lo, hi = ind.goalposts
    return _row(ind.id, ind.label.vi, ind.label.en, f"`{ind.question}`", _METHODS[ind.method],
                " ".join(str(c) for c in ind.codes), ind.among.source if ind.among else "",
                "+" if ind.direction == "positive" else "−", f"{lo:g} – {hi:g}", f"{ind.weight:g}",
                f"{share:.1%}")


def _index_lines(qn: Questionnaire) -> list[str]:
    if not qn.subindices:
        return []
    lines = ["## Chỉ số / Index", "",
             "Mỗi chỉ tiêu được quy về thang 10 điểm theo ngưỡng (goalposts): giá trị thấp → 0, "
             "cao → 10 (đảo chiều với chỉ tiêu nghịch). Chỉ số thành phần là trung bình có trọng số "
             "của các chỉ tiêu; tổng PGI là tổng 4 chỉ số thành phần (tối đa 40).", "",
             "Each indicator is put on a 10-point scale by its goalposts: low → 0, high → 10 "
             "(reversed for negative indicators). A sub-index is the weighted mean of its "
             "indicators; the total is the sum of the 4 sub-indices (maximum 40).", ""]
    for s in qn.subindices:
        inds = qn.indicators_of(s.number)
        total = sum(i.weight for i in inds)
        lines += [f"### {s.number}. {s.label.vi} / {s.label.en}", "",
                  _row("id", "Tiếng Việt", "English", "question", "method", "codes", "among",
                       "direction", "goalposts", "weight", "share"),
                  "|" + "---|" * 11]
        lines += [_indicator_row(i, i.weight / total) for i in inds]
        lines.append("")
    return lines


def render_codebook(qn: Questionnaire) -> str:
    """The codebook as Markdown text."""
    lines = [f"# {qn.title.vi}", "", f"*{qn.title.en}*", "",
             f"- id: `{qn.id}`", f"- phiên bản / version: {qn.version}",
             f"- số câu hỏi / questions: {len(qn.questions)}"]
    if qn.locality:
        loc = qn.locality
        lines.append(f"- địa bàn / localities: {loc.province_vi} ({loc.province}), {loc.level}, "
                     f"{loc.as_of}; nguồn / source: {loc.source}")
        if loc.validity:
            lines.append(f"- danh sách địa bàn dùng cho các đợt / locality list used for the waves: {loc.validity} "
                         f"(`{loc.key}`, {len(loc.units.choices)})")
    if qn.personal_questions:
        lines.append("- dữ liệu cá nhân, không đưa vào báo cáo / personal data, never reported: "
                     + ", ".join(f"`{p}`" for p in qn.personal_questions))
    lines.append("")
    for label in (qn.description, qn.note):
        if label:
            lines += [f"> {label.vi}", ">", f"> *{label.en}*", ""]
    lines += ["## Câu hỏi / Questions", ""]
    for section in qn.sections:
        lines += [f"### {section.label.vi} / {section.label.en}", ""]
        for q in section.questions:
            lines += _question_lines(qn, q)
    return "\n".join(lines + _index_lines(qn)).rstrip() + "\n"


def write_codebook(qn: Questionnaire, path: str | Path) -> Path:
    """Write the Markdown codebook (UTF-8) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_codebook(qn), encoding="utf-8")
    return path
