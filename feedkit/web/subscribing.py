"""Readers subscribe, confirm and manage their subscription on the site.

The subscribe form answers every address alike ("check your inbox") and does its work after the
answer has gone, so neither the page nor its timing tells who is on the list. Robots meet a
honeypot field, a signed form timestamp (too quick or too old: dropped without a word) and rate
limits. Every link from a mail opens a page that changes nothing; only its button does.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from feedkit.config import Config
from feedkit.errors import FeedkitError, SubscriberError
from feedkit.mail.transports import Transport, open_transport
from feedkit.newsletter import readers
from feedkit.newsletter.messages import preferences_link
from feedkit.newsletter.model import Confirmation, Subscriber
from feedkit.privacy import address_tag
from feedkit.tokens import Purpose, Tokens
from feedkit.web.limits import OnceOnly, RateLimit
from feedkit.web.pages import SECURITY_HEADERS, Pages
from feedkit.web.privacy import client_address, client_key

logger = logging.getLogger("feedkit.web")
HONEYPOT = "website"  # a field people never see, and robots fill in
PAUSE_CHOICES = (1, 2, 4, 8, 12)  # weeks


class Subscribing:
    """/subscribe, /confirm and /preferences."""

    def __init__(self, config: Config, pages: Pages, tokens: Tokens) -> None:
        self.config = config
        self.pages = pages
        self.tokens = tokens
        settings = config.subscribe
        self.limit = RateLimit(settings.client_per_hour, settings.total_per_hour)
        self.posted_forms = OnceOnly(window=settings.max_form_hours * 3600)

    def transports(self) -> Transport:
        return open_transport(self.config)

    # -- subscribing ----------------------------------------------------------------------------

    async def form(self, request: Request) -> Response:
        """The form, filled in from the address's query where a link gave one."""
        query = request.query_params
        return self._form(query.get("email", ""), query.get("name", ""), query.getlist("topics"))

    def _form(
        self,
        email: str,
        name: str = "",
        chosen: list[str] | None = None,
        *,
        status: int = 200,
        note: str = "",
    ) -> HTMLResponse:
        return self.pages.render(
            "subscribe.html.j2",
            status,
            form_token=self._form_token(),
            email=email,
            reader_name=name,
            chosen=chosen or [],
            topics=self.config.topics,
            note=note,
        )

    async def subscribe(self, request: Request) -> Response:
        form = await request.form()
        email, name = str(form.get("email", "")), str(form.get("name", ""))[:200]
        topics = tuple(str(topic) for topic in form.getlist("topics"))
        if not form.get("ft"):  # a form on the site's own pages, which cannot sign: one more step
            note = "Please check your address and press Subscribe."
            return self._form(email, name, list(topics), note=note)
        if not self._sent_by_a_person(form):
            return self._check_inbox(email)
        if not self.limit.allow(client_key(request)):
            logger.warning(
                "subscribe: refused from %s (too many requests)", client_address(request)
            )
            return self._too_many()
        request_form = readers.SubscribeForm(email, name, topics)
        try:
            readers.check_form(self.config, request_form)
        except SubscriberError as error:
            return self._form(email, name, list(topics), status=400, note=str(error))
        task = BackgroundTask(self._request_in_background, request_form)
        return self._check_inbox(email, task)

    def _form_token(self) -> str:
        """A signed, timed token for one showing of the form; the nonce makes each one unique."""
        return self.tokens.make(Purpose.SUBSCRIBE_FORM, f"subscribe:{secrets.token_hex(8)}")

    def _sent_by_a_person(self, form: FormData) -> bool:
        """The honeypot is empty, the form was shown neither too recently nor too long ago, and
        this showing of it was not posted before."""
        if form.get(HONEYPOT):
            return False
        token = str(form.get("ft", ""))
        age = self.tokens.age(Purpose.SUBSCRIBE_FORM, token)
        settings = self.config.subscribe
        quickest = timedelta(seconds=settings.min_form_seconds)
        timely = age is not None and quickest <= age <= timedelta(hours=settings.max_form_hours)
        return timely and self.posted_forms.first_use(token)

    def _check_inbox(self, email: str, task: BackgroundTask | None = None) -> HTMLResponse:
        """The one answer to every request: the same words whoever the address belongs to."""
        form_token = self._form_token()
        response = self.pages.render("check_inbox.html.j2", email=email, form_token=form_token)
        response.background = task
        return response

    def _too_many(self) -> HTMLResponse:
        message = "Too many requests from here just now. Please try again in an hour."
        response = self.pages.message(429, "Please try again later", message)
        response.headers["Retry-After"] = "3600"
        return response

    def _request_in_background(self, form: readers.SubscribeForm) -> None:
        tag = address_tag(form.address)
        try:
            outcome = readers.request_subscription(self.config, form, self.transports)
        except FeedkitError as error:
            logger.error("subscribe: request for %s not done: %s", tag, error)
            return
        logger.info("subscribe: request for %s: %s", tag, outcome)

    # -- confirming -----------------------------------------------------------------------------

    async def confirm_page(self, request: Request) -> Response:
        """The link from the confirmation mail: a button, so a mail scanner confirms nothing."""
        token = request.query_params.get("t", "")
        link = await run_in_threadpool(readers.read_confirm_link, self.config, token)
        if link.state is readers.LinkState.INVALID:
            return self._invalid_link()
        expired = link.state is readers.LinkState.EXPIRED
        return self.pages.render(
            "confirm_link.html.j2", 200, token=token, address=link.address, expired=expired
        )

    async def confirm(self, request: Request) -> Response:
        token = str((await request.form()).get("t", ""))
        link, outcome, subscriber = await run_in_threadpool(
            readers.confirm_subscription, self.config, token
        )
        if link.state is readers.LinkState.INVALID:
            return self._invalid_link()
        if link.state is readers.LinkState.EXPIRED:
            return self.pages.render(
                "confirm_link.html.j2", 200, token=token, address=link.address, expired=True
            )
        if outcome is None or subscriber is None or outcome is Confirmation.STALE:
            return self._stale_link(link.address)
        task = None
        if outcome is Confirmation.CONFIRMED:
            logger.info("subscribe: %s confirmed", address_tag(subscriber.address))
            task = BackgroundTask(self._welcome_in_background, subscriber)
        response = self._subscribed_page(subscriber, already=outcome is Confirmation.ALREADY)
        response.background = task
        return response

    def _welcome_in_background(self, subscriber: Subscriber) -> None:
        try:
            readers.welcome(self.config, subscriber, self.transports)
        except FeedkitError as error:
            logger.error(
                "subscribe: no welcome for %s: %s", address_tag(subscriber.address), error
            )

    def _subscribed_page(self, subscriber: Subscriber, *, already: bool) -> HTMLResponse:
        link = preferences_link(self.config, self.tokens, subscriber.address)
        return self.pages.render(
            "subscribed.html.j2", address=subscriber.address, preferences=link, already=already
        )

    async def resend(self, request: Request) -> Response:
        """An expired link asks for a fresh one; the same limits as the form apply."""
        token = str((await request.form()).get("t", ""))
        link = await run_in_threadpool(readers.read_confirm_link, self.config, token)
        if link.state is readers.LinkState.INVALID:
            return self._invalid_link()
        if not self.limit.allow(client_key(request)):
            return self._too_many()
        task = BackgroundTask(self._resend_in_background, token)
        return self._check_inbox(link.address, task)

    def _resend_in_background(self, token: str) -> None:
        try:
            readers.resend_confirmation(self.config, token, self.transports)
        except FeedkitError as error:
            logger.error("subscribe: new link not sent: %s", error)

    def _invalid_link(self) -> HTMLResponse:
        message = (
            "This link is not valid: it may have been cut short or changed. Please use the link "
            "from the e-mail as it came, or subscribe again."
        )
        return self.pages.render(
            "link_problem.html.j2", 400, title="Link not valid", message=message
        )

    def _stale_link(self, address: str) -> HTMLResponse:
        message = (
            f"This link no longer works for {address}: the address unsubscribed after it was "
            "sent, or was removed. You can subscribe again."
        )
        return self.pages.render(
            "link_problem.html.j2", 410, title="Link no longer valid", message=message
        )

    # -- preferences ----------------------------------------------------------------------------

    async def preferences(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        subscriber = await run_in_threadpool(readers.preferences_of, self.config, token)
        return self._preferences_page(token, subscriber)

    def _preferences_page(
        self, token: str, subscriber: Subscriber | None, notice: str = ""
    ) -> HTMLResponse:
        if subscriber is None:
            return self._invalid_link()
        page = self.pages.render(
            "preferences.html.j2",
            token=token,
            subscriber=subscriber,
            topics=self.config.topics,
            pause_choices=PAUSE_CHOICES,
            notice=notice,
        )
        page.headers["Cache-Control"] = "no-store"  # a reader's own details: keep no copy
        return page

    async def choose_topics(self, request: Request) -> Response:
        form = await request.form()
        token, topics = str(form.get("t", "")), tuple(str(t) for t in form.getlist("topics"))
        chosen = await run_in_threadpool(readers.choose_topics, self.config, token, topics)
        return self._preferences_page(token, chosen, "Your topics are saved.")

    async def pause(self, request: Request) -> Response:
        form = await request.form()
        token = str(form.get("t", ""))
        weeks = _whole_number(str(form.get("weeks", "0")))
        paused = await run_in_threadpool(readers.pause, self.config, token, weeks)
        notice = f"Paused for {weeks} weeks." if weeks else "Your digest comes again."
        return self._preferences_page(token, paused, notice)

    async def data(self, request: Request) -> Response:
        """Everything kept about the reader, as a JSON download; reading changes nothing."""
        token = request.query_params.get("t", "")
        found = await run_in_threadpool(readers.personal_data, self.config, token)
        if found is None:
            return self._invalid_link()
        headers = {
            **SECURITY_HEADERS,
            "Content-Disposition": 'attachment; filename="my-subscription.json"',
            "Cache-Control": "no-store",
        }
        body = json.dumps(found, indent=2, ensure_ascii=False)
        return Response(body, media_type="application/json; charset=utf-8", headers=headers)

    async def unsubscribe(self, request: Request) -> Response:
        token = str((await request.form()).get("t", ""))
        done = await run_in_threadpool(
            readers.unsubscribe_with_token, self.config, token, Purpose.PREFERENCES
        )
        if done is None:
            return self._invalid_link()
        subscriber = await run_in_threadpool(readers.preferences_of, self.config, token)
        return self._preferences_page(token, subscriber, "You are unsubscribed.")

    async def forget(self, request: Request) -> Response:
        form = await request.form()
        token = str(form.get("t", ""))
        if form.get("sure") != "yes":
            subscriber = await run_in_threadpool(readers.preferences_of, self.config, token)
            notice = "Tick the box to confirm that everything should be deleted."
            return self._preferences_page(token, subscriber, notice)
        address = await run_in_threadpool(readers.forget, self.config, token)
        if address is None:
            return self._invalid_link()
        logger.info("subscribe: %s asked to be forgotten", address_tag(address))
        message = f"{address} and everything {self.config.site.title} kept about it are deleted."
        return self.pages.message(200, "Deleted", message)


def _whole_number(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 4 else 0
