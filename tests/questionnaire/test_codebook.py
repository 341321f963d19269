"""Codebook: every question and code is there, and the index tables read back."""
from __future__ import annotations

import re

from survey.questionnaire import render_codebook, write_codebook


def _tables_after(text: str, heading_prefix: str) -> dict[str, list[list[str]]]:
    """Rows of the first table under each heading starting with ``heading_prefix``."""
    out, current = {}, None
    for line in text.splitlines():
        if line.startswith(heading_prefix):
            current = line
            out[current] = []
        elif current and line.startswith("| ") and not line.startswith("| id "):
            out[current].append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif current and out[current] and not line.startswith("|"):
            current = None
    return out


def test_index_tables_read_back(pgi):
    tables = _tables_after(render_codebook(pgi), "### ")
    index = {h: rows for h, rows in tables.items() if re.match(r"### [1-4]\. ", h)}
    assert len(index) == 4
    for s, (heading, rows) in zip(pgi.subindices, index.items()):
        assert heading == f"### {s.number}. {s.label.vi} / {s.label.en}"
        inds = pgi.indicators_of(s.number)
        assert [r[0] for r in rows] == [i.id for i in inds]
        assert [float(r[9]) for r in rows] == [i.weight for i in inds]
        shares = [float(r[10].rstrip("%")) / 100 for r in rows]
        assert abs(sum(shares) - 1) < 0.01
        assert [r[3].strip("`") for r in rows] == [i.question for i in inds]


def test_every_question_and_code_is_listed(monthly, tmp_path):
    path = write_codebook(monthly, tmp_path / "m.md")
    text = path.read_text(encoding="utf-8")
    for q in monthly.questions:
        assert f"#### `{q.id}`" in text
        assert q.label.vi in text and q.label.en in text
    assert "| 10 | Khác | Other |  |" in text
    assert "| 98 | Không biết | Don't know | thiếu / missing |" in text
    assert "#### `contact_phone` — dữ liệu cá nhân / personal data" in text
    assert "Hiện khi / shown when: `reported == 1`" in text


def test_codebook_states_the_model_of_the_question_set(pgi):
    text = render_codebook(pgi)
    assert "it is not VCCI's own questionnaire" in text
    assert "không phải bảng hỏi của VCCI" in text
    assert "Bắc Giang (Bac Giang), district, 2023" in text
