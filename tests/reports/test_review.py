"""Free text leaves the association only reviewed and masked (issue 14, item 3).

A phone, an e-mail, a person's name and a firm's name are planted in a case's free text. No output of
the digest (PDF text, HTML, every XLSX cell) shows any of them, nor the case, until staff approve it
with ``pgi-survey digest review``; then the case is shown, masked, and the planted values still nowhere.
"""
from __future__ import annotations

import pytest

from survey.cli import main
from tests.reports.helpers import PERIOD, monthly_store, outputs_text, squeeze

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
