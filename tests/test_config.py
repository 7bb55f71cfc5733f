"""config.toml: every problem is reported at once, each naming its key and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedkit.config import load_config
from feedkit.errors import ConfigError

VALID = """\
[site]
title = "Reel Notes"
base_url = "https://reelnotes.example.org"
"""


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    """Only title and base_url are required; the rest takes the defaults the sample config
    shows."""
    path = tmp_path / "config.toml"
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path)
    assert config.base_url == "https://reelnotes.example.org/"
    assert config.content.permalink == "/reviews/{year}/{slug}/"
    assert config.feeds.formats == ("rss", "atom", "json")
    assert config.feeds.limit == 50
    assert config.content_dir == tmp_path.resolve() / "content"
    assert config.database_path == tmp_path.resolve() / ".feedkit" / "state.db"


def test_unknown_key_suggests_the_likely_one(tmp_path: Path) -> None:
    """A typo is an error with a 'did you mean', never silently ignored."""
    message = config_error(tmp_path, VALID + "[feeds]\nlimt = 10\n")
    assert message == "config.toml: [feeds] limt: unknown key; did you mean 'limit'?"


def test_unknown_section_suggests_the_likely_one(tmp_path: Path) -> None:
    """A misspelt section name is reported with the nearest known one."""
    message = config_error(tmp_path, VALID + "[feed]\nlimit = 10\n")
    assert message == "config.toml: [feed]: unknown section; did you mean 'feeds'?"


def test_wrong_type_names_key_and_expected_type(tmp_path: Path) -> None:
    """A value of the wrong type names the key, the expected type and the value given."""
    message = config_error(tmp_path, VALID + '[feeds]\nlimit = "ten"\n')
    assert message == "config.toml: [feeds] limit: must be a whole number, not a string 'ten'"


def test_missing_base_url_is_named(tmp_path: Path) -> None:
    """base_url is required and its absence says so."""
    message = config_error(tmp_path, '[site]\ntitle = "x"\n')
    assert message == "config.toml: [site] base_url: missing; this setting is required"


def test_every_error_is_listed_at_once(tmp_path: Path) -> None:
    """Several problems give one line each, in one error, in the order of the file."""
    text = (
        '[site]\ntitle = "x"\nbase_url = "reelnotes"\n'
        '[content]\npermalink = "/r/{title}/"\n'
        '[feeds]\nformats = ["rss", "atum"]\n'
    )
    assert config_error(tmp_path, text).splitlines() == [
        "config.toml: [site] base_url: 'reelnotes' is not an absolute http(s) URL;"
        " write e.g. https://example.org/",
        "config.toml: [content] permalink: '/r/{title}/' must start with '/' and contain {slug}",
        "config.toml: [feeds] formats: unknown format 'atum'; did you mean 'atom'?",
    ]


def test_type_errors_are_listed_together(tmp_path: Path) -> None:
    """Type errors in several sections are all reported."""
    text = VALID + '[feeds]\nfull_text = "yes"\n[state]\ndatabase = 3\n'
    assert config_error(tmp_path, text).splitlines() == [
        "config.toml: [feeds] full_text: must be true or false, not a string 'yes'",
        "config.toml: [state] database: must be a string, not a number 3",
    ]


def test_bad_timezone_is_named(tmp_path: Path) -> None:
    """An unknown time zone names the key and gives an example."""
    message = config_error(tmp_path, VALID + 'timezone = "Europe/Londn"\n')
    assert message == (
        "config.toml: [site] timezone: 'Europe/Londn' is not a time zone; write e.g. "
        "'Europe/London' or 'UTC'"
    )


def test_permalink_with_unknown_field_is_rejected(tmp_path: Path) -> None:
    """A permalink may only use the fields feedkit fills in."""
    message = config_error(tmp_path, VALID + '[content]\npermalink = "/{slug}/{author}/"\n')
    assert (
        message == "config.toml: [content] permalink: '/{slug}/{author}/' "
        "may only use {year}, {month}, {day}, {slug}"
    )


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    """Broken TOML points at the file and says to fix the line named."""
    message = config_error(tmp_path, VALID + "[feeds\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: is not valid TOML (")
    assert "line 4" in message
    assert message.endswith("; fix the line it names")


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    """No config file: the message says how to create one."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert str(caught.value) == (
        f"{tmp_path / 'nope.toml'}: no such config file; run 'feedkit init DIR' to start a site, "
        "or pass --config PATH"
    )


