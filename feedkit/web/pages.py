"""The web side's pages: Jinja2 templates (autoescaped) beside this module, the headers every page
carries, and times written as editors read them."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from feedkit.config import Config
from feedkit.words import plural

# The pages' only script is a file of our own (COPY_SCRIPT); their styles are inline; covers may
# come from the site or elsewhere. Anything injected into a page despite the escaping cannot run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' https: http: data:",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}
COPY_SCRIPT = "/_feedkit/copy.js"


class Pages:
    """Renders the site's pages with its title and zone."""

    def __init__(self, config: Config) -> None:
        self.config = config
        folder = str(resources.files("feedkit.web").joinpath("pages"))
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["moment"] = self.moment
        self.templates.globals["plural"] = plural
        self.templates.globals["copy_script"] = COPY_SCRIPT

    def moment(self, value: datetime | str) -> str:
        """A time as editors read it, in the site's zone: 'Fri 4 Dec 2026, 08:00 GMT'."""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return f"{moment.astimezone(self.config.zone):%a %-d %b %Y, %H:%M %Z}"

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        template = self.templates.get_template(name)
        html = template.render(site_title=self.config.site.title, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def script(self, _request: Request) -> Response:
        """The pages' one script, from the package."""
        code = resources.files("feedkit.web").joinpath("pages", "copy.js").read_bytes()
        headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
        return Response(code, media_type="text/javascript; charset=utf-8", headers=headers)

    def message(self, status: int, title: str, message: str) -> HTMLResponse:
        return self.render("message.html.j2", status, title=title, message=message)
