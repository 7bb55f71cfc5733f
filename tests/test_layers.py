"""The package's layers hold: shells (cli, web, service) call use cases; only use cases reach the
state database; pure steps do no I/O of their own; nothing imports a layer above its own.

Imports are read with `ast`, so this checks the code as written, imports inside functions too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "feedkit"
SHELLS, USE_CASES, STORE, STEPS, BASE = 4, 3, 2, 1, 0
# Longest prefix wins. Layer 0 is what everything may use: errors, settings, the model, helpers.
LAYERS = {
    "feedkit.cli": SHELLS,
    "feedkit.web": SHELLS,
    "feedkit.service": SHELLS,
    "feedkit.pipeline": USE_CASES,
    "feedkit.publishing": USE_CASES,
    "feedkit.newsletter.campaigns": USE_CASES,
    "feedkit.newsletter.subscriptions": USE_CASES,
    "feedkit.newsletter.readers": USE_CASES,
    "feedkit.newsletter.history": USE_CASES,
    "feedkit.hooks": USE_CASES,
    "feedkit.newsletter.archive": USE_CASES,
    "feedkit.operations": USE_CASES,
    "feedkit.editors": USE_CASES,
    "feedkit.scaffold": USE_CASES,
    "feedkit.alerts": USE_CASES,
    "feedkit.newsletter.bounces": USE_CASES,
    "feedkit.doctor": USE_CASES,
    "feedkit.store": STORE,
    "feedkit.content": STEPS,
    "feedkit.feeds": STEPS,
    "feedkit.newsletter": STEPS,
    "feedkit.mail": STEPS,
    "feedkit.bounceparse": STEPS,
    "feedkit.notify": STEPS,
    "feedkit": BASE,
}
# Who may talk to what outside the process.
ONLY_IN = {
    "sqlite3": ("feedkit.store",),
    "smtplib": ("feedkit.mail.transports",),
    "ssl": ("feedkit.mail.transports", "feedkit.mail.mailboxes"),
    "imaplib": ("feedkit.mail.mailboxes",),
    "uvicorn": ("feedkit.cli.web",),
    "starlette": ("feedkit.web",),
    "prometheus_client": ("feedkit.web.monitoring",),
}
# Calls that change files: only output (atomic writes) and the store do them.
PATH_WRITES = {"write_text", "write_bytes", "unlink", "rmdir", "mkdir", "rename", "chmod", "touch"}
OS_WRITES = {"replace", "remove", "unlink", "rename", "makedirs", "rmdir", "mkdir", "chmod"}
WRITERS = ("feedkit.output", "feedkit.store")


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(part for part in parts if part != "__init__")
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def layer(module: str) -> int:
    prefixes = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    return LAYERS[max(prefixes, key=len)]


def imported(tree: ast.Module) -> Iterator[str]:
    """Every module an import names, `from feedkit import x` as feedkit.x."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            if node.module == "feedkit":
                yield from (f"feedkit.{alias.name}" for alias in node.names)


def in_package(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


MODULES = dict(modules())


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_a_layer_above_its_own(module: str) -> None:
    """A pure step never reaches up to the store or a use case, a use case never to a shell."""
    upward = [
        name
        for name in imported(MODULES[module])
        if name.startswith("feedkit") and name != "feedkit" and layer(name) > layer(module)
    ]
    assert upward == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) == SHELLS))
def test_shells_do_not_touch_the_store(module: str) -> None:
    """The CLI, the web side and the service call use cases; only those open the state database."""
    assert [
        name for name in imported(MODULES[module]) if in_package(name, ("feedkit.store",))
    ] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_their_owners_talk_to_the_outside(module: str) -> None:
    """SQLite only in the store, SMTP only in the mail transports, HTTP only in the web side."""
    for name in imported(MODULES[module]):
        root = name.split(".")[0]
        if root in ONLY_IN:
            assert in_package(module, ONLY_IN[root]), f"{module} imports {name}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not in_package(m, WRITERS)))
def test_only_output_and_the_store_change_files(module: str) -> None:
    """Every file feedkit writes goes through atomic writes in feedkit.output, or the database."""
    assert sorted(set(writing_calls(MODULES[module]))) == []


def writing_calls(tree: ast.Module) -> Iterator[str]:
    """Calls such as path.unlink(), os.replace() or shutil.rmtree() (str.replace is no write)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
        name = node.func.attr
        if owner == "os" and name in OS_WRITES:
            yield f"os.{name}"
        elif owner == "shutil" and name != "which":
            yield f"shutil.{name}"
        elif owner not in ("os", "shutil", "str") and name in PATH_WRITES:
            yield name


def test_the_layer_table_knows_every_module() -> None:
    """A new sub-package is placed in a layer on purpose, not by falling back to the base."""
    packages = {name.rsplit(".", 1)[0] for name in MODULES if name.count(".") >= 2}
    assert packages <= set(LAYERS), sorted(packages - set(LAYERS))


def test_the_check_catches_an_upward_import() -> None:
    """The walk itself works: a store module that imported a use case would be caught."""
    tree = ast.parse("from feedkit.pipeline import build\nimport feedkit.model\n")
    upward = [name for name in imported(tree) if layer(name) > layer("feedkit.store.db")]
    assert upward == ["feedkit.pipeline"]
    assert list(
        writing_calls(ast.parse("import os\nos.replace(a, b)\n'x'.replace('a', 'b')"))
    ) == ["os.replace"]


HTTP_CLIENTS = ("urllib.request", "http.client")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_http_client_makes_http_requests(module: str) -> None:
    """Outgoing HTTP (WebSub pings, hooks, alerts) stays in one module."""
    clients = [name for name in imported(MODULES[module]) if in_package(name, HTTP_CLIENTS)]
    assert clients == [] or module == "feedkit.httpclient"
