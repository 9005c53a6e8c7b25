"""HTML mail: sanitised for display (nh3, the Ammonia sanitiser) and turned into plain text
(html2text) for agents, rules and quote stripping."""

from __future__ import annotations

import html2text
import nh3

# cid: keeps inline images addressable (the inbox maps them to the stored attachments).
_SCHEMES = {"http", "https", "mailto", "tel", "cid"}


def sanitize_html(html: str) -> str:
    """Safe to show in the inbox: no scripts, handlers, styles that run or remote forms."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow", url_schemes=_SCHEMES)


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.single_line_break = False
    return converter.handle(html).strip()
