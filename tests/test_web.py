"""`feedkit serve` over HTTP: every route, status code and header, and the security boundaries."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import feedparser
import httpx2 as httpx
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from starlette.requests import Request
from starlette.testclient import TestClient

from feedkit import pipeline, schedule
from feedkit.cli.main import main
from feedkit.config import Config, load_config
from feedkit.editors import password_key
from feedkit.errors import ConfigError
from feedkit.mail.transports import open_transport
from feedkit.newsletter import campaigns, history, subscriptions
from feedkit.store import sessions as websessions
from feedkit.store.db import Store
from feedkit.tokens import Purpose, Tokens
from feedkit.web.app import create_app
from feedkit.web.auth import LOGIN_ATTEMPTS, PASSWORD_CHECKS, check_password
from feedkit.web.bodylimit import MAX_BODY_BYTES
from feedkit.web.login import ADMIN_HASH_ENV
from feedkit.web.pages import COPY_SCRIPT
from feedkit.web.privacy import client_key
from tests.conftest import import_rows, parse_html, write_site
from tests.test_newsletter import REVIEWS, review

SECRET = "web-test-secret-long-enough"  # noqa: S105 - a test value
PASSWORD = "correct horse"  # noqa: S105 - a test value


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv(ADMIN_HASH_ENV, quick_hash(PASSWORD))
    site = load_config(
        write_site(tmp_path, REVIEWS, '[digest]\nfrom_address = "digest@reviews.example.org"\n')
    )
    pipeline.build(site)
    import_rows(site, [["ann@example.org"], ["bob@example.org"]])
    return site


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url="http://testserver") as test_client:
        yield test_client


def quick_hash(password: str) -> str:
    """An Argon2id hash at the lowest costs, so tests log in quickly (a hash carries its costs)."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


def pbkdf2_hash(password: str, iterations: int) -> str:
    """A hash as earlier feedkit versions printed it: pbkdf2_sha256$iterations$salt$hash."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    salt_text, digest_text = (base64.urlsafe_b64encode(data).decode() for data in (salt, digest))
    return f"pbkdf2_sha256${iterations}${salt_text.rstrip('=')}${digest_text.rstrip('=')}"


def login_form(client: TestClient, password: str = PASSWORD) -> dict[str, str]:
    """The login form as a browser fills it in: the page's token and the password."""
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/login").text)
    assert match
    return {"password": password, "csrf": match[1]}


