"""Reports: the monthly difficulties digest (XLSX, PDF) and the annual PGI-estimate report (HTML, PDF)."""
from .annual import AnnualReport, build_annual, write_annual_html, write_annual_pdf
from .common import UNOFFICIAL, drop_personal, safe_cells
from .digest import Digest, build_digest, write_digest_pdf, write_digest_xlsx

__all__ = ["AnnualReport", "build_annual", "write_annual_html", "write_annual_pdf", "Digest", "build_digest",
           "write_digest_xlsx", "write_digest_pdf", "UNOFFICIAL", "drop_personal", "safe_cells"]
