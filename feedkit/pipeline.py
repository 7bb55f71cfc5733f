"""The feeds' use cases, shared by the CLI, the scheduler and the web app: `build` turns the
content folder into feed files, `check` validates without writing, `feed_index` says what the
last build wrote. A build whose inputs have not changed since the last one is answered from its
remembered report, without loading the machinery that reads and writes (feedkit.publishing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from feedkit.config import Config
from feedkit.content.files import ContentScan, scan_content
from feedkit.errors import ContentError
from feedkit.feeds.formats import STYLESHEET_NAME
from feedkit.fingerprint import cache_fingerprint, code_fingerprint
from feedkit.model import FileStamp, LoadResult, Problem, ReviewStatus, printable
from feedkit.output import remove_stale_temporaries
from feedkit.store import build as build_state
from feedkit.store.db import Store, open_store
from feedkit.words import plural

MEMO_KEY = "build_memo"


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did, for the one-line summary and for tests."""

    published: int
    drafts: int
    scheduled: int
    problems: tuple[Problem, ...]
    written: tuple[Path, ...] = ()
    unchanged: int = 0
    removed: tuple[Path, ...] = ()  # feeds an earlier build wrote that no plan wants any more
    notes: tuple[str, ...] = ()  # what an editor should know that is no file's problem

    @property
    def file_count(self) -> int:
        """How many files this build covers, written or not: the feeds and their stylesheet."""
        return self.unchanged + len(self.written)

    @property
    def skipped(self) -> int:
        return sum(1 for problem in self.problems if problem.skipped)

    def summary(self, output_dir: str) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (
            f"{plural(self.published, 'review')} published, {plural(self.drafts, 'draft')}, "
            f"{self.scheduled} scheduled, {plural(self.skipped, 'file')} skipped with problems; "
            f"{plural(len(self.written), 'file')} written, {self.unchanged} unchanged{removed} "
            f"in {output_dir}"
        )


def build(config: Config, now: datetime | None = None, strict: bool = False) -> BuildReport:
    """Load the site, write every feed whose content changed, and report what happened."""
    from feedkit.workers import started_early  # noqa: PLC0415 - not for commands that only read

    now = now or datetime.now(UTC)
    remove_stale_temporaries(config.output_dir)  # left by a build killed while writing
    with started_early(), open_store(config) as store:  # workers first, while this is small
        scan = scan_content(config)
        notes = scan_notes(config, scan)
        inputs = _inputs_digest(config, scan.stamps)
        remembered = _remembered_report(config, store, inputs, now)
        if remembered is not None:
            _refuse_if_strict(strict, remembered.problems)
            return replace(remembered, notes=notes)
        # Imported here: a build that changes nothing never needs it.
        from feedkit import publishing  # noqa: PLC0415

        result = publishing.load(config, store, now, scan.stamps)
        _refuse_if_strict(strict, result.problems)
        feeds = publishing.publish_feeds(config, store, result.site, now)
        publishing.record_visibility(store, result.site)
        report = _report(result, feeds.written, feeds.unchanged, feeds.removed, notes)
        _remember(store, inputs, report, result)
    # After the store is closed: a slow hub holds up no other process.
    hub_notes = publishing.announce(config, feeds.changed_subscriptions)
    return replace(report, notes=report.notes + hub_notes) if hub_notes else report


def feed_index(config: Config) -> list[tuple[str, str]]:
    """(folder, title) of every feed the last build planned, without reading any content; [] when
    no build has run here."""
    if not config.database_path.is_file():  # a page request makes no database
        return []
    with open_store(config, readonly=True) as store:
        return build_state.feed_index(store)


def check(config: Config, now: datetime | None = None) -> BuildReport:
    """Read the config and every review without writing anything."""
    scan = scan_content(config)
    with open_store(config) as store:
        from feedkit import publishing  # noqa: PLC0415

        moment = now or datetime.now(UTC)
        result = publishing.load(config, store, moment, scan.stamps, save_cache=False)
    return _report(result, (), 0, (), scan_notes(config, scan))


