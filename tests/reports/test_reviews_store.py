"""The case_reviews table on SQLite and PostgreSQL alike: masked text only, reference numbers, statuses,
a changed firm's text sent back to review, staff edits kept."""
from __future__ import annotations

import pandas as pd
import pytest

from survey.errors import StoreError
from survey.reports.redact import mask_text
from survey.store.reviews import approve_review, edit_review, read_reviews, set_follow_up, sync_cases


@pytest.fixture()
def store(any_store):
    return any_store


def test_reviews_round_trip(store):
    cases = pd.DataFrame({"response_key": ["a", "b"], "description": ["gọi 0912 345 678", None],
                          "proposal": ["liên hệ a@b.vn", "y"]})
    first = sync_cases(store, "monthly_difficulties", "2025-11", cases, mask_text)
    assert first[["reference", "description", "proposal", "status", "follow_up"]].values.tolist() == [
        ["2025-11-001", "gọi [SĐT]", "liên hệ [email]", "pending", "not_sent"],
        ["2025-11-002", "", "y", "pending", "not_sent"]]
    approve_review(store, "2025-11-001", user="staff")
    edit_review(store, "2025-11-002", description="Công ty TNHH Minh Phát chậm", mask=mask_text, user="staff")
    set_follow_up(store, "2025-11-001", "sent")
    again = sync_cases(store, "monthly_difficulties", "2025-11", cases, mask_text)   # nothing changed: kept
    assert again[["status", "follow_up", "description"]].values.tolist() == [
        ["approved", "sent", "gọi [SĐT]"], ["pending", "not_sent", "[tên DN] chậm"]]
    cases.loc[0, "description"] = "sửa lại"                                            # the firm's text changed
    changed = sync_cases(store, "monthly_difficulties", "2025-11", cases, mask_text)
    assert changed[["status", "description"]].values.tolist()[0] == ["pending", "sửa lại"]
    assert len(read_reviews(store, status="pending")) == 2
    with pytest.raises(StoreError, match="2025-11-999"):
        approve_review(store, "2025-11-999")
    with pytest.raises(StoreError, match="unknown follow-up"):
        set_follow_up(store, "2025-11-001", "lost")
