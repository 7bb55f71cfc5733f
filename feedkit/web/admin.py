"""The editors' page: when the next digest goes and what is in it, its preview, a test, the send
itself (the same lock and code path as the CLI and the scheduler) and how recent digests went."""

from __future__ import annotations

import functools
import logging
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from feedkit import schedule
from feedkit.config import Config
from feedkit.errors import ConfigError, FeedkitError
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns, history, subscriptions
from feedkit.newsletter.model import COMPLAINT_RATE_LINE
from feedkit.privacy import address_tag
from feedkit.tokens import Purpose, Tokens
from feedkit.web.pages import SECURITY_HEADERS, Pages
from feedkit.web.privacy import client_address

logger = logging.getLogger("feedkit.web")
NOTICE_AGE = timedelta(minutes=5)


class Editors:
    """The editors' pages, and the send started from them, if one is running."""

    def __init__(self, config: Config, pages: Pages, tokens: Tokens) -> None:
        self.config = config
        self.pages = pages
        self.tokens = tokens
        self.sending: threading.Thread | None = None
        self.send_error: str | None = None

    async def dashboard(self, request: Request) -> Response:
        """When the next digest goes and what is in it, a test, the send, the recent digests."""
        context: dict[str, Any] = {
            "plan": await run_in_threadpool(campaigns.plan_send, self.config),
            "subscribers": await run_in_threadpool(subscriptions.count_active, self.config),
            "counts": await run_in_threadpool(subscriptions.list_counts, self.config),
            "topics": self.config.topics,
            **next_digest_time(self.config),
            "statuses": await run_in_threadpool(history.status, self.config, 5),
            "sending": self.is_sending(),
            "notice": self._notice(request.query_params.get("notice", "")),
        }
        csrf = request.state.session.csrf
        return self.pages.render("dashboard.html.j2", csrf=csrf, **context)

    def _redirect_with_notice(self, text: str) -> RedirectResponse:
        """Notices travel signed: no crafted link can make the editors' page say something."""
        signed = quote(self.tokens.make(Purpose.NOTICE, text))
        return RedirectResponse(f"/admin?notice={signed}", status_code=303)

    def _notice(self, signed: str) -> str | None:
        return self.tokens.read(Purpose.NOTICE, signed, NOTICE_AGE) if signed else None

    async def preview(self, _request: Request) -> Response:
        written = await run_in_threadpool(campaigns.preview, self.config)
        if not written.reviews:
            message = "No review is published yet, so there is nothing to preview."
            return self.pages.message(200, "Nothing to preview", message)
        html = written.html_path.read_text(encoding="utf-8")
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": "script-src 'none'"}
        return HTMLResponse(html, headers=headers)

    async def send_test(self, request: Request) -> Response:
        form = await request.form()
        address = str(form.get("address", "")).strip()
        who = f"{address_tag(address)} (from {client_address(request)})"
        try:
            transport = open_transport(self.config)
            await run_in_threadpool(campaigns.send_test, self.config, address, transport)
        except FeedkitError as error:
            logger.warning("digest: test to %s not sent: %s", who, error)
            return self._redirect_with_notice(f"Test not sent: {error}")
        logger.info("digest: test sent to %s", who)
        return self._redirect_with_notice(f"Test sent to {address}")

    async def resend_confirmation(self, request: Request) -> Response:
        """An editor mails a reader a fresh confirmation link (the per-address limit aside)."""
        address = str((await request.form()).get("address", "")).strip()
        who = f"{address_tag(address)} (from {client_address(request)})"
        transports = functools.partial(open_transport, self.config)
        try:
            sent = await run_in_threadpool(
                subscriptions.send_confirmation, self.config, address, transports
            )
        except FeedkitError as error:
            logger.warning("subscribe: confirmation to %s not sent: %s", who, error)
            return self._redirect_with_notice(f"Not sent: {error}")
        if not sent:
            return self._redirect_with_notice(f"{address} is not waiting for a confirmation.")
        logger.info("subscribe: confirmation resent to %s", who)
        return self._redirect_with_notice(f"A new confirmation link went to {address}.")

    async def confirm_send(self, request: Request) -> Response:
        plan = await run_in_threadpool(campaigns.plan_send, self.config)
        csrf = request.state.session.csrf
        return self.pages.render("confirm.html.j2", plan=plan, csrf=csrf)

    async def start_send(self, request: Request) -> Response:
        if self.is_sending():
            return RedirectResponse("/admin/status", status_code=303)
        self.send_error = None
        self.sending = threading.Thread(target=self._send_in_background, daemon=True)
        logger.info("digest: send started on the editors' page (from %s)", client_address(request))
        self.sending.start()
        return RedirectResponse("/admin/status", status_code=303)

    def _send_in_background(self) -> None:
        try:
            run = campaigns.deliver(self.config)
        except FeedkitError as error:  # the lock held by the scheduler, a refused login...
            logger.error("digest: the send from the editors' page did not run: %s", error)
            self.send_error = str(error)
            return
        for report in run.reports:
            logger.info("digest: %s", report.summary())
        if not run.reports:
            logger.info("digest: nothing new since the last digest; nothing sent")
        self.send_error = str(run.failure) if run.failure else None

    def is_sending(self) -> bool:
        return self.sending is not None and self.sending.is_alive()

    async def status(self, _request: Request) -> Response:
        """How recent digests went, and what came back from them."""
        statuses = await run_in_threadpool(history.status, self.config, 10)
        returned = await run_in_threadpool(history.overview, self.config)
        return self.pages.render(
            "status.html.j2",
            statuses=statuses,
            sending=self.is_sending(),
            error=self.send_error,
            returned=returned,
            line=f"{COMPLAINT_RATE_LINE * 100:.1f} %",
        )


def next_digest_time(config: Config) -> dict[str, Any]:
    """`next_send`: when the scheduled digest goes next (None when [schedule] digest is off);
    `schedule_problem`: why that cannot be told, when a cron expression cannot be read."""
    try:
        moments = schedule.upcoming(config, 1).get("digest")
    except ConfigError as error:
        return {"next_send": None, "schedule_problem": str(error)}
    return {"next_send": moments[0] if moments else None, "schedule_problem": ""}
