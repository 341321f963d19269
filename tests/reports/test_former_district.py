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
