"""Extra sections of the analysis report: what a domain package adds when its data are given.

The analysis report covers the trial's outcomes; the program (adherence and fidelity,
:mod:`prt.program.report`), the pain attributions (:mod:`prt.attribution.report`) and the brain
imaging (:mod:`prt.imaging.report`) each add one section when ``prt analyze`` is given their data.
Each package offers a pure function that returns a :class:`ReportSection`: its ``results.json``
entry (JSON-ready, under :attr:`ReportSection.key`), its HTML body, its figures (already rendered
to SVG and PNG bytes) and the sentences it adds to the summary. :func:`prt.analysis.write_analysis`
and :func:`prt.analysis.report.render_report` take a list of them; the ``analyze`` command composes
them, so ``prt.analysis`` never imports the domain packages (which import it: no cycle, and the
imaging extra's nibabel is loaded only when imaging outputs are given).

The helpers below are the report's own pieces (escaping, accessible tables, headings), so every
section looks and behaves like the rest of the page; everything that reaches the page is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

#: The results.json keys the extra sections use, in the order they appear in the report.
SECTION_KEYS = ("program", "attributions", "imaging")


@dataclass(frozen=True)
class SectionFigure:
    """One figure of a section: file stem, rendered bytes, caption and alt text."""

    name: str
    svg: bytes
    png: bytes
    caption: str
    alt: str
    wide: bool = False


@dataclass(frozen=True)
class ReportSection:
    """What a domain package adds to the analysis: results, an HTML body, figures, summary lines.

    Attributes:
        key: its key in results.json and its anchor in the report (one of :data:`SECTION_KEYS`).
        title: the section heading.
        body: HTML built with :func:`escape` and :func:`table` (the figures are placed after it).
        results: the JSON-ready entry written to results.json under ``key``.
        figures: the section's figures (written beside the report as PNG and SVG, embedded as SVG).
        summary: plain sentences added to the report's summary.
        notes: what could not be shown, in words (also in the body; the CLI prints them).
        methods: plain sentences saying how the numbers were made (listed after the figures).
    """

    key: str
    title: str
    body: str
    results: Mapping[str, Any]
    figures: tuple[SectionFigure, ...] = ()
    summary: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from prt.errors import InputError

        if self.key not in SECTION_KEYS:
            raise InputError(f"report section {self.key!r}: expected one of {', '.join(SECTION_KEYS)}")
        object.__setattr__(self, "results", MappingProxyType(dict(self.results)))
        object.__setattr__(self, "figures", tuple(self.figures))
        object.__setattr__(self, "summary", tuple(self.summary))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "methods", tuple(self.methods))


def check_sections(sections: Iterable[ReportSection]) -> list[ReportSection]:
    """The sections in report order; InputError for a key given twice or not a section."""
    from prt.errors import InputError

    out: dict[str, ReportSection] = {}
    for section in sections:
        if not isinstance(section, ReportSection):
            raise InputError("report sections: expected ReportSection objects")
        if section.key in out:
            raise InputError(f"report section {section.key!r} is given twice")
        out[section.key] = section
    return [out[k] for k in SECTION_KEYS if k in out]


# ------------------------------------------------------------------------------------ HTML pieces
def escape(value: Any) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape(str(value), quote=True)


def heading(text: str) -> str:
    """A sub-heading inside a section (``h3``)."""
    return f"<h3>{escape(text)}</h3>"


def paragraph(text: str, *, css: str | None = None) -> str:
    cls = f' class="{escape(css)}"' if css else ""
    return f"<p{cls}>{escape(text)}</p>"


def empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


def bullet_list(items: Sequence[str], *, css: str = "methods") -> str:
    """A list of plain sentences in a box (``methods`` or ``summary`` style)."""
    if not items:
        return ""
    return f'<div class="{escape(css)}"><ul>' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul></div>"


def table(frame, headers: dict[str, str], caption: str, **options) -> str:
    """An accessible table (caption, column and row headers): the report's own table renderer."""
    from prt.analysis.report import html_table

    if frame is None or len(frame) == 0:
        return empty(f"{caption}: nothing to show.")
    return html_table(frame, headers, caption, **options)


def render_figure(fig, name: str, caption: str, alt: str, *, wide: bool = False) -> SectionFigure:
    """A matplotlib figure rendered to SVG and PNG bytes (the report's reproducible settings)."""
    from prt.analysis.figures import figure_bytes

    return SectionFigure(name=name, svg=figure_bytes(fig, "svg"), png=figure_bytes(fig, "png"), caption=caption,
                         alt=alt, wide=wide)


def pct(value: Any, digits: int = 1) -> str:
    """A share (0-1) as a percentage, ``-`` when missing."""
    from prt.analysis.tables import MISSING, is_missing

    return MISSING if is_missing(value) else f"{100.0 * float(value):.{digits}f}%"


__all__ = ["ReportSection", "SECTION_KEYS", "SectionFigure", "bullet_list", "check_sections", "empty", "escape",
           "heading", "paragraph", "pct", "render_figure", "table"]
