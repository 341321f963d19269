"""Reports: the monthly difficulties digest and the annual report, each one Jinja2 template rendered to
HTML and (WeasyPrint) PDF, with its tables also as a formatted Excel workbook."""
from .annual import AnnualReport, build_annual, write_annual_html, write_annual_pdf, write_annual_xlsx
from .blocks import Document, Figure, Section, Table
from .common import UNOFFICIAL, drop_personal, safe_cells
from .digest import (
    Digest, DigestContext, build_digest, write_digest_html, write_digest_pdf, write_digest_xlsx,
)
from .redact import mask_text

__all__ = ["AnnualReport", "build_annual", "write_annual_html", "write_annual_pdf", "write_annual_xlsx", "Digest",
           "DigestContext", "build_digest", "write_digest_xlsx", "write_digest_pdf", "write_digest_html",
           "UNOFFICIAL", "drop_personal", "safe_cells", "mask_text", "Document", "Section", "Table", "Figure"]
