"""HTML rendering: Jinja2 with autoescaping on for every template, so message content,
names, subjects and filenames always reach the page as text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from inbox.context import PRINCIPAL_KEY
from inbox.i18n import Translator, pick_language
from inbox.session import Session

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SESSION_KEY = web.RequestKey("session", Session)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _short_time(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M")


def _contact_label(contact: dict[str, Any], t: Translator) -> str:
    """What to call a contact: their name, else an address people recognise (an email, a
    phone), else "Visitor #12" (a widget visitor's address is an opaque random id)."""
    if contact.get("name"):
        return str(contact["name"])
    for key in ("email", "phone"):
        if contact.get(key):
            return str(contact[key])
    for identity in contact.get("identities") or ():
        if identity.get("channel") not in ("widget", "api"):
            return str(identity["address"])
    return f"{t('visitor')} #{contact.get('id')}"


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["size"] = _human_size
ENV.filters["short_time"] = _short_time
ENV.globals["contact_label"] = _contact_label


def page_context(request: web.Request) -> dict[str, Any]:
    lang = pick_language(request)
    principal = request.get(PRINCIPAL_KEY)
    session = request.get(SESSION_KEY)
    return {
        "t": Translator(lang),
        "lang": lang,
        "me": principal,
        "csrf": session.csrf if session else "",
        "path": request.path,
        "path_qs": request.path_qs,
    }


def render_html(request: web.Request, template: str, **values: Any) -> str:
    return ENV.get_template(template).render(**page_context(request), **values)


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    response = web.Response(
        text=render_html(request, template, **values), content_type="text/html", status=status
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response
