"""`feedkit serve`: feeds over HTTP, one-click unsubscribe, and the editors' page.

A Starlette app over the same config, state database and use cases as the CLI and the scheduler.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from feedkit.config import Config
from feedkit.errors import ConfigError, FeedkitError, StateError
from feedkit.feeds.formats import CONTENT_TYPES, FEED_FILES
from feedkit.mail.message import open_transport, secret_from_environment, verify_token
from feedkit.newsletter import campaigns as newsletter
from feedkit.service import scheduler
from feedkit.store import newsletter as mailstate
from feedkit.store import sessions as websessions
from feedkit.store.build import FEED_INDEX_KEY
from feedkit.store.db import Store, open_store
from feedkit.web.auth import LoginLimiter, PasswordChecks, is_readable_hash
from feedkit.words import plural

logger = logging.getLogger(__name__)
ADMIN_HASH_ENV = "FEEDKIT_ADMIN_PASSWORD_HASH"
SESSION_COOKIE = "feedkit_admin"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_COOKIE = "feedkit_login"  # the login form's CSRF token, signed, before any session
LOGIN_FORM_SECONDS = 3600
# Every text file feedkit writes is UTF-8; with nosniff a browser must be told, not left to guess.
UTF8 = "; charset=utf-8"
FILE_TYPES = {
    "feed.xml": CONTENT_TYPES["rss"] + UTF8,
    "atom.xml": CONTENT_TYPES["atom"] + UTF8,
    "feed.json": CONTENT_TYPES["json"] + UTF8,
    ".xsl": "application/xslt+xml" + UTF8,
    ".html": "text/html" + UTF8,
    ".xml": "application/xml" + UTF8,
    ".json": "application/json" + UTF8,
}
FORMAT_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
FEED_GROUPS = (("categories", "By category"), ("tags", "By tag"))  # folders in public/, in order
_T = TypeVar("_T")
SAFE_METHODS = ("GET", "HEAD")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One format of a feed, as the home page offers it."""

    label: str  # "RSS", "Atom", "JSON Feed"
    path: str  # under public/
    base_url: str
    content_type: str

    @property
    def url(self) -> str:
        """The full address, to paste into a feed reader."""
        return self.base_url + self.path


Links = tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class ListedFeed:
    """A feed on the home page: the site's own (group ""), or a category's or a tag's."""

    group: str
    name: str
    title: str
    links: Links

    @classmethod
    def of(cls, folder: str, title: str, site_title: str, links: Links) -> ListedFeed:
        """Grouped by its folder in public/, named without the site's title in front."""
        group = folder.split("/", 1)[0] if folder else ""
        name = title.removeprefix(f"{site_title}: ") if group else title
        return cls(group, name, title, links)


class WebSettingError(FeedkitError):
    """The environment `feedkit serve` starts in cannot work: a password hash it cannot read."""

    exit_code = 2


