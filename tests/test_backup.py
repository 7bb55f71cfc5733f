"""`feedkit backup` and `feedkit restore` on real SQLite files: a lost database comes back whole,
a newer one is not overwritten without --force, and every refusal is one line."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedkit.config import Config, load_config
from feedkit.store.db import Store
from feedkit.store.migrations import MIGRATIONS
from tests.conftest import invoke, write_site
from tests.test_newsletter import REVIEWS
from tests.test_operations import subscribe

OLD_RELEASE = Path(__file__).parent / "fixtures" / "release-0.1.0" / ".feedkit" / "state.db"
ADDRESSES = ["ann@example.org", "bob@example.org"]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    (tmp_path / "site").mkdir()
    site = load_config(write_site(tmp_path / "site", REVIEWS))
    subscribe(site, ADDRESSES)
    return site


def subscribers(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [str(row[0]) for row in db.execute("SELECT address FROM subscribers ORDER BY 1")]


def forget(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


def test_a_lost_database_comes_back_from_its_backup(config: Config, tmp_path: Path) -> None:
    """The backup is one checked file only its owner may read; restored where the database was
    lost, every subscriber is back."""
    target = tmp_path / "backups" / "state.db"
    target.parent.mkdir()
    made = invoke(config.root, "backup", str(target))
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"Backed up .feedkit/state.db to {target} (")
    assert made.stdout.endswith(" KB, integrity checked).\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert subscribers(target) == ADDRESSES
    forget(config.database_path)
    restored = invoke(config.root, "restore", str(target))
    assert restored.exit_code == 0, restored.output
    assert restored.stdout == f"Restored .feedkit/state.db from {target}.\n"
    assert subscribers(config.database_path) == ADDRESSES


def test_restore_refuses_a_newer_database_unless_forced_and_keeps_a_copy(config: Config) -> None:
    """An old release's database restored over a current one is refused (exit 5) naming the
    migrations it lacks; with --force it goes in, is brought up to date, and the replaced
    database is kept."""
    backup = config.root / "old.db"
    shutil.copy(OLD_RELEASE, backup)
    refused = invoke(config.root, "restore", str(backup))
    assert refused.exit_code == 5
    assert refused.stderr.startswith(
        f"error: {config.database_path}: is newer than {backup} (it has 0005_admin_sessions, "
    )
    assert refused.stderr.endswith(
        "; the backup has not); pass --force to replace it all the same (a copy of it is kept)\n"
    )
    assert subscribers(config.database_path) == ADDRESSES
    forced = invoke(config.root, "restore", "--force", str(backup))
    assert forced.exit_code == 0, forced.output
    kept = forced.stdout.splitlines()[1].removeprefix("The database it replaced is kept as ")
    assert subscribers(config.root / kept.rstrip(".")) == ADDRESSES
    assert subscribers(config.database_path) == subscribers(OLD_RELEASE)
    with Store(config.database_path) as store:
        assert store.applied_migrations() == {name for name, _ in MIGRATIONS}


def test_a_backup_from_a_newer_feedkit_is_refused_even_when_forced(
    config: Config, tmp_path: Path
) -> None:
    """A backup with a migration this feedkit does not know could not be opened: refused."""
    backup = tmp_path / "future.db"
    assert invoke(config.root, "backup", str(backup)).exit_code == 0
    with sqlite3.connect(backup) as db:
        db.execute("INSERT INTO migrations VALUES ('9999_future', '2099-01-01')")
    result = invoke(config.root, "restore", "--force", str(backup))
    assert (result.exit_code, result.stderr) == (
        5,
        f"error: {backup}: was made by a newer feedkit (it has 9999_future); "
        "upgrade feedkit before restoring it\n",
    )


@pytest.mark.parametrize("content", [b"", b"not a database at all, just some text" * 200])
def test_a_file_that_is_no_backup_is_refused_in_one_line(
    config: Config, tmp_path: Path, content: bytes
) -> None:
    """An empty file or one of text is named, with what to give instead; nothing is replaced."""
    backup = tmp_path / "notes.db"
    backup.write_bytes(content)
    result = invoke(config.root, "restore", str(backup))
    assert result.exit_code == 5
    assert result.stderr.startswith(f"error: {backup}: not a feedkit state database (")
    assert result.stderr.endswith("; give the path of a file made by 'feedkit backup'\n")
    assert len(result.stderr.splitlines()) == 1
    assert subscribers(config.database_path) == ADDRESSES


def test_a_damaged_database_is_not_overwritten_by_a_restore(
    config: Config, tmp_path: Path
) -> None:
    """A state database that is no longer SQLite cannot be copied aside, so the restore stops
    and says to move it aside first; moved, the restore goes through."""
    backup = tmp_path / "good.db"
    assert invoke(config.root, "backup", str(backup)).exit_code == 0
    forget(config.database_path)
    config.database_path.write_bytes(b"overwritten by something else " * 300)
    refused = invoke(config.root, "restore", str(backup))
    assert refused.exit_code == 5
    assert refused.stderr.startswith(f"error: {config.database_path}: cannot be backed up (")
    assert refused.stderr.endswith("; move it aside and restore the latest good backup\n")
    assert config.database_path.read_bytes().startswith(b"overwritten by something else")
    config.database_path.rename(tmp_path / "damaged.db")
    assert invoke(config.root, "restore", str(backup)).exit_code == 0
    assert subscribers(config.database_path) == ADDRESSES


def test_backup_into_a_missing_folder_is_one_line_and_exit_4(
    config: Config, tmp_path: Path
) -> None:
    """The folder is named with what to do; no partial file is left."""
    target = tmp_path / "nowhere" / "state.db"
    result = invoke(config.root, "backup", str(target))
    assert (result.exit_code, result.stderr) == (
        4,
        f"error: {target}: the backup cannot be written (No such file or directory); "
        "check that its folder exists and is writable\n",
    )


def test_restore_is_refused_while_a_digest_is_being_sent(config: Config, tmp_path: Path) -> None:
    """A live send lock (another machine's, heartbeat fresh) stops a restore: exit 6."""
    backup = tmp_path / "state.db"
    assert invoke(config.root, "backup", str(backup)).exit_code == 0
    now = datetime.now(UTC).isoformat(timespec="seconds")
    host = socket.gethostname() + "-other"
    with Store(config.database_path) as store, store.transaction() as db:
        db.execute("INSERT INTO locks VALUES ('digest', ?, 4242, ?, ?, 't')", (host, now, now))
    result = invoke(config.root, "restore", str(backup))
    assert result.exit_code == 6
    assert result.stderr == (
        f"error: a digest is being sent (process 4242 on {host} since {now}); "
        "wait for it, then restore\n"
    )
