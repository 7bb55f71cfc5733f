"""`feedkit serve`: feeds over HTTP, subscribing and unsubscribing, and the editors' page.

A Starlette app over the same config, state database and use cases as the CLI and the scheduler;
each group of routes has a module of its own.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from feedkit.config import Config
from feedkit.errors import StateError
from feedkit.newsletter.notices import check_notice_templates
from feedkit.tokens import Tokens, secret_from_environment
from feedkit.web.admin import Editors
from feedkit.web.auth import PasswordChecks
from feedkit.web.bodylimit import BodyLimit
from feedkit.web.login import Login, check_admin_hash
from feedkit.web.monitoring import Monitoring
from feedkit.web.pages import COPY_SCRIPT, Pages
from feedkit.web.public import PublicSide
from feedkit.web.subscribing import Subscribing
from feedkit.web.unsubscribe import Unsubscribing

logger = logging.getLogger("feedkit.web")


class WebApp:
    """The routes; one per `feedkit serve`, holding the login limits and the running send."""

    def __init__(self, config: Config) -> None:
        tokens = Tokens(secret_from_environment())
        check_admin_hash()
        check_notice_templates(config)  # a broken confirmation template stops serve at start
        self.pages = Pages(config)
        self.public = PublicSide(config, self.pages)
        self.unsubscribing = Unsubscribing(config, self.pages)
        self.subscribing = Subscribing(config, self.pages, tokens)
        self.login = Login(config, self.pages, tokens)
        self.editors = Editors(config, self.pages, tokens)
        self.monitoring = Monitoring(config, self.pages)

    @property
    def password_checks(self) -> PasswordChecks:
        return self.login.password_checks

    def routes(self) -> list[Route]:
        """Each route names its methods; a GET route answers HEAD alike; neither changes state."""
        guard, editors, readers = self.login.guard, self.editors, self.subscribing
        return [
            Route("/", self.public.home, methods=["GET"]),
            Route("/unsubscribe", self.unsubscribing.ask, methods=["GET"]),
            Route("/unsubscribe", self.unsubscribing.unsubscribe, methods=["POST"]),
            Route("/subscribe", readers.form, methods=["GET"]),
            Route("/subscribe", readers.subscribe, methods=["POST"]),
            Route("/confirm", readers.confirm_page, methods=["GET"]),
            Route("/confirm", readers.confirm, methods=["POST"]),
            Route("/confirm/resend", readers.resend, methods=["POST"]),
            Route("/preferences", readers.preferences, methods=["GET"]),
            Route("/preferences", readers.choose_topics, methods=["POST"]),
            Route("/preferences/pause", readers.pause, methods=["POST"]),
            Route("/preferences/data", readers.data, methods=["GET"]),
            Route("/preferences/unsubscribe", readers.unsubscribe, methods=["POST"]),
            Route("/preferences/forget", readers.forget, methods=["POST"]),
            Route("/admin/login", self.login.form, methods=["GET"]),
            Route("/admin/login", self.login.login, methods=["POST"]),
            Route("/admin/logout", guard(self.login.logout), methods=["POST"]),
            Route("/admin", guard(editors.dashboard), methods=["GET"]),
            Route("/admin/preview", guard(editors.preview), methods=["GET"]),
            Route("/admin/test", guard(editors.send_test), methods=["POST"]),
            Route("/admin/resend", guard(editors.resend_confirmation), methods=["POST"]),
            Route("/admin/send", guard(editors.confirm_send), methods=["GET"]),
            Route("/admin/send", guard(editors.start_send), methods=["POST"]),
            Route("/admin/status", guard(editors.status), methods=["GET"]),
            Route(COPY_SCRIPT, self.pages.script, methods=["GET"]),
            Route("/healthz", self.monitoring.healthz, methods=["GET"]),
            Route("/metrics", self.monitoring.metrics, methods=["GET"]),
            Route("/{path:path}", self.public.file, methods=["GET"]),
        ]

    async def state_unavailable(self, request: Request, error: Exception) -> Response:
        """The state database cannot be used: a page that says so, not a bare server error."""
        logger.error("%s %s: %s", request.method, request.url.path, error)
        message = "This cannot be done just now; nothing was changed. Please try again later."
        response = self.pages.message(503, "Please try again later", message)
        response.headers["Retry-After"] = "300"
        return response


def create_app(config: Config) -> Starlette:
    web = WebApp(config)
    app = Starlette(
        routes=web.routes(),
        middleware=[Middleware(BodyLimit)],
        exception_handlers={StateError: web.state_unavailable},
    )
    app.state.web = web  # the running send and the login limits, for whoever holds the app
    return app
