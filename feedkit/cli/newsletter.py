"""`feedkit digest …` and `feedkit subscribers …`: the newsletter's commands.

Each command imports the use cases it calls when it runs, and prints their result.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from feedkit.cli.main import OneLineGroup, config_from, config_option, shown
from feedkit.errors import FeedkitError
from feedkit.words import plural

if TYPE_CHECKING:
    from feedkit.config import Config
    from feedkit.newsletter.campaigns import SendPlan
    from feedkit.newsletter.history import Overview
    from feedkit.newsletter.model import DigestStatus
    from feedkit.newsletter.subscriptions import ImportReport


@click.group(cls=OneLineGroup)
def digest() -> None:
    """Preview, test, send and follow the digest."""


@digest.command()
@config_option
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML preview in a browser.")
@click.pass_context
def preview(ctx: click.Context, open_browser: bool) -> None:
    """Write the next digest as HTML and text files, and print where they are."""
    from feedkit.newsletter import campaigns  # noqa: PLC0415 - commands import what they use

    written = campaigns.preview(config_from(ctx))
    if not written.reviews:
        click.echo("No review is published yet: no preview written.")
        return
    count = _reviews(written.reviews)
    if written.nothing_new:
        click.echo(f"Nothing new ({written.nothing_new}): the preview shows the latest {count}.")
    else:
        click.echo(f"Preview of the next digest ({count}):")
    click.echo(f"  HTML: {shown(written.html_path)}")
    click.echo(f"  text: {shown(written.text_path)}")
    if open_browser:
        import webbrowser  # noqa: PLC0415

        webbrowser.open(written.html_path.resolve().as_uri())


@digest.command()
@config_option
@click.option(
    "--test", "test_address", metavar="ADDRESS", help="Send to this address only; record nothing."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, and send nothing.")
@click.pass_context
def send(ctx: click.Context, test_address: str | None, yes: bool, dry_run: bool) -> None:
    """Send what is new to every subscriber (finishing any interrupted digest first)."""
    from feedkit.newsletter import campaigns  # noqa: PLC0415

    config = config_from(ctx)
    if test_address:
        _send_test(config, test_address)
        return
    plan = campaigns.plan_send(config)
    _print_plan(plan)
    if dry_run or (not plan.reviews and not plan.unfinished):
        return
    if not yes:
        click.confirm("Send it now?", abort=True)
    _run_send(config, create=True, new_recipients=plan.recipients if plan.reviews else 0)


def _send_test(config: Config, address: str) -> None:
    from feedkit.mail.transports import open_transport  # noqa: PLC0415
    from feedkit.newsletter import campaigns  # noqa: PLC0415

    sent = campaigns.send_test(config, address, open_transport(config))
    what = f"the next digest ({_reviews(sent.reviews)})"
    if sent.nothing_new:
        what = f"the latest {_reviews(sent.reviews)} ({sent.nothing_new})"
    if sent.saved_to is not None:
        click.echo(f"Wrote a test of {what} for {address} to {shown(sent.saved_to)}.")
    else:
        click.echo(f"Sent a test of {what} to {address} ({sent.message_id}).")
    click.echo("Nothing was recorded.")


@digest.command()
@config_option
@click.pass_context
def resume(ctx: click.Context) -> None:
    """Finish interrupted digests: send only what is still pending."""
    from feedkit.newsletter import history  # noqa: PLC0415

    config = config_from(ctx)
    if not history.pending_count(config):
        click.echo("Nothing to resume: every digest is finished.")
        return
    _run_send(config, create=False, new_recipients=0)


@digest.command(name="status")
@config_option
@click.option("--limit", default=10, show_default=True, help="How many recent digests to show.")
@click.pass_context
def digest_status(ctx: click.Context, limit: int) -> None:
    """The recent digests: sent, pending and failed per digest, with the failures' reasons, and
    the bounces and complaints that came back."""
    from feedkit.newsletter import history  # noqa: PLC0415 - not campaigns: quick

    config = config_from(ctx)
    statuses = history.status(config, limit)
    if not statuses:
        click.echo("No digest has been sent yet.")
    runs: dict[int, list[DigestStatus]] = {}
    for item in statuses:
        runs.setdefault(item.run_id or item.id, []).append(item)
    for run_id, digests in runs.items():
        if len(digests) > 1:
            click.echo(_run_line(run_id, digests))
        for item in digests:
            _print_digest_status(item)
    _print_bounce_overview(history.overview(config))


def _run_line(run_id: int, digests: list[DigestStatus]) -> str:
    """A run with one digest per set of topics: how many, to how many, how many went."""
    recipients = sum(item.recipients for item in digests)
    sent = sum(item.counts.get("sent", 0) for item in digests)
    kinds = plural(len(digests), "digest")
    return f"Run #{run_id}: {kinds} (one per set of topics), {recipients} recipients, {sent} sent"


def _print_digest_status(item: DigestStatus) -> None:
    kinds = ("sent", "pending", "unknown", "failed", "skipped")
    counts = ", ".join(f"{item.counts.get(name, 0)} {name}" for name in kinds)
    what = _reviews(item.reviews) + (f", topics {item.segment}" if item.segment else "")
    click.echo(f'#{item.id} {item.created_at} "{item.subject}" ({what}): {counts}')
    if item.hard_bounces or item.soft_bounces or item.complaints:
        click.echo(f"    came back: {_returned(item)}")
    for address, error in item.errors:
        click.echo(f"    {address}: {error}")


def _returned(item: DigestStatus) -> str:
    """Bounces and complaints, and the complaint rate against the line mailbox providers draw."""
    from feedkit.newsletter.model import COMPLAINT_RATE_LINE  # noqa: PLC0415

    counts = (
        f"{plural(item.hard_bounces, 'hard bounce')}, {plural(item.soft_bounces, 'soft bounce')}, "
        f"{plural(item.complaints, 'complaint')}"
    )
    rate = item.complaint_rate
    if rate is None:
        return counts
    side = "above" if item.above_complaint_line else "within"
    line = _percent(COMPLAINT_RATE_LINE, 1)
    return f"{counts}; complaint rate {_percent(rate, 2)} ({side} the {line} line)"


def _percent(share: float, digits: int) -> str:
    return f"{share * 100:.{digits}f} %"


def _print_bounce_overview(overview: Overview) -> None:
    untraced = sum(overview.untraced.values())
    if untraced:
        click.echo(
            f"{plural(untraced, 'bounce or complaint', 'bounces and complaints')} traced to "
            "subscribers by address alone, not to a digest"
        )
    if overview.kept:
        click.echo(
            f"{plural(overview.kept, 'returned message')} kept aside, not understood or traced to "
            f"nobody, in {shown(overview.kept_dir)}: see 'feedkit bounces kept'"
        )


def _print_plan(plan: SendPlan) -> None:
    if plan.unfinished:
        numbers = ", ".join(f"#{number}" for number in plan.unfinished)
        click.echo(f"Unfinished digests to resume first: {numbers}")
    if plan.reviews:
        recipients = plural(plan.recipients, "subscriber")
        click.echo(f'Subject: "{plan.subject}"; {_reviews(plan.reviews)}; {recipients}.')
    else:
        click.echo(f"Nothing new: {plan.nothing_new}; no new digest to send.")


def _run_send(config: Config, *, create: bool, new_recipients: int) -> None:
    """Send with a progress bar; one summary line per digest at the end."""
    from rich import progress  # noqa: PLC0415 - a progress bar only for sends
    from rich.console import Console  # noqa: PLC0415

    from feedkit.mail.transports import open_transport  # noqa: PLC0415
    from feedkit.newsletter import campaigns, history  # noqa: PLC0415

    total = history.pending_count(config) + new_recipients
    # The bar goes to stderr and only to a terminal: piped output stays the summary lines alone.
    console = Console(stderr=True)
    columns = (
        progress.TextColumn("Sending"),
        progress.BarColumn(),
        progress.MofNCompleteColumn(),
        progress.TimeRemainingColumn(),
    )
    hidden = not console.is_terminal
    with progress.Progress(*columns, console=console, transient=True, disable=hidden) as bar:
        task = bar.add_task("send", total=total)
        run = campaigns.deliver(
            config,
            lambda: open_transport(config),
            on_result=lambda _status: bar.advance(task),
            create=create,
        )
    if not run.reports:
        click.echo("Nothing new since the last digest: nothing sent.")
    for report in run.reports:
        click.echo(f"Sent {report.summary()}")
    if run.failure is not None:
        raise run.failure


def _reviews(count: int) -> str:
    return plural(count, "review")


@click.group(cls=OneLineGroup)
def subscribers() -> None:
    """Add, remove, list, import and export subscribers."""


@subscribers.command(name="add")
@config_option
@click.argument("address")
@click.option("--name", default="", help="The subscriber's name.")
@click.option(
    "--confirmed",
    is_flag=True,
    help="You have the reader's consent: active at once, no confirmation mail.",
)
@click.pass_context
def subscribers_add(ctx: click.Context, address: str, name: str, *, confirmed: bool) -> None:
    """Subscribe ADDRESS: mail it a confirmation link (active once its reader follows it)."""
    from feedkit.mail.transports import open_transport  # noqa: PLC0415
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    config = config_from(ctx)
    added = subscriptions.add_subscriber(
        config, address, name, confirmed=confirmed, transports=lambda: open_transport(config)
    )
    if not added:
        click.echo(f"{address} was already on the list.")
    elif confirmed:
        click.echo(f"Subscribed {address}.")
    else:
        click.echo(f"Mailed a confirmation link to {address}; it is pending until followed.")


@subscribers.command(name="resend")
@config_option
@click.argument("address")
@click.pass_context
def subscribers_resend(ctx: click.Context, address: str) -> None:
    """Mail ADDRESS a new confirmation link (pending, or unsubscribed and asking to return)."""
    from feedkit.mail.transports import open_transport  # noqa: PLC0415
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    config = config_from(ctx)
    if not subscriptions.send_confirmation(config, address, lambda: open_transport(config)):
        raise FeedkitError(
            f"{address} is not waiting for a confirmation (unknown, active or complained)",
            "see 'feedkit subscribers list'",
        )
    click.echo(f"Mailed a new confirmation link to {address}.")


@subscribers.command(name="remove")
@config_option
@click.argument("address")
@click.pass_context
def subscribers_remove(ctx: click.Context, address: str) -> None:
    """Unsubscribe ADDRESS (it is kept as unsubscribed, so no import brings it back)."""
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    removed = subscriptions.remove_subscriber(config_from(ctx), address)
    click.echo(f"Unsubscribed {address}." if removed else f"{address} was not subscribed.")


@subscribers.command(name="list")
@config_option
@click.option(
    "--status",
    type=click.Choice(["pending", "active", "unsubscribed", "bounced", "complained"]),
    help="Only these.",
)
@click.pass_context
def subscribers_list(ctx: click.Context, status: str | None) -> None:
    """List subscribers with their status."""
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    found = subscriptions.list_subscribers(config_from(ctx), status)
    for subscriber in found:
        topics = " ".join(subscriber.topics)
        line = f"{subscriber.address}\t{subscriber.status}\t{subscriber.name}"
        click.echo(f"{line}\t{topics}" if topics else line)
    click.echo(plural(len(found), "subscriber"), err=True)


@subscribers.command(name="import")
@config_option
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--confirmed",
    is_flag=True,
    help="You have every reader's consent: active at once, no confirmation mails.",
)
@click.pass_context
def subscribers_import(ctx: click.Context, csv_file: Path, *, confirmed: bool) -> None:
    """Import a CSV of addresses: any common delimiter, with or without a header; name, status
    and topics columns are used where there are.

    Without --confirmed, each new address is mailed a confirmation link. Unsubscribed addresses
    are never subscribed again.
    """
    from feedkit.mail.transports import open_transport  # noqa: PLC0415
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    config = config_from(ctx)
    rows = subscriptions.read_subscriber_file(csv_file)
    report = subscriptions.import_subscribers(
        config, rows, confirmed=confirmed, transports=lambda: open_transport(config)
    )
    for address in report.invalid:
        click.echo(f"invalid: {address!r}", err=True)
    if report.invalid and not report.found_any:
        raise FeedkitError(
            f"{csv_file}: no valid e-mail address in it ({len(report.invalid)} invalid)",
            "check that it is the subscriber list, one address per row",
        )
    click.echo(f"Imported: {report.summary()}")
    _print_import_details(report)


def _print_import_details(report: ImportReport) -> None:
    if report.pending:
        mailed = plural(report.confirmations, "confirmation link")
        click.echo(f"{report.pending} pending until confirmed ({mailed} mailed).")
    if report.suppressed:
        click.echo(f"{report.suppressed} added as unsubscribed, bounced or complained: kept out.")
    if report.unknown_topics:
        names = ", ".join(sorted(report.unknown_topics))
        click.echo(f"Topics the site does not have, ignored: {names}", err=True)


@subscribers.command(name="export")
@config_option
@click.argument("csv_file", type=click.File("w", encoding="utf-8"), default="-")
@click.pass_context
def subscribers_export(ctx: click.Context, csv_file: TextIO) -> None:
    """Write every subscriber, with status and dates, as CSV (to standard output by default)."""
    from feedkit.newsletter import subscriptions  # noqa: PLC0415

    count = subscriptions.export_subscribers(config_from(ctx), csv_file)
    click.echo(f"Exported {plural(count, 'subscriber')}.", err=True)


@subscribers.command(name="unsuppress")
@config_option
@click.argument("address")
@click.pass_context
def subscribers_unsuppress(ctx: click.Context, address: str) -> None:
    """Lift the suppression of a bounced or complained ADDRESS: it is mailed again."""
    from feedkit.newsletter import bounces  # noqa: PLC0415

    lifted = bounces.unsuppress(config_from(ctx), address)
    on_record = ", ".join(
        plural(count, kind.replace("_", " ")) for kind, count in lifted.events.items()
    )
    click.echo(
        f"{lifted.address} was {lifted.was} since {lifted.since}"
        + (f" ({on_record} on record)" if on_record else "")
        + f"; it is {lifted.now} again, and its earlier bounces and complaints no longer count."
    )
