"""HTML → PDF with WeasyPrint: A4, a CJK font embedded, a running header (what the
document covers and the time of its data) and page numbers on every page.

WeasyPrint lays out real HTML/CSS (tables, SVG charts) and embeds subsets of the fonts it
uses; the Chinese font comes from fontconfig (Debian's fonts-wqy-microhei), so a
machine without it fails loudly instead of printing empty boxes.
"""

from __future__ import annotations

import html as html_lib
import subprocess
from functools import lru_cache

from nuanliu.errors import NuanliuError

CJK_FAMILY = "WenQuanYi Micro Hei"


class MissingFont(NuanliuError):
    """The CJK font a Chinese document needs is not installed."""


@lru_cache(maxsize=1)
def check_cjk_font() -> None:
    """Fail with the package to install when fontconfig does not know the CJK font."""
    try:
        out = subprocess.run(
            ["fc-list", ":", "family"], capture_output=True, text=True, check=False
        ).stdout
    except FileNotFoundError:
        out = ""
    if CJK_FAMILY.lower() not in out.lower():
        raise MissingFont(
            f"font {CJK_FAMILY!r} not found: install Debian's fonts-wqy-microhei "
            "to render Chinese documents"
        )


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css(header: str, footer: str = "") -> str:
    """The page box: header text top left, ``footer`` bottom left, "page N / M" right."""
    return f"""
@page {{
  size: A4;
  margin: 20mm 14mm 18mm 14mm;
  @top-left {{ content: {_css_string(header)}; font-size: 8pt; color: #555; }}
  @bottom-left {{ content: {_css_string(footer)}; font-size: 8pt; color: #555; }}
  @bottom-right {{ content: counter(page) " / " counter(pages); font-size: 8pt; }}
}}
html {{ font-family: "{CJK_FAMILY}", sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; margin: 4pt 0 10pt; }}
th, td {{ border: 0.5pt solid #999; padding: 2pt 4pt; }}
th {{ background: #eef2f6; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
h1, h2, h3 {{ page-break-after: avoid; }}
tr, img, svg {{ page-break-inside: avoid; }}
"""


def render_pdf(body_html: str, *, header: str, footer: str = "", title: str = "") -> bytes:
    """A PDF of ``body_html`` (a fragment or a whole document) with header and page numbers."""
    from weasyprint import CSS, HTML

    check_cjk_font()
    if "<html" not in body_html.lower():
        body_html = (
            f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html_lib.escape(title)}</title></head><body>{body_html}</body></html>"
        )
    doc = HTML(string=body_html)
    return bytes(doc.write_pdf(stylesheets=[CSS(string=page_css(header, footer))]))
