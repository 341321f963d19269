"""Excel staff will open (issue 14, item 6): one sheet per table and a "Ghi chú" sheet, widths, wrapped text,
bold frozen headers, numbers as numbers with a format, and formula-like text stored as text, shown as typed."""
from __future__ import annotations

import zipfile

import openpyxl

from survey.reports.blocks import Document, Section, Table
from survey.reports.xlsx import write_xlsx

FORMULAS = ("=1+1", "+84 912", "-Thiếu hướng dẫn", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")")


def _doc() -> Document:
    rows = tuple((text, "12,5") for text in FORMULAS)
    table = Table("Bảng thử: có ký tự / và ?", ("Nội dung", "Tỷ lệ (%)"), rows, "ghi chú của bảng",
                  values=tuple((None, 12.5) for _ in FORMULAS), formats=("", "0.0"), numeric=(False, True))
    second = Table("Bảng thứ hai", ("A",), (("một dòng rất dài " * 10,),))
    labels = {"province": "Tỉnh", "period": "Kỳ báo cáo", "issuer": "Đơn vị phát hành", "date": "Ngày", "page": "Trang"}
    return Document("Tiêu đề", "vi", "Bắc Giang", "tháng 11/2025", "Hiệp hội", "01/12/2025", "Ước tính không chính thức",
                    (Section("1. Phần", tables=(table, second), notes=("ghi chú một",)),), labels)


def test_sheets_headers_widths_numbers_and_text_cells(tmp_path):
    path = write_xlsx(_doc(), tmp_path / "t.xlsx", "Ghi chú", "Ghi chú")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Bảng thử  có ký tự   và", "Bảng thứ hai", "Ghi chú"]
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1]) and ws["A1"].value == "Nội dung"
    assert ws.column_dimensions["A"].width >= len(FORMULAS[-1]) and ws.column_dimensions["B"].width >= 8
    assert wb.worksheets[1].column_dimensions["A"].width == 60 and wb.worksheets[1]["A2"].alignment.wrap_text
    assert [ws.cell(row=i, column=1).value for i in range(2, 2 + len(FORMULAS))] == list(FORMULAS)  # no apostrophe
    assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(2, 2 + len(FORMULAS)))
    assert ws["B2"].value == 12.5 and ws["B2"].number_format == "0.0"
    notes = [c.value for c in wb["Ghi chú"]["A"]]
    assert {"Tiêu đề", "Tỉnh: Bắc Giang", "Kỳ báo cáo: tháng 11/2025", "ghi chú một"} <= set(notes)
    assert any("ghi chú của bảng" in str(v) for v in notes)
    with zipfile.ZipFile(path) as zf:   # no formula anywhere in the workbook's sheets
        assert not any("<f>" in zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_the_digest_workbook_of_the_demo(demo_reports):
    out = demo_reports[0]
    wb = openpyxl.load_workbook(out / "digest_2025-12.xlsx")
    assert wb.sheetnames[-1] == "Ghi chú" and "Kiến nghị chuyển UBND tỉnh" in wb.sheetnames
    assert len(wb.sheetnames) == len(demo_reports[1].value.document.tables()) + 1
    cases = wb["Kiến nghị chuyển UBND tỉnh"]
    dashed = [c for row in cases.iter_rows(min_row=2) for c in row
              if isinstance(c.value, str) and "Thiếu hướng dẫn cụ thể" in c.value]
    assert dashed and all(c.value.startswith("- ") and c.data_type == "s" for c in dashed)
    share = wb["Theo lĩnh vực khó khăn"]
    assert isinstance(share["C2"].value, float) and share["C2"].number_format == "0.0"
    annual = openpyxl.load_workbook(out / "pgi_estimate_2025.xlsx")
    assert annual.sheetnames[-1] == "Ghi chú" and "Dự báo" in annual.sheetnames
