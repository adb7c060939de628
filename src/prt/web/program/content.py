"""The curriculum the platform delivers, loaded once per process, and its handouts as safe HTML.

Which curriculum: ``prt.program``'s packaged one, changed by a site's file when the setting
``PRT_PROGRAM_CURRICULUM`` names one (docs/program.md, "Adapting the program at a site"; loaded
with :func:`prt.program.load_curriculum`, which refuses a bad file whole, naming the file and key).

Handouts are Markdown (trusted site content, still escaped: docs/program.md, "For the web app"):
rendered by markdown-it-py's CommonMark parser with raw HTML off (any ``<tag>`` is shown as text),
images off (the CSP allows no remote image), links checked by its ``validateLink`` (no
``javascript:`` or ``data:``), and headings moved down a level so they follow the page's own
``<h1>``/``<h2>`` in order (WCAG 2.2, 1.3.1). No ``style`` attribute or script can come out of it.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from prt.program import Curriculum, default_curriculum, load_curriculum


@lru_cache(maxsize=1)
def _load(site_file: str | None) -> Curriculum:
    return load_curriculum(site=site_file) if site_file else default_curriculum()


def curriculum() -> Curriculum:
    """The curriculum of this platform (the packaged one, or with the site's changes)."""
    return _load(getattr(settings, "PRT_PROGRAM_CURRICULUM", None) or None)


def label(c: Curriculum | None = None) -> str:
    """``name@version`` recorded with anything delivered (docs/program.md: record them)."""
    c = c or curriculum()
    return f"{c.name}@{c.version}"[:120]


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable(
        ["image", "html_inline", "html_block"])


@lru_cache(maxsize=64)
def _render(text: str, shift: int, title: str) -> str:
    md = _markdown()
    tokens = md.parse(text)
    if title and len(tokens) >= 3 and tokens[0].type == "heading_open" and tokens[1].content.strip() == title:
        tokens = tokens[3:]  # the page already shows the title: its sections move up a level
        shift -= 1
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{max(2, min(6, int(token.tag[1]) + shift))}"
    return md.renderer.render(tokens, md.options, {})


def handout_html(text: str, shift: int = 2, title: str = "") -> SafeString:
    """A Markdown handout as HTML safe to insert (raw HTML escaped; headings ``shift`` levels down:
    the default 2 puts a handout's ``#`` at ``<h3>`` inside a page's ``<h2>`` section). A first
    heading equal to ``title`` is left out (the page shows the title already) and the handout's
    other headings move up a level in its place."""
    return mark_safe(_render(text or "", shift, title.strip()))  # noqa: S308 - markdown-it escapes; html off
