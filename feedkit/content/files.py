"""Finding review files under the content folder and reading their bytes and text.

The walk is guarded: hidden and `_` names are passed over (and counted), links out of the folder
are refused, a file is never read past its size limit, and every name in a message is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from feedkit.config import Config
from feedkit.content.frontmatter import FrontMatterError, split_front_matter
from feedkit.errors import ContentError
from feedkit.model import FileStamp, Review, printable

REVIEW_SUFFIXES = (".md", ".markdown")


class RejectedFileError(Exception):
    """A file that cannot become a review; carries the problem to report."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class ContentScan:
    """The review files found, and the Markdown files passed over because of their names."""

    stamps: list[FileStamp]
    ignored: tuple[str, ...] = ()  # paths below the content folder, in `_`-named files or folders


def scan_content(config: Config) -> ContentScan:
    """Every review file's path, size and mtime; raise ContentError if the folder is missing."""
    require_content_folder(config)
    ignored: list[str] = []
    stamps = list(find_review_files(config.content_dir, ignored))
    return ContentScan(stamps, tuple(ignored))


def require_content_folder(config: Config) -> None:
    if not config.content_dir.is_dir():
        raise ContentError(
            f"{printable(str(config.content_dir))}: content folder not found",
            "create it or set [content] dir in config.toml",
        )


def is_utf8_name(source: str) -> bool:
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_review_files(content_dir: Path, ignored: list[str] | None = None) -> Iterator[FileStamp]:
    """Every Markdown file under the folder, in a stable order.

    Hidden names are skipped, and so are `_`-prefixed ones (Hugo's `_index.md`, Jekyll's `_drafts`)
    except Jekyll's `_posts`; the Markdown files passed over that way are added to `ignored`. A
    sub-folder that cannot be read is reported, not fatal; a folder reached twice through symbolic
    links is read once, and a link that leads out of the content folder is reported and not
    followed.
    """
    # Plain strings, not Path objects: this runs for every file on every build.
    stack = [""]
    seen: set[tuple[int, int]] = set()
    root = os.path.realpath(content_dir)
    while stack:
        prefix = stack.pop()
        folder = f"{content_dir}/{prefix}"
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            if not prefix:
                message = f"{printable(folder)}: cannot be read ({exc.strerror})"
                raise ContentError(message, "check its permissions") from exc
            yield FileStamp(
                prefix, -1, 0, f"folder cannot be read ({exc.strerror}); check its permissions"
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.name.startswith("_") and entry.name != "_posts":
                if ignored is not None:
                    ignored.extend(_markdown_within(entry, prefix))
                continue
            if entry.is_symlink() and _leads_outside(entry.path, root):
                if entry.is_dir() or entry.name.lower().endswith(REVIEW_SUFFIXES):
                    yield FileStamp(prefix + entry.name, -1, 0, _LINK_OUTSIDE)
            elif entry.is_dir():
                identity = _identity(entry)
                if identity not in seen:
                    seen.add(identity)
                    stack.append(prefix + entry.name + "/")
            elif entry.name.lower().endswith(REVIEW_SUFFIXES) and entry.is_file():
                info = entry.stat()
                yield FileStamp(prefix + entry.name, info.st_size, info.st_mtime_ns)


_LINK_OUTSIDE = "leads out of the content folder and is not read; move its target inside"


def _markdown_within(entry: os.DirEntry[str], prefix: str) -> list[str]:
    """The Markdown files an ignored name stands for: itself, or every one in its folder tree."""
    if entry.name.lower().endswith(REVIEW_SUFFIXES) and entry.is_file(follow_symlinks=False):
        return [prefix + entry.name]
    if not entry.is_dir(follow_symlinks=False):
        return []
    found = []
    for folder, _, names in os.walk(entry.path):
        below = os.path.relpath(folder, entry.path)
        base = prefix + entry.name + ("" if below == "." else "/" + below)
        found += [
            f"{base}/{name}" for name in sorted(names) if name.lower().endswith(REVIEW_SUFFIXES)
        ]
    return found


def _leads_outside(link: str, root: str) -> bool:
    """Whether a symbolic link, followed to the end, lands outside the (real) content folder."""
    target = os.path.realpath(link)
    return target != root and not target.startswith(root.rstrip("/") + "/")


def _identity(entry: os.DirEntry[str]) -> tuple[int, int]:
    info = (
        entry.stat()
    )  # follows a symbolic link: a loop back to a parent has the parent's identity
    return info.st_dev, info.st_ino


def read_body(config: Config, review: Review) -> str:
    """The Markdown body of a review that was loaded earlier."""
    path = f"{config.content_dir}/{review.source}"
    try:
        data = read_at_most(path, config.content.max_file_kb)
        return split_front_matter(decode_review(data)).body
    except (OSError, RejectedFileError, FrontMatterError) as exc:
        message = printable(f"{path}: changed or vanished while building ({exc})")
        raise ContentError(message, "run the build again") from exc


SIZE_HINT = "a review may be; shorten it or raise [content] max_file_kb"


def read_at_most(path: str, limit_kb: int) -> bytes:
    """A file's bytes, never more than the limit plus one read into memory (it may have grown)."""
    with open(path, "rb") as handle:  # noqa: PTH123 - a hot path
        data = handle.read(limit_kb * 1024 + 1)
    if len(data) > limit_kb * 1024:
        raise RejectedFileError(f"is over the {limit_kb} KB {SIZE_HINT}")
    return data


def decode_review(data: bytes) -> str:
    """A review file's text: UTF-8 with or without a BOM, any line ends turned into '\\n'."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectedFileError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as "
            "UTF-8"
        ) from None
    if not text.strip():
        raise RejectedFileError(
            "is empty; add front matter with at least a title, or delete the file"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")
