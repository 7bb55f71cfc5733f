"""Editors log in and out; every page of the editors' side is behind `guard`.

The login form carries a token that a signed cookie repeats (a page on another site has neither);
only a real failed POST counts against a client, and a right password clears its count. Sessions
live in the state database, so logging out ends one for good.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from feedkit import editors
from feedkit.config import Config
from feedkit.editors import AdminSession
from feedkit.errors import UsageError
from feedkit.tokens import Purpose, Tokens
from feedkit.web.auth import LoginLimiter, PasswordChecks, is_readable_hash
from feedkit.web.pages import Pages
from feedkit.web.privacy import client_address, client_key

logger = logging.getLogger("feedkit.web")
ADMIN_HASH_ENV = "FEEDKIT_ADMIN_PASSWORD_HASH"
SESSION_COOKIE = "feedkit_admin"
LOGIN_FORM_COOKIE = "feedkit_login"  # the login form's CSRF token, signed, before any session
LOGIN_FORM_AGE = timedelta(hours=1)
SAFE_METHODS = ("GET", "HEAD")
Handler = Callable[[Request], Awaitable[Response]]


def admin_enabled() -> bool:
    """Whether the editors' page is on: it is while a password hash is set."""
    return bool(os.environ.get(ADMIN_HASH_ENV))


def check_admin_hash() -> None:
    """A password hash, if set, must be one a login can match: refused at start, not at login."""
    stored = os.environ.get(ADMIN_HASH_ENV)
    if stored and not is_readable_hash(stored):
        raise UsageError(
            f"{ADMIN_HASH_ENV} is not a password hash feedkit can read, so no login could succeed",
            "make one with 'feedkit serve --hash-password' and set what is between its quotes",
        )


def same_token(given: str, expected: str) -> bool:
    """Compared in constant time as UTF-8: compare_digest refuses non-ASCII text outright."""
    return hmac.compare_digest(given.encode(), expected.encode())


class Login:
    """The login form, logging in and out, and the guard of the editors' pages."""

    def __init__(self, config: Config, pages: Pages, tokens: Tokens) -> None:
        self.config = config
        self.pages = pages
        self.tokens = tokens
        self.limiter = LoginLimiter()
        self.password_checks = PasswordChecks()

    def guard(self, handler: Handler) -> Handler:
        """Only for a live session; a form posted to it must carry the session's CSRF token."""

        async def guarded(request: Request) -> Response:
            if not admin_enabled():
                return self.disabled()
            session = await self._session(request)
            if session is None:
                if request.method in SAFE_METHODS:
                    return RedirectResponse("/admin/login", status_code=303)
                return self.pages.message(401, "Please log in", "Your session has ended.")
            if request.method not in SAFE_METHODS:
                form = await request.form()
                if not same_token(str(form.get("csrf", "")), session.csrf):
                    return self.pages.message(
                        403, "Form expired", "Reload the page and try again."
                    )
            request.state.session = session
            return await handler(request)

        return guarded

    async def _session(self, request: Request) -> AdminSession | None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        stored = os.environ.get(ADMIN_HASH_ENV, "")
        return await run_in_threadpool(editors.find_session, self.config, session_id, stored)

    def disabled(self) -> HTMLResponse:
        hint = "see `feedkit serve --hash-password`"
        message = f"The editors' page is off: set {ADMIN_HASH_ENV} ({hint})."
        return self.pages.message(503, "Editors' page disabled", message)

    async def form(self, request: Request) -> Response:
        if not admin_enabled():
            return self.disabled()
        return self._form(request)

    def _form(self, request: Request, status: int = 200, error: str = "") -> Response:
        """The form, with a token that its cookie repeats: a page on another site has neither."""
        token = self._form_token(request) or secrets.token_urlsafe(24)
        response = self.pages.render("login.html.j2", status, error=error, csrf=token)
        response.set_cookie(
            LOGIN_FORM_COOKIE,
            self.tokens.make(Purpose.LOGIN_FORM, token),
            max_age=int(LOGIN_FORM_AGE.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies(request),
            path="/admin/login",
        )
        return response

    def _form_token(self, request: Request) -> str | None:
        signed = request.cookies.get(LOGIN_FORM_COOKIE, "")
        return self.tokens.read(Purpose.LOGIN_FORM, signed, LOGIN_FORM_AGE) if signed else None

    def _posted_by_our_form(self, request: Request, form: FormData) -> bool:
        """Its token matches the cookie, and no browser says the post came from another site."""
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        expected = self._form_token(request)
        return expected is not None and same_token(str(form.get("csrf", "")), expected)

    async def login(self, request: Request) -> Response:
        """Only a POST with a wrong password counts against the client; a right one clears it."""
        stored = os.environ.get(ADMIN_HASH_ENV)
        if not stored:
            return self.disabled()
        form = await request.form()
        client = client_address(request)
        if not self._posted_by_our_form(request, form):
            logger.warning("admin: login refused from %s (stale or foreign form)", client)
            return self._form(request, 403, "The form had expired. Please log in again.")
        counted = client_key(request)
        mark = self.limiter.reserve(counted)
        if mark is None:
            logger.warning("admin: login refused from %s (too many attempts)", client)
            wait = "Too many attempts. Wait fifteen minutes and try again."
            return self._form(request, 429, wait)
        right = await self.password_checks.check(str(form.get("password", "")), stored)
        if right is None:
            self.limiter.release(counted, mark)
            logger.warning("admin: login not checked for %s (busy with other logins)", client)
            busy = "The server is busy checking other logins. Try again in a minute."
            return self._form(request, 503, busy)
        if not right:
            logger.warning("admin: login failed from %s (wrong password)", client)
            return self._form(request, 401, "That password is not right.")
        self.limiter.succeeded(counted)
        logger.info("admin: login from %s", client)
        return await self._start_session(request, stored)

    async def _start_session(self, request: Request, stored: str) -> Response:
        session_id, _ = await run_in_threadpool(editors.start_session, self.config, stored)
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(LOGIN_FORM_COOKIE, path="/admin/login")
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(editors.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies(request),
            path="/admin",
        )
        return response

    def secure_cookies(self, request: Request) -> bool:
        """Secure when the site is https and the request came over https, directly or through a
        proxy that says so. The proxy's word is taken from anyone: a Secure flag can only keep a
        cookie off plain http, never expose it."""
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        over_https = request.url.scheme == "https" or forwarded == "https"
        return self.config.base_url.startswith("https://") and over_https

    async def logout(self, request: Request) -> Response:
        """The session ends on the server: a copy of the cookie opens nothing afterwards."""
        session_id = request.cookies[SESSION_COOKIE]
        await run_in_threadpool(editors.end_session, self.config, session_id)
        logger.info("admin: logout from %s", client_address(request))
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response
