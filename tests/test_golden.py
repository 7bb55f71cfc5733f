"""A small fixed corpus must build to exactly the files in tests/golden/expected/.

To accept a deliberate change in the output, run: FEEDKIT_UPDATE_GOLDEN=1 make test
"""

from __future__ import annotations

import difflib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from feedkit import pipeline
from feedkit.config import load_config

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_golden_corpus_builds_expected_files(tmp_path: Path) -> None:
    """Every output file matches its golden copy byte for byte, and no file is missing or extra."""
    site = tmp_path / "site"
    shutil.copytree(GOLDEN / "site", site)
    config = load_config(site / "config.toml")
    report = pipeline.build(config, now=NOW)
    assert report.problems == ()
    built = files_under(config.output_dir)
    expected_dir = GOLDEN / "expected"
    if os.environ.get("FEEDKIT_UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(config.output_dir, expected_dir)
    expected = files_under(expected_dir)
    assert sorted(built) == sorted(expected)
    for name, data in expected.items():
        lines = data.decode().splitlines(), built[name].decode().splitlines()
        diff = difflib.unified_diff(*lines, f"expected/{name}", f"built/{name}", lineterm="")
        assert built[name] == data, "\n".join(diff)
