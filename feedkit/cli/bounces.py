"""`feedkit bounces …`: read returned mail, and list what was kept aside.

Each command imports the use cases it calls when it runs, and prints their result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from feedkit.cli.main import OneLineGroup, config_from, config_option, shown
from feedkit.errors import FeedkitError
from feedkit.words import plural

if TYPE_CHECKING:
    from feedkit.config import Config
    from feedkit.mail.mailboxes import Mailbox
    from feedkit.newsletter.bounces import IngestReport

# sysexits.h's EX_TEMPFAIL: Postfix's pipe and procmail keep the message and try again later.
TRY_AGAIN_LATER = 75


@click.group(cls=OneLineGroup)
def bounces() -> None:
    """Read bounces and complaints; list those kept."""


@bounces.command()
@config_option
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read every message in this maildir (it is not changed).",
)
@click.option(
    "--mbox",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read every message in this mbox file (it is not changed).",
)
@click.option(
    "--imap", is_flag=True, help="Read the IMAP folder [bounces] names; move or flag each read."
)
@click.pass_context
def ingest(ctx: click.Context, maildir: Path | None, mbox: Path | None, imap: bool) -> None:
    """Read bounces and complaints: one message on standard input (for a Postfix pipe or
    procmail), or every message in --maildir, --mbox or the --imap folder.

    Hard bounces, soft bounces and complaints suppress addresses by the [bounces] rules;
    auto-replies and delay notices are ignored; a message not understood is kept aside (see
    'feedkit bounces kept'). A message read before is not counted again.

    Exit codes: 0 when every message was read and recorded; on standard input, 75 (EX_TEMPFAIL)
    for any failure, so the mail system keeps the message and tries again; otherwise 1, 2 or 5,
    as for every feedkit command.
    """
    chosen = [
        name
        for name, given in (("--maildir", maildir), ("--mbox", mbox), ("--imap", imap))
        if given
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together; pick one")
    if chosen:
        config = config_from(ctx)
        _print_report(_ingest(config, _mailbox(config, maildir, mbox)))
        return
    _ingest_standard_input(ctx)


def _ingest_standard_input(ctx: click.Context) -> None:
    """One message from an MTA: any failure asks it to keep the message and try again."""
    from feedkit.mail.mailboxes import OneMessage  # noqa: PLC0415 - commands import what they use

    if sys.stdin.isatty():
        raise click.UsageError(
            "reads one message on standard input; pipe one in, or pass --maildir, --mbox or --imap"
        )
    try:
        config = config_from(ctx)
        report = _ingest(config, OneMessage(sys.stdin.buffer.read()))
    except FeedkitError as error:
        _try_again_later(ctx, str(error))
    # A bug must not lose a bounce either: the mail system keeps the message until it is fixed.
    except Exception as exc:  # noqa: BLE001 - reported, and the message kept by the sender
        _try_again_later(ctx, f"{type(exc).__name__}: {exc} (a bug in feedkit; please report it)")
    _print_report(report)


def _try_again_later(ctx: click.Context, problem: str) -> NoReturn:
    click.echo(f"error: {problem}", err=True)
    ctx.exit(TRY_AGAIN_LATER)


def _mailbox(config: Config, maildir: Path | None, mbox: Path | None) -> Mailbox:
    from feedkit.mail import mailboxes  # noqa: PLC0415

    if maildir is not None:
        return mailboxes.MaildirBox(maildir)
    if mbox is not None:
        return mailboxes.MboxBox(mbox)
    return mailboxes.open_imap(config.bounces)


def _ingest(config: Config, mailbox: Mailbox) -> IngestReport:
    from feedkit.newsletter import bounces as use_cases  # noqa: PLC0415

    return use_cases.ingest(config, mailbox)


def _print_report(report: IngestReport) -> None:
    click.echo(report.summary())
    for suppression in report.suppressed:
        click.echo(f"  {suppression.address}: now {suppression.status} (was {suppression.before})")
    for name, why in report.kept:
        click.echo(f"  kept aside: {shown(report.kept_dir / name)}: {why}")


@bounces.command()
@config_option
@click.pass_context
def kept(ctx: click.Context) -> None:
    """List the messages kept aside, not understood or traced to nobody, with why."""
    from feedkit.newsletter import history  # noqa: PLC0415

    found = list(history.kept_messages(config_from(ctx)))
    for message, path in found:
        click.echo(f"{message.received_at}\t{shown(path)}\t{message.reason}")
    click.echo(f"{plural(len(found), 'message')} kept aside", err=True)
