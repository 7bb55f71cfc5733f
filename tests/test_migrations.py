"""Migrations as code, on real SQLite files: applied in order and recorded by name, each in one
transaction, able to rebuild a table to change its CHECK, and the status columns' checks in step
with the enums the code uses."""

from __future__ import annotations

import enum
import sqlite3
from pathlib import Path

import pytest

from feedkit.errors import StateError
from feedkit.newsletter.model import BounceKind, DeliveryStatus, FoundBy, SubscriberStatus
from feedkit.store import db as store_db
from feedkit.store.db import Store
from feedkit.store.migrations import MIGRATIONS, Migration, rebuild_table

ORDERED_NAMES = [name for name, _ in MIGRATIONS]


def applied(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT name, applied_at FROM migrations ORDER BY rowid").fetchall()


def test_migrations_are_applied_in_order_and_recorded_by_name(tmp_path: Path) -> None:
    """A new database gets every migration, in the order of the code; reopening applies none
    again."""
    path = tmp_path / "state.db"
    Store(path).db.close()
    first = applied(path)
    assert [name for name, _ in first] == ORDERED_NAMES
    assert sorted(ORDERED_NAMES) == ORDERED_NAMES  # the numbers say the order
    Store(path).db.close()
    assert applied(path) == first


def test_a_migration_that_fails_leaves_nothing_half_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration that breaks half-way is rolled back whole and not recorded; the next open
    with a working one finishes the job."""
    path = tmp_path / "state.db"
    Store(path).db.close()

    def breaks_half_way(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    def works(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (id INTEGER)")

    def with_next(step: Migration) -> tuple[tuple[str, Migration], ...]:
        return (*MIGRATIONS, ("9999_next", step))

    monkeypatch.setattr(store_db, "MIGRATIONS", with_next(breaks_half_way))
    with pytest.raises(StateError, match="no such table: no_such_table"):
        Store(path)
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    assert [name for name, _ in applied(path)] == ORDERED_NAMES
    monkeypatch.setattr(store_db, "MIGRATIONS", with_next(works))
    Store(path).db.close()
    assert [name for name, _ in applied(path)] == [*ORDERED_NAMES, "9999_next"]


def test_rebuilding_a_table_changes_its_check_and_keeps_every_row(tmp_path: Path) -> None:
    """SQLite cannot alter a CHECK: a rebuild gives the table its new shape with the rows
    intact."""
    with sqlite3.connect(tmp_path / "any.db") as db:
        db.execute("CREATE TABLE films (title TEXT, state TEXT CHECK (state IN ('a', 'b')))")
        db.executemany("INSERT INTO films VALUES (?, ?)", [("Alphaville", "a"), ("Brazil", "b")])
        wider = "CREATE TABLE {table} (title TEXT, state TEXT CHECK (state IN ('a', 'b', 'c')))"
        rebuild_table(db, "films", wider, "SELECT title, state FROM films")
        db.execute("INSERT INTO films VALUES ('Chinatown', 'c')")
        rows = db.execute("SELECT title, state FROM films ORDER BY title").fetchall()
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO films VALUES ('Dr. Strangelove', 'd')")
    assert rows == [("Alphaville", "a"), ("Brazil", "b"), ("Chinatown", "c")]


@pytest.mark.parametrize(
    ("table", "column", "statuses"),
    [
        ("subscribers", "status", SubscriberStatus),
        ("deliveries", "status", DeliveryStatus),
        ("bounce_events", "kind", BounceKind),
        ("bounce_events", "found_by", FoundBy),
    ],
)
def test_each_status_column_takes_exactly_its_enums_values(
    tmp_path: Path, table: str, column: str, statuses: type[enum.StrEnum]
) -> None:
    """The CHECK on a status column and the enum the code uses agree: every value goes in, and
    nothing else does."""
    path = tmp_path / "state.db"
    Store(path).db.close()
    with sqlite3.connect(path) as db:
        (create,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        db.execute(f"CREATE TEMP TABLE probe ({column} TEXT {check_of(create, column)})")
        for status in statuses:
            db.execute("INSERT INTO probe VALUES (?)", (status.value,))
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO probe VALUES ('subscribed')")


def check_of(create: str, column: str) -> str:
    """The CHECK clause that follows `column` in a CREATE TABLE statement."""
    start = create.index("CHECK", create.index(f" {column} "))
    depth = 0
    for end, char in enumerate(create[start:], start):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ")" and depth == 0:
            return create[start : end + 1]
    raise AssertionError(f"no CHECK on {column}")
