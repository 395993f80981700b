"""Documents people download: PDF (CJK font embedded), XLSX workbooks and CSV tables."""

from nuanliu.documents.pdf import render_pdf
from nuanliu.documents.tables import csv_bytes, xlsx_bytes

__all__ = ["csv_bytes", "render_pdf", "xlsx_bytes"]
