"""HTML and PDF from one Jinja2 template per report: the HTML as one offline file, the PDF through WeasyPrint.

The template (``templates/<report>.html.j2``, extending ``base.html.j2``) lays out a
:class:`~survey.reports.blocks.Document`; the same HTML goes to the browser and to WeasyPrint, whose
print stylesheet makes A4 pages with the header (province, period, issuer, date), the unofficial
notice and the page number on every page, and repeats a table's header row on each page it spans.
Charts are matplotlib SVG (vector in both). Fonts: DejaVu Sans, shipped with matplotlib, so a PDF
has every Vietnamese letter on any machine.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import jinja2
from markupsafe import Markup
import matplotlib

from ..outputs import atomic_path
from ..reference import data_path
from .blocks import Document, Figure
from .common import plt

__all__ = ["figure", "number_ticks", "render_html", "write_html", "write_pdf"]

_TEMPLATES = data_path("reports", "templates")
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def figure(fig, title: str, alt: str = "") -> Figure:
    """A matplotlib figure as a :class:`Figure` (SVG, text drawn as paths so it looks the same everywhere);
    the figure is closed."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "pgi-survey"}):  # the same figure gives the same file
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return Figure(title, buf.getvalue().decode("utf-8"), alt or title)


def number_ticks(lang: str, digits: int | None = None, percent: bool = False):
    """A matplotlib tick formatter writing numbers per locale (``0,05`` or ``5%`` in Vietnamese)."""
    from matplotlib.ticker import FuncFormatter

    from ..i18n import format_number, format_percent

    if percent:
        return FuncFormatter(lambda v, _pos: format_percent(v, lang, digits or 0))
    return FuncFormatter(lambda v, _pos: format_number(round(v, 6), lang, digits))


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _css_string(text: str) -> Markup:
    """Text as a CSS string literal inside the page's <style> (for the page boxes' words): quotes, backslashes
    and angle brackets escaped the CSS way, so it can neither end the string nor the style element."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&\n' else c for c in text)
    return Markup(f'"{escaped}"')


def render_html(doc: Document, template: str) -> str:
    """The report as one HTML page (figures embedded, no outside file), from ``templates/<template>``."""
    return _ENV.get_template(template).render(doc=doc, data_uri=_data_uri, css_string=_css_string)


def write_html(doc: Document, template: str, path: str | Path) -> Path:
    """Write the HTML, whole or not at all."""
    path = Path(path)
    html = render_html(doc, template)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path


def _font_css() -> str:
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = [("DejaVu Sans", "normal", "normal", "DejaVuSans.ttf"), ("DejaVu Sans", "bold", "normal",
             "DejaVuSans-Bold.ttf"), ("DejaVu Sans", "normal", "italic", "DejaVuSans-Oblique.ttf")]
    return "".join(f'@font-face{{font-family:"{family}";font-weight:{weight};font-style:{style};'
                   f'src:url("{(fonts / name).as_uri()}")}}' for family, weight, style, name in faces)


def write_pdf(doc: Document, template: str, path: str | Path) -> Path:
    """Write the PDF (A4, WeasyPrint) from the same HTML, whole or not at all."""
    import weasyprint

    path = Path(path)
    html = weasyprint.HTML(string=render_html(doc, template), base_url=str(_TEMPLATES))
    with atomic_path(path) as tmp:
        html.write_pdf(tmp, stylesheets=[weasyprint.CSS(string=_font_css())])
    return path