def test_secret_looking_keys_are_not_accepted(tmp_path: Path) -> None:
    """There is nowhere to put a password in config.toml: an invented key is an error, not
    stored."""
    message = config_error(tmp_path, VALID + 'password = "hunter2"\n')
    assert message.startswith("config.toml: [site] password: unknown key;")
    assert "hunter2" not in message


@pytest.mark.parametrize("subject", ["{count.real}", "{count[0]}", "{title}", "{count"])
def test_subject_template_may_only_use_its_fields(tmp_path: Path, subject: str) -> None:
    """Attribute or index access, unknown names and broken braces are config errors, not crashes
    later."""
    message = config_error(tmp_path, VALID + f'[digest]\nsubject = "{subject}"\n')
    assert message.startswith(f"config.toml: [digest] subject: {subject!r} ")
    assert message.endswith("{count}, {first_title}, {site_title}, {date}, {reviews}")


def test_sender_address_must_be_plain_ascii(tmp_path: Path) -> None:
    """A From address no SMTP server would take is refused when the config is read."""
    message = config_error(tmp_path, VALID + '[digest]\nfrom_address = "rédaction@example.org"\n')
    assert (
        message == "config.toml: [digest] from_address: 'rédaction@example.org' "
        "is not a plain ASCII e-mail address"
    )


def test_bounce_settings_have_documented_defaults(tmp_path: Path) -> None:
    """Without a [bounces] section: one hard bounce, three soft in 30 days, no VERP address."""
    path = tmp_path / "config.toml"
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path)
    bounces = config.bounces
    assert (bounces.hard_bounces, bounces.soft_bounces, bounces.soft_window_days) == (1, 3, 30)
    assert (config.digest.bounce_address, bounces.imap_security) == ("", "tls")
    assert config.kept_bounces_dir == tmp_path.resolve() / ".feedkit" / "bounces-kept"


def test_a_good_bounce_address_is_taken(tmp_path: Path) -> None:
    """A bounce address with {token} in its local part is accepted as written."""
    path = tmp_path / "config.toml"
    path.write_text(VALID + '[digest]\nbounce_address = "bounces+{token}@example.org"\n')
    assert load_config(path).digest.bounce_address == "bounces+{token}@example.org"


BAD_BOUNCE_ADDRESSES = {
    "bounces@example.org": "needs one {token} before the '@'",
    "bounces@{token}.example.org": "needs one {token} before the '@'",
    "b+{token}{token}@example.org": "needs one {token} before the '@'",
    "b+{token}.{id}@example.org": "may hold no placeholder but {token}",
    "b+{token}": "is not a plain ASCII e-mail address",
    "b {token}@example.org": "is not a plain ASCII e-mail address",
    "bounces-for-the-film-notes-site+{token}@example.org": (
        "leaves no room for the token: keep the rest before '@' to 21 characters"
    ),
}


def test_every_bad_bounce_address_is_one_line_naming_the_key(tmp_path: Path) -> None:
    """Each malformed bounce_address is one line naming the key, the value and what to write."""
    for value, problem in BAD_BOUNCE_ADDRESSES.items():
        message = config_error(tmp_path, VALID + f'[digest]\nbounce_address = "{value}"\n')
        assert message == (
            f"config.toml: [digest] bounce_address: {value!r} {problem}; "
            "write e.g. 'bounces+{token}@example.org'"
        )


def test_bad_bounce_settings_are_all_named_at_once(tmp_path: Path) -> None:
    """Every bad [bounces] value is reported together, one line each."""
    text = (
        VALID + "[bounces]\nhard_bounces = 0\nsoft_bounces = 0\nsoft_window_days = -1\n"
        'imap_port = 70000\nimap_security = "ssl"\n'
    )
    assert config_error(tmp_path, text).splitlines() == [
        "config.toml: [bounces] hard_bounces: must be at least 1, not 0",
        "config.toml: [bounces] soft_bounces: must be at least 1, not 0",
        "config.toml: [bounces] soft_window_days: must be at least 1, not -1",
        "config.toml: [bounces] imap_port: 70000 is not a port (1 to 65535)",
        "config.toml: [bounces] imap_security: 'ssl' is not one of tls, starttls, none",
    ]


def test_plain_imap_is_refused_for_another_machine(tmp_path: Path) -> None:
    """imap_security 'none' is for this machine only: the password would cross the network."""
    text = VALID + '[bounces]\nimap_host = "mail.example.org"\nimap_security = "none"\n'
    assert config_error(tmp_path, text) == (
        "config.toml: [bounces] imap_security: 'none' would send the password to "
        "'mail.example.org' unencrypted; use 'tls' or 'starttls' (plain IMAP only on this "
        "machine: 127.0.0.1)"
    )
