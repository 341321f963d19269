"""Personal data in firms' free text is masked; ordinary text, amounts and places are kept (expected texts by hand)."""
from __future__ import annotations

import pytest

from survey.reports.redact import mask_text


@pytest.mark.parametrize("text, expected", [
    ("Gọi anh Tuấn 0912 345 678", "Gọi anh [họ tên] [SĐT]"),
    ("Liên hệ +84 912-345-678 hoặc (0204) 3855 123.", "Liên hệ [SĐT] hoặc [SĐT]."),
    ("email tuan.nguyen@minhphat.com.vn để biết thêm", "email [email] để biết thêm"),
    ("xem https://minhphat.vn/ho-so và www.abc.com", "xem [liên kết] và [liên kết]"),
    ("MST: 2400123456-001; mã số thuế 0101234567", "[MST]; [MST]"),
    ("Công ty TNHH Minh Phát xả thải ra sông", "[tên DN] xả thải ra sông"),
    ("Công ty cổ phần Xây dựng Hòa Bình Bắc Giang đề nghị", "[tên DN] đề nghị"),
    ("HTX Nông sản Lục Ngạn bị phạt", "[tên DN] bị phạt"),
    ("ông Nguyễn Văn Hùng là giám đốc", "ông [họ tên] là giám đốc"),
    ("Bà Lê Thị Mai phụ trách.", "Bà [họ tên] phụ trách."),
    ("Trần Thị Hoa đã gửi đơn", "[họ tên] đã gửi đơn"),
])
def test_personal_data_is_masked(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "Chi phí bảo vệ môi trường tăng 1.500.000 đồng, tức 30% trong năm 2025",
    "Sở Tài nguyên và Môi trường Hà Nội hướng dẫn chậm",
    "công ty chúng tôi chưa được hướng dẫn; nhà máy xử lý nước thải quá tải",
    r"Phí xử lý $\notacommand{x}$ quá cao",
    "- Thiếu hướng dẫn cụ thể về thủ tục đăng ký môi trường",
])
def test_ordinary_text_is_kept(text):
    assert mask_text(text) == text


def test_masking_twice_changes_nothing_and_missing_is_empty():
    text = "Công ty TNHH Minh Phát, anh Tuấn 0912345678, tuan@mp.vn"
    assert mask_text(mask_text(text)) == mask_text(text)
    assert mask_text(None) == "" and mask_text(float("nan")) == ""
