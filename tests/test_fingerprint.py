"""Cached parses, rendered bodies and feed fingerprints follow feedkit's code: a change to any
module
of the package, wherever it lives, changes the fingerprint they are keyed by."""

from __future__ import annotations

import shutil
from pathlib import Path

from feedkit.fingerprint import PACKAGE, code_fingerprint, fingerprint_of


def test_every_module_of_the_package_counts(tmp_path: Path) -> None:
    """Changing any one module (a comment is enough) gives another fingerprint; nothing is left out
    by a list that could go stale."""
    copy = tmp_path / "feedkit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    original = fingerprint_of(copy)
    assert original == code_fingerprint()
    modules = sorted(copy.rglob("*.py"))
    assert len(modules) >= 20
    for module in modules:
        text = module.read_bytes()
        module.write_bytes(text + b"\n# changed\n")
        assert fingerprint_of(copy) != original, module.relative_to(copy)
        module.write_bytes(text)
    assert fingerprint_of(copy) == original


def test_a_module_that_moves_changes_the_fingerprint(tmp_path: Path) -> None:
    """The same code under another name is another fingerprint (imports would differ)."""
    copy = tmp_path / "feedkit"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    original = fingerprint_of(copy)
    module = sorted(copy.rglob("*.py"))[-1]
    module.rename(module.with_name("renamed_" + module.name))
    assert fingerprint_of(copy) != original