def scan_notes(config: Config, scan: ContentScan) -> tuple[str, ...]:
    """An empty content folder, and Markdown files passed over for their names, said in words."""
    folder = config.content.dir.rstrip("/") + "/"
    notes = []
    if not scan.stamps:
        notes.append(f"no reviews found under {folder}; add one with 'feedkit new \"A title\"'")
    if scan.ignored:
        example = printable(folder + scan.ignored[0])
        notes.append(
            f"{plural(len(scan.ignored), 'Markdown file')} not read (e.g. {example}): names "
            "starting with '_' are skipped, as Hugo's _index.md and Jekyll's _drafts are; "
            "only _posts is read"
        )
    return tuple(notes)


def _refuse_if_strict(strict: bool, problems: Sequence[Problem]) -> None:
    if strict and problems:
        raise ContentError(_strict_message(problems), "fix them, or build without --strict")


# A build whose inputs (every file's path, size and mtime, the config and feedkit's code) are the
# ones of the last build, before any scheduled review falls due, would write nothing: its report
# is remembered instead of being worked out again from every review.


def _inputs_digest(config: Config, stamps: Sequence[FileStamp]) -> str:
    digest = hashlib.sha256(code_fingerprint())
    digest.update(cache_fingerprint(config).encode())
    digest.update(repr((config.site, config.feeds)).encode())
    for stamp in stamps:
        digest.update(
            f"{stamp.source}\0{stamp.size}\0{stamp.mtime_ns}\0{stamp.error}\n".encode(
                "utf-8", "surrogateescape"
            )
        )
    return digest.hexdigest()


def _remembered_report(
    config: Config, store: Store, inputs: str, now: datetime
) -> BuildReport | None:
    memo = json.loads(store.get_meta(MEMO_KEY) or "{}")
    if memo.get("inputs") != inputs or (
        memo["next_change"] and now >= datetime.fromisoformat(memo["next_change"])
    ):
        return None
    if not _outputs_intact(config, store):
        return None
    problems = tuple(
        Problem(Path(path), message, line, skipped)
        for path, message, line, skipped in memo["problems"]
    )
    published, drafts, scheduled, feeds = memo["counts"]
    return BuildReport(published, drafts, scheduled, problems, (), feeds)


def _outputs_intact(config: Config, store: Store) -> bool:
    """Every file the last build recorded is still there, at the size it was written."""
    expected = {path: size for path, (_, size) in build_state.output_fingerprints(store).items()}
    if config.feeds.stylesheet:
        expected[STYLESHEET_NAME] = -1
    for relative, size in expected.items():
        try:
            actual = (config.output_dir / relative).stat().st_size
        except OSError:
            return False
        if size >= 0 and actual != size:
            return False
    return True


def _remember(store: Store, inputs: str, report: BuildReport, result: LoadResult) -> None:
    site = result.site
    upcoming = [
        review.published
        for review in site.reviews
        if review.status(site.now) is ReviewStatus.SCHEDULED
    ]
    memo = {
        "inputs": inputs,
        "next_change": min(upcoming).isoformat() if upcoming else None,
        "counts": [report.published, report.drafts, report.scheduled, report.file_count],
        "problems": [[str(p.path), p.message, p.line, p.skipped] for p in report.problems],
    }
    store.set_meta(MEMO_KEY, json.dumps(memo, ensure_ascii=False))


def _report(
    result: LoadResult,
    written: Sequence[Path],
    unchanged: int,
    removed: Sequence[Path],
    notes: tuple[str, ...],
) -> BuildReport:
    site = result.site
    return BuildReport(
        published=site.count(ReviewStatus.PUBLISHED),
        drafts=site.count(ReviewStatus.DRAFT),
        scheduled=site.count(ReviewStatus.SCHEDULED),
        problems=result.problems,
        written=tuple(written),
        unchanged=unchanged,
        removed=tuple(removed),
        notes=notes,
    )


def _strict_message(problems: Sequence[Problem]) -> str:
    lines = [str(problem) for problem in problems]
    return f"{plural(len(problems), 'problem')} in the content, nothing written:\n" + "\n".join(
        lines
    )