def log_in(client: TestClient) -> str:
    """Log in and return the CSRF token of the session."""
    response = client.post("/admin/login", data=login_form(client), follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/admin").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match
    return match[1]


# -- feeds
# ------------------------------------------------------------------------------------------


SERVED_TYPES = [
    ("/feed.xml", "application/rss+xml"),
    ("/atom.xml", "application/atom+xml"),
    ("/feed.json", "application/feed+json"),
    ("/feed.xsl", "application/xslt+xml"),
]


@pytest.mark.parametrize(("path", "content_type"), SERVED_TYPES)
def test_feeds_are_served_with_their_types_and_validators(
    client: TestClient, path: str, content_type: str
) -> None:
    """Each file comes with its content type, an ETag and a Last-Modified date."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["last-modified"].endswith(" GMT")


def test_every_text_file_and_page_names_its_charset(client: TestClient, config: Config) -> None:
    """Feeds, the stylesheet and the pages are all sent as UTF-8, said in the header: with nosniff
    a browser must not guess, and a guess of Latin-1 garbles 'Noël' into 'NoÃ«l'."""
    files = [path for path in config.output_dir.rglob("*") if path.is_file()]
    paths = ["/" + path.relative_to(config.output_dir).as_posix() for path in files]
    assert {"/feed.xml", "/atom.xml", "/feed.json", "/feed.xsl"} <= set(paths)
    for path in [*paths, "/", "/admin/login", "/nothing-here.xml"]:
        response = client.get(path)
        assert response.headers["content-type"].endswith("; charset=utf-8"), path


def test_conditional_get_answers_304(client: TestClient) -> None:
    """If-None-Match with the ETag, or If-Modified-Since the last change, gives 304 and no body."""
    first = client.get("/feed.xml")
    by_etag = client.get("/feed.xml", headers={"If-None-Match": first.headers["etag"]})
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    by_date = client.get(
        "/feed.xml", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert by_date.status_code == 304
    stale = client.get("/feed.xml", headers={"If-None-Match": '"0000"'})
    assert stale.status_code == 200
    assert (
        client.get(
            "/feed.xml", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
        ).status_code
        == 200
    )


def test_home_page_lists_feeds_with_autodiscovery(client: TestClient) -> None:
    """The home page's <head> lets browsers and readers discover every feed."""
    page = parse_html(client.get("/").content)
    links = page.xpath(ALTERNATE)
    found = [(link.get("type"), link.get("title"), link.get("href")) for link in links]
    assert found == [
        ("application/rss+xml", "Test Reviews (RSS)", "/feed.xml"),
        ("application/atom+xml", "Test Reviews (Atom)", "/atom.xml"),
        ("application/feed+json", "Test Reviews (JSON Feed)", "/feed.json"),
    ]


ALTERNATE = "//head/link[@rel='alternate']"


OUTSIDE_PUBLIC = [
    "/../config.toml",
    "/%2e%2e/config.toml",
    "/categories/../../config.toml",
    "/..%2fconfig.toml",
    "/%2e%2e%2f.feedkit/state.db",
    "/.hidden",
    "/nothing-here.xml",
]


@pytest.mark.parametrize("path", OUTSIDE_PUBLIC)
def test_nothing_outside_the_public_folder_can_be_read(client: TestClient, path: str) -> None:
    """Paths that climb out of public/, hidden files and missing files are all 404."""
    response = client.get(path)
    assert response.status_code == 404
    assert "[site]" not in response.text


def test_a_symlink_out_of_public_is_not_followed(client: TestClient, config: Config) -> None:
    """A link inside public/ to a file outside it is refused."""
    (config.output_dir / "leak.xml").symlink_to(config.path)
    assert client.get("/leak.xml").status_code == 404


# -- unsubscribe
# ------------------------------------------------------------------------------------


def subscribed(config: Config) -> list[str]:
    return [s.address for s in subscriptions.list_subscribers(config, "active")]


def test_unsubscribe_page_asks_with_one_button(client: TestClient) -> None:
    """GET shows whose address it is and a single button; nothing changes yet."""
    token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    page = client.get(f"/unsubscribe?t={token}")
    assert page.status_code == 200
    assert "ann@example.org" in page.text
    assert page.text.count("<button") == 1


def test_one_click_post_unsubscribes_and_twice_is_harmless(
    client: TestClient, config: Config
) -> None:
    """RFC 8058: a POST with List-Unsubscribe=One-Click unsubscribes at once; again is still
    200."""
    token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    for _ in range(2):
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        body = b"List-Unsubscribe=One-Click"
        response = client.post(f"/unsubscribe?t={token}", content=body, headers=form)
        assert response.status_code == 200
        assert "ann@example.org will receive no more e-mail" in response.text
    assert subscribed(config) == ["bob@example.org"]


def test_head_of_an_unsubscribe_link_changes_nothing(client: TestClient, config: Config) -> None:
    """A mail scanner's HEAD on the link is answered like GET and unsubscribes nobody."""
    token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    response = client.head(f"/unsubscribe?t={token}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert subscribed(config) == ["ann@example.org", "bob@example.org"]


HEAD_AS_GET = [
    ("/", 200),
    ("/feed.xml", 200),
    ("/nothing-here.xml", 404),
    ("/admin/login", 200),
    ("/admin", 303),
    ("/admin/status", 303),
    ("/admin/send", 303),
]


@pytest.mark.parametrize(("path", "status"), HEAD_AS_GET)
def test_head_is_answered_as_get(client: TestClient, path: str, status: int) -> None:
    """Every page answers HEAD with the status and headers GET would have, and no body."""
    get = client.get(path, follow_redirects=False)
    head = client.head(path, follow_redirects=False)
    assert (head.status_code, get.status_code) == (status, status)
    assert head.headers.get("location") == get.headers.get("location")
    assert head.content == b""


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        Tokens(b"another-site-secret-0123456789").make(
            Purpose.UNSUBSCRIBE, "ann@example.org"
        ),  # another site's
        Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")[:-2]
        + "xx",  # altered
    ],
)
def test_bad_altered_or_foreign_token_is_400_and_changes_nothing(
    client: TestClient, config: Config, token: str
) -> None:
    """A token that does not verify gets a clear 400 page, for GET and POST alike."""
    assert client.get(f"/unsubscribe?t={token}").status_code == 400
    response = client.post(f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert "not valid" in response.text
    assert subscribed(config) == ["ann@example.org", "bob@example.org"]


# -- the editors' page
# -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin", "/admin/preview", "/admin/status", "/admin/send"])
def test_admin_pages_redirect_to_login_without_a_session(client: TestClient, path: str) -> None:
    """Every admin page needs a session: without one, 303 to the login page."""
    response = client.get(path, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/admin/login")


@pytest.mark.parametrize("path", ["/admin/send", "/admin/test", "/admin/resend", "/admin/logout"])
def test_admin_actions_are_401_without_a_session(
    client: TestClient, config: Config, path: str
) -> None:
    """A POST without a session is refused and sends nothing."""
    assert client.post(path, data={"csrf": "x", "address": "x@example.org"}).status_code == 401
    assert history.status(config) == []


def test_forged_session_cookie_is_refused(client: TestClient) -> None:
    """A cookie not signed with the site's secret is no session."""
    client.cookies.set("feedkit_admin", "eyJjc3JmIjoieCJ9.forged.signature", path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_admin_is_off_without_a_password_hash(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no password hash in the environment, nothing in /admin works."""
    monkeypatch.delenv(ADMIN_HASH_ENV)
    assert client.get("/admin/login").status_code == 503
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 503
    assert client.get("/admin", follow_redirects=False).status_code == 503


def test_wrong_password_then_lockout(client: TestClient) -> None:
    """Wrong passwords are 401; after five, even the right one waits (429)."""
    for _ in range(5):
        assert client.post("/admin/login", data=login_form(client, "wrong")).status_code == 401
    assert client.post("/admin/login", data=login_form(client)).status_code == 429


def test_password_checks_do_not_wait_for_the_request_thread_pool(client: TestClient) -> None:
    """With the request pool's threads all busy, a login is still checked: hashing has its own."""
    portal = client.portal
    assert portal is not None
    request_pool = portal.call(anyio.to_thread.current_default_thread_limiter)
    portal.call(setattr, request_pool, "total_tokens", 1)
    release = threading.Event()

    def hold_the_only_thread() -> None:
        release.wait()

    portal.start_task_soon(anyio.to_thread.run_sync, hold_the_only_thread)
    while portal.call(getattr, request_pool, "borrowed_tokens") < 1:
        time.sleep(0.01)
    form = login_form(client, "wrong")
    statuses: list[int] = []

    def post_login() -> None:
        statuses.append(client.post("/admin/login", data=form).status_code)

    login = threading.Thread(target=post_login)
    login.start()
    login.join(timeout=30)  # a generous bound: a check queued behind the busy pool would never end
    answered_while_busy = not login.is_alive()
    release.set()
    login.join()
    assert answered_while_busy
    assert statuses == [401]


def test_a_login_beyond_the_cap_on_checks_is_refused_uncounted(client: TestClient) -> None:
    """With every password-check slot taken for longer than a login waits, it is refused (503),
    uncounted."""
    checks = client.app.state.web.password_checks  # type: ignore[attr-defined]
    checks.wait = 0.2
    portal = client.portal
    assert portal is not None
    for _ in range(PASSWORD_CHECKS):
        portal.call(checks.slots.acquire)
    busy = client.post("/admin/login", data=login_form(client))
    for _ in range(PASSWORD_CHECKS):
        portal.call(checks.slots.release)
    assert busy.status_code == 503
    assert "busy" in busy.text
    for _ in range(LOGIN_ATTEMPTS - 1):
        assert client.post("/admin/login", data=login_form(client, "wrong")).status_code == 401
    response = client.post("/admin/login", data=login_form(client), follow_redirects=False)
    assert response.status_code == 303


def test_a_login_waits_its_turn_for_a_busy_check(client: TestClient) -> None:
    """Every slot taken, then one freed while a login waits: it is checked, not turned away."""
    checks = client.app.state.web.password_checks  # type: ignore[attr-defined]
    portal = client.portal
    assert portal is not None
    for _ in range(PASSWORD_CHECKS):
        portal.call(checks.slots.acquire)
    form = login_form(client)
    statuses: list[int] = []
    login = threading.Thread(
        target=lambda: statuses.append(
            client.post("/admin/login", data=form, follow_redirects=False).status_code
        )
    )
    login.start()
    time.sleep(0.5)  # the login is now waiting for a slot
    assert statuses == []
    for _ in range(PASSWORD_CHECKS):
        portal.call(checks.slots.release)
    login.join(timeout=30)
    assert statuses == [303]


def test_a_successful_login_resets_the_failure_count(client: TestClient) -> None:
    """Failures before a successful login no longer count: four more wrong ones do not lock out."""
    for _ in range(2):
        for _ in range(4):
            assert client.post("/admin/login", data=login_form(client, "wrong")).status_code == 401
        response = client.post("/admin/login", data=login_form(client), follow_redirects=False)
        assert response.status_code == 303


def test_head_requests_never_count_as_failed_logins(client: TestClient) -> None:
    """HEAD /admin/login is a look at the form, however often: the right password still logs in."""
    for _ in range(10):
        assert client.head("/admin/login").status_code == 200
    response = client.post("/admin/login", data=login_form(client), follow_redirects=False)
    assert response.status_code == 303


def test_a_login_posted_by_another_page_is_refused(client: TestClient) -> None:
    """A login POST without the form's token, as a foreign page sends it, is 403, uncounted."""
    for _ in range(LOGIN_ATTEMPTS + 1):
        response = client.post("/admin/login", data={"password": PASSWORD}, follow_redirects=False)
        assert response.status_code == 403
        assert "feedkit_admin" not in client.cookies
    log_in(client)


def test_a_cross_site_login_is_refused_even_with_a_token(client: TestClient) -> None:
    """A browser that says the form comes from another site gets 403, whatever the form holds."""
    form = login_form(client)
    headers = {"Sec-Fetch-Site": "cross-site"}
    response = client.post("/admin/login", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "feedkit_admin" not in client.cookies


def test_session_cookie_is_http_only_and_strict(client: TestClient) -> None:
    """The session and login-form cookies cannot be read by scripts nor sent by other sites."""
    form_cookie = set_cookie(client.get("/admin/login"), "feedkit_login")
    response = client.post("/admin/login", data=login_form(client), follow_redirects=False)
    session_cookie = set_cookie(response, "feedkit_admin")
    for cookie, path in ((form_cookie, "/admin/login"), (session_cookie, "/admin")):
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert f"path={path};" in cookie + ";"


def set_cookie(response: httpx.Response, name: str) -> str:
    headers = response.headers.get_list("set-cookie")
    (header,) = [value for value in headers if value.startswith(name + "=")]
    return header.lower()


def test_logout_ends_the_session_on_the_server(client: TestClient) -> None:
    """After logout, a copy of the old session cookie no longer opens the editors' page."""
    csrf = log_in(client)
    old_cookie = client.cookies["feedkit_admin"]
    logout = client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert logout.status_code == 303
    client.cookies.set("feedkit_admin", old_cookie, path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303
    assert client.post("/admin/send", data={"csrf": csrf}).status_code == 401


def test_an_expired_session_is_refused_and_cleaned_up(client: TestClient, config: Config) -> None:
    """A session past its lifetime opens nothing, and the next login deletes its row."""
    key = password_key(os.environ[ADMIN_HASH_ENV])
    thirteen_hours_ago = datetime.now(UTC) - timedelta(hours=13)
    with Store(config.database_path) as store:
        old_id, _ = websessions.start(store, key, thirteen_hours_ago, timedelta(hours=12))
    client.cookies.set("feedkit_admin", old_id, path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303
    client.cookies.clear()
    log_in(client)
    with Store(config.database_path) as store:
        assert store.query_all("SELECT id_hash FROM admin_sessions") == [(sha256_hex(client),)]


def sha256_hex(client: TestClient) -> str:
    return hashlib.sha256(client.cookies["feedkit_admin"].encode()).hexdigest()


def test_the_database_keeps_no_usable_session_id(client: TestClient, config: Config) -> None:
    """Only a hash of the session id is stored: the cookie's value is nowhere in the database."""
    log_in(client)
    cookie = client.cookies["feedkit_admin"]
    assert cookie.encode() not in config.database_path.read_bytes()
    with Store(config.database_path) as store:
        assert store.query_all("SELECT id_hash FROM admin_sessions") == [(sha256_hex(client),)]


def test_forged_csrf_token_is_refused(client: TestClient, config: Config) -> None:
    """A logged-in POST with the wrong CSRF token is 403 and does nothing."""
    log_in(client)
    assert client.post("/admin/send", data={"csrf": "forged"}).status_code == 403
    assert history.status(config) == []


@pytest.mark.parametrize("forged", ["é", "\u2028", "ü" * 40], ids=["accent", "separator", "long"])
def test_non_ascii_csrf_token_is_refused(client: TestClient, config: Config, forged: str) -> None:
    """A CSRF value outside ASCII is a forged token like any other: 403, and nothing is sent."""
    log_in(client)
    assert client.post("/admin/send", data={"csrf": forged}).status_code == 403
    assert history.status(config) == []


def test_dashboard_preview_and_confirmation(client: TestClient) -> None:
    """The dashboard shows the subscriber count and next digest; the preview is the e-mail; send
    asks first."""
    log_in(client)
    dashboard = client.get("/admin").text
    assert "<dd>2 subscribers</dd>" in dashboard
    assert "Test Reviews: 2 new reviews, including Vertigo Blu-ray" in dashboard
    preview = client.get("/admin/preview")
    assert preview.headers["content-security-policy"] == "script-src 'none'"
    assert "Vertigo Blu-ray" in preview.text
    confirm = client.get("/admin/send").text
    assert "2 reviews, to 2 subscribers." in confirm
    assert "Yes, send it now" in confirm


def test_send_now_uses_the_same_path_and_status_follows_it(
    client: TestClient, config: Config
) -> None:
    """Send now starts the normal send (same lock, same state); the status page shows its
    result."""
    csrf = log_in(client)
    response = client.post("/admin/send", data={"csrf": csrf}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/admin/status")
    # The status page says "Sending…" while the background send runs; after it, all is final.
    deadline = time.monotonic() + 10
    while "Sending…" in (page := client.get("/admin/status").text):
        assert time.monotonic() < deadline, "the send did not finish"
        time.sleep(0.05)
    (status,) = history.status(config)
    assert status.counts == {"sent": 2}
    assert len(list(config.outbox_dir.glob("*.eml"))) == 2
    assert '<td class="count" data-label="sent">2</td>' in page


def test_send_test_from_the_page(client: TestClient, config: Config) -> None:
    """'Send a test' mails one address and records nothing."""
    csrf = log_in(client)
    response = client.post(
        "/admin/test", data={"csrf": csrf, "address": "editor@example.org"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin?notice=")
    assert "Test sent to editor@example.org" in client.get(response.headers["location"]).text
    assert [path.name.startswith("test-") for path in config.outbox_dir.glob("*.eml")] == [True]
    assert history.status(config) == []


def test_the_page_counts_subscribers_and_resends_a_confirmation(
    client: TestClient, config: Config
) -> None:
    """Counts by status; a pending reader gets a fresh link, an active one is not pending."""
    subscriptions.add_subscriber(
        config, "zoe@example.org", confirmed=False, transports=lambda: open_transport(config)
    )
    csrf = log_in(client)
    counts = parse_html(client.get("/admin").text).xpath('//section[@aria-label="Subscribers"]')
    terms = [" ".join(node.text_content().split()) for node in counts[0].xpath(".//dt | .//dd")]
    assert terms[:4] == ["Active", "2", "Pending", "1"]
    sent = client.post("/admin/resend", data={"csrf": csrf, "address": "zoe@example.org"})
    assert "A new confirmation link went to zoe@example.org." in sent.text
    assert len(list(config.outbox_dir.glob("confirm-*.eml"))) == 2
    refused = client.post("/admin/resend", data={"csrf": csrf, "address": "ann@example.org"})
    assert "ann@example.org is not waiting for a confirmation." in refused.text


def test_notice_cannot_be_forged_by_a_link(client: TestClient) -> None:
    """A crafted ?notice= does not make the editors' page say anything."""
    log_in(client)
    page = client.get(
        "/admin?notice=Your%20password%20expired%2C%20enter%20it%20at%20evil.example"
    ).text
    assert "evil.example" not in page


def test_new_password_hashes_are_argon2() -> None:
    """`feedkit serve --hash-password` prints an Argon2id hash that accepts that password only."""
    typed = "a long pass phrase\n"
    result = CliRunner().invoke(main, ["serve", "--hash-password"], input=typed * 2)
    assert result.exit_code == 0
    match = re.search(rf"^{ADMIN_HASH_ENV}='(\$argon2id\$[^']+)'$", result.output, re.MULTILINE)
    assert match
    assert check_password("a long pass phrase", match[1])
    assert not check_password("a long pass phrase!", match[1])


def test_earlier_pbkdf2_hashes_still_log_in(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hash from an earlier feedkit (pbkdf2_sha256$...) works, for the right password only."""
    monkeypatch.setenv(ADMIN_HASH_ENV, pbkdf2_hash(PASSWORD, 1_000))
    assert client.post("/admin/login", data=login_form(client, "wrong")).status_code == 401
    log_in(client)


UNREADABLE_HASHES = ["not a hash", "pbkdf2_sha256$x$y$z", "$argon2id$v=19$m=8,t=1,p=1$zz"]


@pytest.mark.parametrize("stored", UNREADABLE_HASHES)
def test_an_unreadable_hash_lets_nobody_in(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    stored: str,
) -> None:
    """A malformed FEEDKIT_ADMIN_PASSWORD_HASH refuses every password with 401, never a crash."""
    monkeypatch.setenv(ADMIN_HASH_ENV, stored)
    assert client.post("/admin/login", data=login_form(client)).status_code == 401


def test_changing_the_password_ends_sessions(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session made with the old password hash is not accepted after the hash changes."""
    log_in(client)
    assert client.get("/admin", follow_redirects=False).status_code == 200
    monkeypatch.setenv(ADMIN_HASH_ENV, quick_hash("a new password"))
    assert client.get("/admin", follow_redirects=False).status_code == 303


# -- the home page reads no content; a damaged database does not take the feeds down -----------


@pytest.fixture
def categorised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A built site whose reviews have categories, so it has more feeds than the site's own."""
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    reviews = {**REVIEWS, "stalker.md": review("Stalker DVD", 3, categories="[DVD]")}
    (tmp_path / "categorised").mkdir()
    site = load_config(write_site(tmp_path / "categorised", reviews))
    pipeline.build(site)
    return site


def damage_database(config: Config) -> None:
    for path in config.database_path.parent.glob(config.database_path.name + "*"):
        path.unlink()
    config.database_path.write_bytes(os.urandom(8192))


def test_home_page_lists_the_built_feeds_without_reading_content(categorised: Config) -> None:
    """GET / lists the last build's feeds even with no content folder: it reads no content."""
    shutil.rmtree(categorised.content_dir)
    categorised.content_dir.write_text("not a folder any more", encoding="utf-8")
    with TestClient(create_app(categorised)) as client:
        page = client.get("/")
    assert page.status_code == 200
    site = "https://reviews.example.org/"
    assert shown_feeds(page.content) == (
        [f"{site}feed.xml", f"{site}atom.xml", f"{site}feed.json"],
        [("By category", "DVD", f"{site}categories/dvd/feed.xml")],
    )
    assert 'href="/categories/dvd/atom.xml"' in page.text


def shown_feeds(page: bytes) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The site feed's addresses as shown (the first section), and (heading, name, address) of
    each feed in the lists below it."""
    document = parse_html(page)
    (main,) = document.find_class("feature")
    main_urls = [code.text_content() for code in main.find_class("url")]
    listed = [
        (group.findtext("h2"), name.text_content(), item.findtext("code"))
        for group in document.find_class("feed-group")
        for item in group.iter("li")
        for name in item.find_class("feed-name")
    ]
    return main_urls, listed


def test_home_page_puts_the_site_feed_first_with_full_addresses(categorised: Config) -> None:
    """The site's own feed comes first, on its own, with each format's full address as text;
    category feeds follow in a list, each with its full address."""
    with TestClient(create_app(categorised)) as client:
        page = client.get("/").content
    main_urls, listed = shown_feeds(page)
    assert main_urls[0] == "https://reviews.example.org/feed.xml"
    dvd = "https://reviews.example.org/categories/dvd/feed.xml"
    assert listed == [("By category", "DVD", dvd)]
    assert page.index(b"feature") < page.index(b"feed-group")


def test_feeds_are_served_with_a_damaged_database(categorised: Config) -> None:
    """With state.db unreadable, the home page lists the feed files in public/ and serves them."""
    damage_database(categorised)
    with TestClient(create_app(categorised)) as client:
        page = client.get("/")
        feed = client.get("/categories/dvd/feed.xml")
    assert page.status_code == 200
    assert 'href="/feed.xml"' in page.text
    assert 'href="/categories/dvd/feed.json"' in page.text
    assert feed.status_code == 200
    assert feedparser.parse(feed.content).feed.title == "Test Reviews: DVD"


def test_unsubscribe_with_a_damaged_database_asks_to_try_later(categorised: Config) -> None:
    """An unsubscribe that cannot be recorded gets a 503 page saying to try again later."""
    damage_database(categorised)
    token = Tokens(SECRET.encode()).make(Purpose.UNSUBSCRIBE, "ann@example.org")
    with TestClient(create_app(categorised)) as client:
        assert client.get(f"/unsubscribe?t={token}").status_code == 200
        response = client.post(f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 503
    assert "try again later" in response.text


# -- [web] settings -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["*", "proxy.example.org", "10.0.0.1/8", "300.1.2.3", ""])
def test_trusted_proxies_must_be_addresses_or_networks(tmp_path: Path, value: str) -> None:
    """Anything but an IP address or network is one error naming the key, the value and a fix."""
    path = write_site(tmp_path, {}, f'[web]\ntrusted_proxies = ["127.0.0.1", "{value}"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"config.toml: [web] trusted_proxies: {value!r} is not an IP address or network;"
        " write e.g. '127.0.0.1' or '10.0.0.0/8'"
    )


def test_trusted_proxies_default_to_none(tmp_path: Path) -> None:
    """No [web] section trusts no proxy; listed addresses and networks are kept as written."""
    assert load_config(write_site(tmp_path, {})).web.trusted_proxies == ()
    listed = '[web]\ntrusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"]\n'
    config = load_config(write_site(tmp_path, {}, listed))
    assert config.web.trusted_proxies == ("127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8")


def test_serve_help_names_the_environment_it_needs() -> None:
    """`feedkit serve --help` names FEEDKIT_SECRET and FEEDKIT_ADMIN_PASSWORD_HASH."""
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "FEEDKIT_SECRET" in result.output
    assert ADMIN_HASH_ENV in result.output


# -- the editors' dashboard: when the next digest goes and what is in it -------------------------


def schedule_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cron: str) -> Config:
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv(ADMIN_HASH_ENV, quick_hash(PASSWORD))
    extra = f'[digest]\nfrom_address = "d@reviews.example.org"\n[schedule]\ndigest = "{cron}"\n'
    site = load_config(write_site(tmp_path, REVIEWS, extra))
    pipeline.build(site)
    import_rows(site, [["ann@example.org"]])
    return site


def dashboard_facts(config: Config) -> dict[str, str]:
    """The dashboard's 'Goes out' / 'In it' / 'To' list, as text."""
    with TestClient(create_app(config)) as client:
        log_in(client)
        page = parse_html(client.get("/admin").content)
    facts = page.xpath('//section[@aria-label="The next digest"]//dl')[0]
    terms = list(facts.iter("dt"))
    return {term.text_content(): " ".join(term.getnext().text_content().split()) for term in terms}


def test_dashboard_says_when_the_next_digest_goes_and_what_is_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a digest cron the dashboard names the next send time, in words, and the plan's subject
    and review count."""
    config = schedule_site(tmp_path, monkeypatch, "0 8 * * FRI")
    (moment,) = schedule.upcoming(config, 1)["digest"]
    facts = dashboard_facts(config)
    assert facts == {
        "Goes out": f"{moment:%a %-d %b %Y, 08:00 %Z} on the schedule",
        "In it": "Test Reviews: 2 new reviews, including Vertigo Blu-ray (2 reviews)",
        "To": "1 subscriber",
    }
    assert moment.strftime("%a") == "Fri"


def test_dashboard_says_when_the_digest_is_not_scheduled(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the digest cron empty, 'Goes out' says it is not scheduled."""
    facts = dashboard_facts(schedule_site(tmp_path, monkeypatch, ""))
    assert facts["Goes out"] == "Not scheduled ([schedule] digest is off): send it here"


def test_recent_digests_show_times_in_words(client: TestClient, config: Config) -> None:
    """A digest's time shows as 'Mon 30 Nov 2026, 10:57 GMT' in the site's zone, not in ISO."""
    campaigns.send(config, lambda: open_transport(config))
    (status,) = history.status(config)
    log_in(client)
    page = parse_html(client.get("/admin").content)
    (shown,) = page.xpath("//table//time")
    local = datetime.fromisoformat(status.created_at).astimezone(config.zone)
    in_words = f"{local:%a %-d %b %Y, %H:%M %Z}"
    assert (shown.get("datetime"), shown.text) == (status.created_at, in_words)


def test_while_sending_the_status_does_not_say_nothing_was_sent(client: TestClient) -> None:
    """While a send runs and no digest is recorded yet, the page says it is being prepared, not
    'No digest has been sent yet'."""
    log_in(client)
    web = client.app.state.web.editors  # type: ignore[attr-defined]
    release = threading.Event()
    web.sending = threading.Thread(target=release.wait)  # to the pages, a send still running
    web.sending.start()
    try:
        pages = [client.get("/admin/status").text, client.get("/admin").text]
    finally:
        release.set()
        web.sending.join()
    for page in pages:
        assert "No digest has been sent yet" not in page
        assert "The digest is being prepared" in page


def test_dashboard_names_a_schedule_it_cannot_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A digest cron that loads but cannot be read in full leaves the page up, saying why."""
    config = schedule_site(tmp_path, monkeypatch, "0 25 * * *")
    goes_out = dashboard_facts(config)["Goes out"]
    assert goes_out.startswith("Cannot tell: config.toml: [schedule] digest: '0 25 * * *' is not")


# -- limits on what a request may send, and whom a limit counts ------------------------------


def test_a_body_announced_as_too_large_is_refused_unread(client: TestClient) -> None:
    """A Content-Length over the cap gets 413 before anything is parsed, on any route."""
    for path in ("/subscribe", "/confirm", "/admin/login"):
        body = b"email=" + b"a" * MAX_BODY_BYTES
        response = client.post(
            path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 413, path


def test_a_streamed_body_that_grows_too_large_is_refused(client: TestClient) -> None:
    """Without a Content-Length (chunked), the body is counted as it comes and cut at the cap."""
    chunks = iter([b"email=", b"a" * (MAX_BODY_BYTES // 2), b"a" * (MAX_BODY_BYTES // 2 + 10)])
    response = client.post(
        "/subscribe", content=chunks, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_a_file_upload_to_a_form_is_refused_past_the_cap(client: TestClient) -> None:
    """A multipart post with a large file part never reaches the disk."""
    files = {"email": ("big.bin", b"\0" * (MAX_BODY_BYTES + 1))}
    assert client.post("/subscribe", files=files).status_code == 413


def test_a_path_too_long_for_the_file_system_is_not_found(client: TestClient) -> None:
    """A 300-character name or thousands of segments: 404, not a server error."""
    for path in ("/" + "a" * 300, "/a" * 3000):
        assert client.get(path).status_code == 404


def test_behind_an_https_proxy_the_cookies_are_secure(client: TestClient) -> None:
    """An https site reached through a proxy that says X-Forwarded-Proto: https gets Secure
    cookies, even when the proxy is not a trusted one: Secure can only withhold a cookie."""
    https = {"x-forwarded-proto": "https"}
    form_cookie = set_cookie(client.get("/admin/login", headers=https), "feedkit_login")
    assert "; secure" in form_cookie
    plain_cookie = set_cookie(client.get("/admin/login"), "feedkit_login")
    assert "; secure" not in plain_cookie


@pytest.mark.parametrize(
    ("host", "counted"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64_network(host: str, counted: str) -> None:
    """Rotating through the addresses of one IPv6 /64 does not escape a limit."""
    request = Request({"type": "http", "client": (host, 4321), "headers": []})
    assert client_key(request) == counted


def test_every_page_forbids_scripts_but_its_own(client: TestClient) -> None:
    """Pages carry a Content-Security-Policy that runs only the site's own script file, which is
    served as JavaScript; the feed page and the home page load it rather than inline code."""
    for path in ("/", "/subscribe", "/admin/login", "/no-such-page", "/feed.xml"):
        response = client.get(path, headers={"accept": "text/html"})
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy, path
        assert "object-src 'none'" in policy, path
        assert "<script>" not in response.text, path
    home = client.get("/").text
    assert f'<script src="{COPY_SCRIPT}" defer></script>' in home
    script = client.get(COPY_SCRIPT)
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "navigator.clipboard.writeText" in script.text
