"""From July 2025 the digest counts communes and wards in their former district (the level both lists support)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from survey.places import to_former_district
from survey.questionnaire import load_questionnaire
from survey.reports.digest import _domains
from survey.weights import Design


def test_the_digest_groups_communes_by_former_district_with_the_rule():
    qn = load_questionnaire("monthly_difficulties", period="2025-12")
    codes = [c.code for c in qn.choices("locality", with_missing=False)]
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"locality": rng.choice(codes, 400).astype(float),
                         "had_difficulty": rng.integers(0, 2, 400).astype(float),
                         "sector_group": "industry"})
    d = Design(data, np.ones(400))
    section = _domains(d, qn, {"industry": (1,)}, "vi", 10)
    table = next(t for t in section.tables if t.key == "locality")
    former = to_former_district(data["locality"], qn.locality)
    counts = former["former_district_vi"].value_counts()
    shown = {row[0]: int(row[1].replace(".", "")) for row in table.rows}
    assert shown == counts.to_dict()                 # every firm counted once, in its former district, by hand
    assert len(shown) < len(set(data["locality"]))   # fewer rows than communes
    assert any("huyện năm 2023" in n for n in section.notes)


def test_reports_refuse_a_weighting_with_weights_at_or_below_zero(tmp_path, monkeypatch):
    """A store made before linear calibration was refused may hold negative weights: no report prints them."""
    import dataclasses

    import pytest

    from survey import jobs
    from survey.errors import WeightingError
    from survey.store import Store
    from survey.weights import WeightingResult

    qn = load_questionnaire("monthly_difficulties", period="2025-12")
    data = pd.DataFrame({"had_difficulty": [1.0, 0.0, 1.0, 0.0]})
    bad = WeightingResult(Design(data, np.array([3.0, -2.0, 1.0, 0.0])), None, None, 7, None)
    with pytest.raises(WeightingError) as err:
        jobs._publishable(bad)
    assert err.value.code == "weighting.not_publishable" and err.value.params["count"] == 2
    good = dataclasses.replace(bad, design=Design(data, np.array([3.0, 2.0, 1.0, 0.5])))
    assert jobs._publishable(good) is good
    monkeypatch.setattr(jobs, "load_weighted", lambda *a, **k: bad)
    with pytest.raises(WeightingError, match="cannot be published"):
        jobs.monthly_digest(Store(f"sqlite:///{tmp_path / 's.db'}"), "2025-12")
    del qn


def test_the_response_rate_is_given_when_staff_say_how_many_firms_were_invited():
    from survey.reports.digest import DigestContext, _responses

    d = Design(pd.DataFrame({"x": range(40)}), np.ones(40))
    from survey.store import LoadCounts

    loads = LoadCounts("monthly_difficulties", "2025-12", loads=1, read=50, accepted=38, corrected=2,
                       quarantined=10, already_present=0)
    told = _responses(d, DigestContext(counts=loads, invited=200), "vi", 40.0)
    assert "Tỷ lệ phản hồi: 50 phiếu trên 200 doanh nghiệp được mời (25,0%)." in told.paragraphs
    unknown = _responses(d, DigestContext(counts=loads), "vi", 40.0)
    assert any(p.startswith("Tỷ lệ phản hồi chưa tính được") for p in unknown.paragraphs)
    counts = dict(next(iter(told.tables)).rows)
    assert counts["Nhận, có sửa một trường không bắt buộc"] == "2"