class WebApp:
    """The routes; one instance per `feedkit serve`, holding the config and the running send, if any."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.secret = secret_from_environment()
        check_admin_hash()
        self.signer = URLSafeTimedSerializer(self.secret, salt="feedkit-web")
        self.limiter = LoginLimiter()
        self.password_checks = PasswordChecks()
        self.sending: threading.Thread | None = None
        self.send_error: str | None = None
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(resources.files("feedkit.web").joinpath("pages"))),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.pages.filters["moment"] = self._moment
        self.pages.globals["plural"] = plural

    def _moment(self, value: datetime | str) -> str:
        """A time as editors read it, in the site's zone: 'Fri 4 Dec 2026, 08:00 GMT'."""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return f"{moment.astimezone(self.config.zone):%a %-d %b %Y, %H:%M %Z}"

    def routes(self) -> list[Route]:
        """Each route names its methods; a GET route answers HEAD alike; neither changes state."""
        admin = self._admin_only
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/unsubscribe", self.ask_to_unsubscribe, methods=["GET"]),
            Route("/unsubscribe", self.unsubscribe, methods=["POST"]),
            Route("/admin/login", self.login_form, methods=["GET"]),
            Route("/admin/login", self.login, methods=["POST"]),
            Route("/admin/logout", admin(self.logout), methods=["POST"]),
            Route("/admin", admin(self.dashboard), methods=["GET"]),
            Route("/admin/preview", admin(self.preview), methods=["GET"]),
            Route("/admin/test", admin(self.send_test), methods=["POST"]),
            Route("/admin/send", admin(self.confirm_send), methods=["GET"]),
            Route("/admin/send", admin(self.start_send), methods=["POST"]),
            Route("/admin/status", admin(self.status), methods=["GET"]),
            Route("/{path:path}", self.public_file, methods=["GET"]),
        ]

    # -- pages --------------------------------------------------------------------------------

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.pages.get_template(name).render(site_title=self.config.site.title, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    async def home(self, request: Request) -> Response:
        """The feeds the last build wrote, the site's own first; the content is never read here."""
        feeds = await run_in_threadpool(self._listed_feeds)
        main = next((feed for feed in feeds if feed.group == ""), None)
        others = [feed for feed in feeds if feed.group != ""]
        headings = dict(FEED_GROUPS)
        groups = [(heading, [f for f in others if f.group == key]) for key, heading in FEED_GROUPS]
        groups.append(("More feeds", [feed for feed in others if feed.group not in headings]))
        groups = [(heading, listed) for heading, listed in groups if listed]
        listing: dict[str, Any] = {"main": main, "others": others, "groups": groups}
        return self.page("home.html.j2", site_url=self.config.base_url, **listing)

    def _listed_feeds(self) -> list[ListedFeed]:
        """Each feed with the formats the build wrote for it, with their full addresses."""
        feeds = []
        for folder, title in self._feed_index():
            paths = [(fmt, folder + FEED_FILES[fmt]) for fmt in self.config.feeds.formats]
            links = tuple(
                FeedLink(FORMAT_LABELS[fmt], path, self.config.base_url, CONTENT_TYPES[fmt])
                for fmt, path in paths
                if (self.config.output_dir / path).is_file()
            )
            if links:
                feeds.append(ListedFeed.of(folder, title, self.config.site.title, links))
        return feeds

    def _feed_index(self) -> list[tuple[str, str]]:
        """(folder, title) per feed, as the last build recorded them, else as found in public/."""
        recorded = None
        if self.config.database_path.is_file():  # a GET makes no database
            try:
                recorded = self._with_store(Store.get_meta, FEED_INDEX_KEY)
            except StateError as error:
                logger.warning("home page: listing the feed files in public/ instead (%s)", error)
        return _parse_feed_index(recorded) or _feeds_on_disk(self.config)

    async def state_unavailable(self, request: Request, error: Exception) -> Response:
        """The state database cannot be used: a page that says so, not a bare server error."""
        logger.error("%s %s: %s", request.method, request.url.path, error)
        message = "This cannot be done just now; nothing was changed. Please try again later."
        title = "Please try again later"
        response = self.page("message.html.j2", 503, title=title, message=message)
        response.headers["Retry-After"] = "300"
        return response

    async def public_file(self, request: Request) -> Response:
        path = _safe_path(self.config.output_dir, request.path_params["path"])
        if path is None:
            return self.page("message.html.j2", 404, title="Not found", message="There is no such page here.")
        return _file_response(path, request)

    # -- unsubscribe ----------------------------------------------------------------------------

    async def ask_to_unsubscribe(self, request: Request) -> Response:
        """GET (and a mail scanner's HEAD) only shows the button: nothing changes yet."""
        token = request.query_params.get("t", "")
        address = verify_token(token, self.secret) if token else None
        if address is None:
            return self._invalid_link()
        return self.page("unsubscribe.html.j2", address=address, token=token)

    async def unsubscribe(self, request: Request) -> Response:
        """The button, or a mail client's RFC 8058 one-click POST."""
        token = request.query_params.get("t", "")
        address = verify_token(token, self.secret) if token else None
        if address is None:
            return self._invalid_link()
        changed = await run_in_threadpool(self._with_store, mailstate.unsubscribe, address.lower())
        outcome = "unsubscribed" if changed else "was not subscribed"
        logger.info("unsubscribe: %s %s", address_tag(address), outcome)
        message = f"{address} will receive no more e-mail from {self.config.site.title}."
        return self.page("message.html.j2", title="You are unsubscribed", message=message)

    def _invalid_link(self) -> HTMLResponse:
        advice = "Please use the link from the most recent e-mail."
        message = f"This unsubscribe link is not valid. {advice}"
        return self.page("message.html.j2", 400, title="Link not valid", message=message)

    # -- admin ------------------------------------------------------------------------------------

    def _admin_only(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not os.environ.get(ADMIN_HASH_ENV):
                return self._admin_disabled()
            session = await self._session(request)
            if session is None:
                if request.method in SAFE_METHODS:
                    return RedirectResponse("/admin/login", status_code=303)
                return self.page("message.html.j2", 401, title="Please log in", message="Your session has ended.")
            if request.method not in SAFE_METHODS:
                form = await request.form()
                if not same_token(str(form.get("csrf", "")), session.csrf):
                    return self.page(
                        "message.html.j2", 403, title="Form expired", message="Reload the page and try again."
                    )
            request.state.session = session
            return await handler(request)

        return guarded

    async def _session(self, request: Request) -> websessions.AdminSession | None:
        """The live session the cookie names, if it was made with the current password hash."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        session = await run_in_threadpool(self._with_store, websessions.find, session_id, _now())
        # A new password hash ends every session made with the old one.
        current_key = password_key(os.environ.get(ADMIN_HASH_ENV, ""))
        return session if session is not None and session.password_key == current_key else None

    def _with_store(self, query: Callable[..., _T], *args: Any) -> _T:
        with open_store(self.config) as store:
            return query(store, *args)

    def _admin_disabled(self) -> HTMLResponse:
        hint = "see `feedkit serve --hash-password`"
        message = f"The editors' page is off: set {ADMIN_HASH_ENV} ({hint})."
        return self.page("message.html.j2", 503, title="Editors' page disabled", message=message)

    async def login_form(self, request: Request) -> Response:
        if not os.environ.get(ADMIN_HASH_ENV):
            return self._admin_disabled()
        return self._login_page(request)

    def _login_page(self, request: Request, status: int = 200, error: str = "") -> Response:
        """The form, with a token that its cookie repeats: a page on another site has neither."""
        token = self._login_token(request) or secrets.token_urlsafe(24)
        response = self.page("login.html.j2", status, error=error, csrf=token)
        response.set_cookie(
            LOGIN_FORM_COOKIE,
            self.signer.dumps(token, salt="login-form"),
            max_age=LOGIN_FORM_SECONDS,
            httponly=True,
            samesite="strict",
            secure=self._secure_cookies(request),
            path="/admin/login",
        )
        return response

    def _login_token(self, request: Request) -> str | None:
        signed = request.cookies.get(LOGIN_FORM_COOKIE, "")
        try:
            token = self.signer.loads(signed, salt="login-form", max_age=LOGIN_FORM_SECONDS)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    def _login_form_is_ours(self, request: Request, form: FormData) -> bool:
        """Posted by our own form: its token matches the cookie, and no browser says otherwise."""
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        expected = self._login_token(request)
        return expected is not None and same_token(str(form.get("csrf", "")), expected)

    async def login(self, request: Request) -> Response:
        """Only a POST with a wrong password counts against the client; a right one clears it."""
        stored = os.environ.get(ADMIN_HASH_ENV)
        if not stored:
            return self._admin_disabled()
        form = await request.form()
        client = client_address(request)
        if not self._login_form_is_ours(request, form):
            logger.warning("admin: login refused from %s (stale or foreign form)", client)
            return self._login_page(request, 403, "The form had expired. Please log in again.")
        mark = self.limiter.reserve(client)
        if mark is None:
            logger.warning("admin: login refused from %s (too many attempts)", client)
            wait = "Too many attempts. Wait fifteen minutes and try again."
            return self._login_page(request, 429, wait)
        right = await self.password_checks.check(str(form.get("password", "")), stored)
        if right is None:
            self.limiter.release(client, mark)
            logger.warning("admin: login not checked for %s (busy with other logins)", client)
            busy = "The server is busy checking other logins. Try again in a minute."
            return self._login_page(request, 503, busy)
        if not right:
            logger.warning("admin: login failed from %s (wrong password)", client)
            return self._login_page(request, 401, "That password is not right.")
        self.limiter.succeeded(client)
        logger.info("admin: login from %s", client)
        return await self._start_session(request, stored)

    async def _start_session(self, request: Request, stored: str) -> Response:
        session_id, _ = await run_in_threadpool(
            self._with_store, websessions.start, password_key(stored), _now(), SESSION_LIFETIME
        )
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(LOGIN_FORM_COOKIE, path="/admin/login")
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=self._secure_cookies(request),
            path="/admin",
        )
        return response

    def _secure_cookies(self, request: Request) -> bool:
        return self.config.base_url.startswith("https://") and request.url.scheme == "https"

    async def logout(self, request: Request) -> Response:
        """The session ends on the server: a copy of the cookie opens nothing afterwards."""
        session_id = request.cookies[SESSION_COOKIE]
        await run_in_threadpool(self._with_store, websessions.end, session_id, _now())
        logger.info("admin: logout from %s", client_address(request))
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    async def dashboard(self, request: Request) -> Response:
        """When the next digest goes and what is in it, a test, the send, the recent digests."""
        context: dict[str, Any] = {
            "plan": await run_in_threadpool(newsletter.plan_send, self.config),
            "subscribers": await run_in_threadpool(_subscriber_count, self.config),
            **next_digest_time(self.config),
            "statuses": await run_in_threadpool(newsletter.status, self.config, 5),
            "sending": self._is_sending(),
            "notice": self._notice(request.query_params.get("notice", "")),
        }
        return self.page("dashboard.html.j2", csrf=request.state.session.csrf, **context)

    def _redirect_with_notice(self, text: str) -> RedirectResponse:
        """Notices travel signed: nobody can make the editors' page say something with a crafted link."""
        signed = quote(self.signer.dumps(text, salt="notice"))
        return RedirectResponse(f"/admin?notice={signed}", status_code=303)

    def _notice(self, signed: str) -> str | None:
        if not signed:
            return None
        try:
            text: str = self.signer.loads(signed, salt="notice", max_age=300)
        except BadSignature:
            return None
        return text

    async def preview(self, request: Request) -> Response:
        written = await run_in_threadpool(newsletter.preview, self.config)
        if not written.reviews:
            message = "No review is published yet, so there is nothing to preview."
            return self.page("message.html.j2", title="Nothing to preview", message=message)
        html = written.html_path.read_text(encoding="utf-8")
        return HTMLResponse(html, headers={**SECURITY_HEADERS, "Content-Security-Policy": "script-src 'none'"})

    async def send_test(self, request: Request) -> Response:
        form = await request.form()
        address = str(form.get("address", "")).strip()
        who = f"{address_tag(address)} (from {client_address(request)})"
        try:
            await run_in_threadpool(newsletter.send_test, self.config, address, open_transport(self.config))
        except FeedkitError as error:
            logger.warning("digest: test to %s not sent: %s", who, error)
            return self._redirect_with_notice(f"Test not sent: {error}")
        logger.info("digest: test sent to %s", who)
        return self._redirect_with_notice(f"Test sent to {address}")

    async def confirm_send(self, request: Request) -> Response:
        plan = await run_in_threadpool(newsletter.plan_send, self.config)
        return self.page("confirm.html.j2", plan=plan, csrf=request.state.session.csrf)

    async def start_send(self, request: Request) -> Response:
        if self._is_sending():
            return RedirectResponse("/admin/status", status_code=303)
        self.send_error = None
        self.sending = threading.Thread(target=self._send_in_background, daemon=True)
        logger.info("digest: send started on the editors' page (from %s)", client_address(request))
        self.sending.start()
        return RedirectResponse("/admin/status", status_code=303)

    def _send_in_background(self) -> None:
        try:
            reports = newsletter.send(self.config, lambda: open_transport(self.config))
        except FeedkitError as error:  # the lock held by the scheduler, a refused login...
            logger.error("digest: the send from the editors' page did not run: %s", error)
            self.send_error = str(error)
            return
        for report in reports:
            logger.info("digest: %s", report.summary())
        if not reports:
            logger.info("digest: nothing new since the last digest; nothing sent")
        stopped = [report.stopped for report in reports if report.stopped]
        self.send_error = stopped[0] if stopped else None  # e.g. the mail server cannot be reached

    def _is_sending(self) -> bool:
        return self.sending is not None and self.sending.is_alive()

    async def status(self, request: Request) -> Response:
        statuses = await run_in_threadpool(newsletter.status, self.config, 10)
        sending = self._is_sending()
        error = self.send_error
        return self.page("status.html.j2", statuses=statuses, sending=sending, error=error)


def same_token(given: str, expected: str) -> bool:
    """Compared in constant time as UTF-8: compare_digest refuses non-ASCII text outright."""
    return hmac.compare_digest(given.encode(), expected.encode())


def check_admin_hash() -> None:
    """A password hash, if set, must be one a login can match: refused at start, not at login."""
    stored = os.environ.get(ADMIN_HASH_ENV)
    if stored and not is_readable_hash(stored):
        raise WebSettingError(
            f"{ADMIN_HASH_ENV} is not a password hash feedkit can read, so no login could succeed",
            "make one with 'feedkit serve --hash-password' and set what is between its quotes",
        )


def client_address(request: Request) -> str:
    """The client's address as uvicorn has it (X-Forwarded-For only from a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def address_tag(address: str) -> str:
    """A short SHA-256 of an e-mail address, for the log: the same address, the same tag, and no
    address in clear (`printf %s ADDRESS | sha256sum | cut -c1-12` finds one's tag)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]


def admin_enabled() -> bool:
    """Whether the editors' page is on: it is while a password hash is set."""
    return bool(os.environ.get(ADMIN_HASH_ENV))


def _now() -> datetime:
    return datetime.now(UTC)


def password_key(password_hash: str) -> str:
    """A short key of the password hash: each session keeps it, so a new hash ends them all."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def next_digest_time(config: Config) -> dict[str, Any]:
    """`next_send`: when the scheduled digest goes next (None when [schedule] digest is off);
    `schedule_problem`: why that cannot be told, when a cron expression cannot be read."""
    try:
        moments = scheduler.upcoming(config, 1).get("digest")
    except ConfigError as error:
        return {"next_send": None, "schedule_problem": str(error)}
    return {"next_send": moments[0] if moments else None, "schedule_problem": ""}


def _subscriber_count(config: Config) -> int:
    with open_store(config) as store:
        return mailstate.count_subscribed(store)


def _parse_feed_index(recorded: str | None) -> list[tuple[str, str]]:
    """The recorded [[folder, title], ...], or [] when there is none or it is not of that shape."""
    try:
        index = json.loads(recorded) if recorded else []
    except ValueError:
        return []
    if not isinstance(index, list) or not all(_is_text_pair(item) for item in index):
        return []
    return [(str(folder), str(title)) for folder, title in index]


def _is_text_pair(item: object) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)


def _feeds_on_disk(config: Config) -> list[tuple[str, str]]:
    """The site's feed and each category or tag folder in public/, titled by the folder's name."""
    feeds = [("", config.site.title)]
    for group in ("categories", "tags"):
        folder = config.output_dir / group
        if not folder.is_dir():
            continue
        names = sorted(path.name for path in folder.iterdir() if path.is_dir())
        feeds += [(f"{group}/{name}/", f"{config.site.title}: {name}") for name in names]
    return feeds


def _safe_path(root: Path, requested: str) -> Path | None:
    """A file under `root`, or None: no '..', no absolute paths, no symlinks out of it, no hidden files."""
    parts = [part for part in requested.split("/") if part]
    if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    base = root.resolve()
    candidate = (base.joinpath(*parts) if parts else base).resolve()
    if candidate.is_dir():
        candidate = candidate / "index.html"
    if base not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def _content_type(path: Path) -> str:
    return FILE_TYPES.get(path.name) or FILE_TYPES.get(path.suffix, "application/octet-stream")


def _file_response(path: Path, request: Request) -> Response:
    """The file with ETag and Last-Modified, or 304 when the client's copy is current."""
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    modified = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    headers = {
        **SECURITY_HEADERS,
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "public, max-age=300",
    }
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=_content_type(path), headers=headers)


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def create_app(config: Config) -> Starlette:
    web = WebApp(config)
    app = Starlette(routes=web.routes(), exception_handlers={StateError: web.state_unavailable})
    app.state.web = web  # the running send and the login limits, for whoever holds the app
    return app
