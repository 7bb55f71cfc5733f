"""The benchmark corpus generator: every front-matter style is reproducible and read by feedkit."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
STYLES = ("feedkit", "hugo", "jekyll", "blocklists", "toml", "wordpress")
REVIEWS = 30
SEED = 67  # 30 reviews of this seed hold 3 drafts and 1 future-dated review, in every style


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/generate.py, imported as its script is run: with benchmarks/ on the path."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("generate")


def _files(site: Path) -> dict[str, bytes]:
    found = (path for path in site.rglob("*") if path.is_file())
    return {str(path.relative_to(site)): path.read_bytes() for path in found}


def test_the_styles_listed_here_are_the_generators(generator: ModuleType) -> None:
    """The tests below cover every style the generator offers, and `feedkit` is its default."""
    assert tuple(generator.STYLES) == STYLES
    assert generator.DEFAULT_STYLE == "feedkit"


@pytest.mark.parametrize("style", STYLES)
def test_same_seed_same_bytes(generator: ModuleType, style: str, tmp_path: Path) -> None:
    """Two corpora of one style, seed and day are byte-identical, manifest and config included."""
    today = datetime.now(UTC).date()
    generator.generate(REVIEWS, tmp_path / "one", SEED, today, style)
    generator.generate(REVIEWS, tmp_path / "two", SEED, today, style)
    first, second = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert len(first) == REVIEWS + 2
    assert first == second


@pytest.mark.parametrize("style", STYLES)
def test_check_counts_each_style(generator: ModuleType, style: str, tmp_path: Path) -> None:
    """`feedkit check` accepts the corpus, counting its published, drafts and scheduled reviews."""
    manifest = generator.generate(REVIEWS, tmp_path, SEED, None, style)
    assert manifest["drafts"] > 0
    assert manifest["scheduled"] > 0
    config = str(tmp_path / "config.toml")
    command = [sys.executable, "-m", "feedkit.cli", "--config", config, "check"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    counts = (
        f"{manifest['published']} published, {manifest['drafts']} drafts, "
        f"{manifest['scheduled']} scheduled, no problems"
    )
    assert counts in done.stdout
