"""Free text leaves the association only reviewed and masked (issue 14, item 3).

A phone, an e-mail, a person's name and a firm's name are planted in a case's free text. No output of
the digest (PDF text, HTML, every XLSX cell) shows any of them, nor the case, until staff approve it
with ``pgi-survey digest review``; then the case is shown, masked, and the planted values still nowhere.
"""
from __future__ import annotations

import pytest

from survey.cli import main
from tests.reports.helpers import MARGINS, PERIOD, monthly_store, outputs_text, squeeze

PHONE = "0912 345 678"
EMAIL = "hung.nguyen@minhphat.com.vn"
PERSON = "Nguyễn Văn Hùng"
FIRM = "Công ty TNHH Minh Phát"
DESCRIPTION = f"Ông {PERSON} của {FIRM} cho biết hồ sơ xả thải bị trả lại, gọi {PHONE}"
PROPOSAL = f"Đề nghị Sở trả lời qua {EMAIL}"
PLANTED = (PHONE, "0912345678", EMAIL, PERSON, "Văn Hùng", "Minh Phát")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    return monthly_store(tmp_path_factory.mktemp("review"), (DESCRIPTION,), (PROPOSAL,))


def _digest(db: str, folder, capsys) -> dict[str, str]:
    assert main(["digest", "--period", PERIOD, "--out", str(folder), "--db", db, "--force"]) == 0
    capsys.readouterr()
    return outputs_text(folder, f"digest_{PERIOD}")


def _reference(db: str, capsys) -> str:
    """The reference number of the planted case, from the review listing (which shows it masked)."""
    assert main(["digest", "review", "--period", PERIOD, "--db", db]) == 0
    listing = capsys.readouterr().out
    assert not any(value in listing for value in PLANTED)   # staff review the masked text
    blocks = listing.split("\n20")
    found = [b for b in blocks if "[SĐT]" in b and "[tên DN]" in b]
    assert len(found) == 1, listing
    return ("20" + found[0] if not found[0].startswith("20") else found[0]).split()[0]


def test_planted_personal_data_never_leaves_and_the_case_waits_for_approval(db, tmp_path, capsys):
    before = _digest(db, tmp_path / "before", capsys)
    reference = _reference(db, capsys)
    for kind, text in before.items():
        for value in PLANTED:
            assert squeeze(value) not in text, (kind, value)
        assert reference not in text, (kind, "a case not yet approved is listed")
        assert "[SĐT]" not in text, kind

    assert main(["digest", "review", "--period", PERIOD, "--db", db, "--approve", reference]) == 0
    capsys.readouterr()
    after = _digest(db, tmp_path / "after", capsys)
    for kind, text in after.items():
        for value in PLANTED:
            assert squeeze(value) not in text, (kind, value)
        assert reference in text, kind
        for mask in ("[SĐT]", "[email]", "[họtên]", "[tênDN]"):
            assert mask in text, (kind, mask)


def test_an_edit_is_masked_again_and_waits_for_approval(db, capsys):
    reference = _reference(db, capsys)
    assert main(["digest", "review", "--period", PERIOD, "--db", db, "--approve", reference]) == 0
    assert main(["digest", "review", "--period", PERIOD, "--db", db, "--edit", reference,
                 "--description", f"Bà Trần Thị Mai, {EMAIL}"]) == 0
    listing = capsys.readouterr().out
    assert EMAIL not in listing and "Trần Thị Mai" not in listing and "Bà [họ tên], [email]" in listing
    line = [line for line in listing.splitlines() if line.startswith(reference)][-1]  # the listing after the edit
    assert "chờ duyệt" in line


def test_the_store_keeps_only_masked_text(db):
    from survey.store import Store
    from survey.store.reviews import read_reviews

    reviews = read_reviews(Store(db), "monthly_difficulties", PERIOD)
    text = " ".join(reviews["description"].astype(str)) + " ".join(reviews["proposal"].astype(str))
    assert len(reviews) > 3 and not any(value in text for value in PLANTED)
    assert list(reviews["reference"]) == [f"{PERIOD}-{i:03d}" for i in range(1, len(reviews) + 1)]


def test_an_unknown_reference_is_a_clear_error(db, capsys):
    assert main(["digest", "review", "--period", PERIOD, "--db", db, "--approve", "2025-11-999"]) == 1
    assert "không có kiến nghị nào có số tham chiếu 2025-11-999" in capsys.readouterr().err


def test_cases_show_district_and_sector_only_where_min_n_firms_share_them(demo_reports):
    """Issue 14: a case in a suppressed district was listed with its district and sector (Lục Ngạn, n = 2)."""
    from survey import jobs
    from survey.i18n import _
    from survey.questionnaire import load_questionnaire
    from survey.store import Store
    from survey.weights import load_margins

    out, digest, _annual = demo_reports
    store = Store(f"sqlite:///{out.parent / 'demo' / 'store.sqlite'}")
    qn = load_questionnaire("monthly_difficulties")
    data = jobs.load_weighted(store, qn, "2025-12").design.data
    districts = data["locality"].map({float(c.code): c.label.vi for c in qn.choices("locality")})
    margin = next(m for m in load_margins(MARGINS).margins if m.question == "sector")
    groups = {float(code): _(f"digest.sector_group.{c.name}", "vi") for c in margin.categories for code in c.codes}
    sectors = data["sector"].map(groups)
    rows = digest.value.tables["cases"].rows
    assert len(rows) >= 5
    hidden = 0
    for row in rows:
        district, sector = row[1], row[2]
        if district != "—" and sector != "—":
            assert ((districts == district) & (sectors == sector)).sum() >= 10, row[:3]
        elif district != "—":
            assert (districts == district).sum() >= 10, row[:3]
        elif sector != "—":
            assert (sectors == sector).sum() >= 10, row[:3]
        hidden += (district == "—") + (sector == "—")
    assert hidden > 0   # the demo month has cases in small districts: the rule is exercised
    small = [d for d in districts.unique() if (districts == d).sum() < 10]
    assert small and not any(row[1] in small for row in rows)



def test_an_open_case_is_carried_to_the_next_month_until_resolved(tmp_path):
    from survey import jobs
    from survey.store import Store
    from survey.weights import RakingConfig
    from survey.questionnaire import load_questionnaire
    from survey.demo import make_population, make_responses
    from survey.weights.margins import load_margins
    from tests.fixtures import to_kobo_csv

    store = Store(monthly_store(tmp_path))
    qn = load_questionnaire("monthly_difficulties")
    answers = make_responses(qn, make_population(load_margins(MARGINS), 2025), 60, seed=77)
    jobs.load_export(store, to_kobo_csv(answers, qn, tmp_path / "dec.csv"), qn, "2025-12")
    jobs.weight_wave(store, qn, "2025-12", RakingConfig(MARGINS, use=("sector_group",), replicates="JK1"))
    first = jobs.review_cases(store, PERIOD).value["reference"].iloc[0]
    jobs.approve_case(store, first)
    jobs.follow_up_case(store, first, "sent")
    carried = jobs.monthly_digest(store, "2025-12").value.tables["open_cases"]
    assert carried.rows == ((first, "tháng 11/2025", "đã gửi"),)
    jobs.follow_up_case(store, first, "resolved")
    assert "open_cases" not in jobs.monthly_digest(store, "2025-12").value.tables
