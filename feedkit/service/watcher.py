"""Rebuilding the feeds as soon as a review is saved, deleted or moved.

The content folder is watched through the kernel's file notifications (watchfiles, on inotify):
nothing polls the tree. Saves that come together (an editor writing a file and its backup, a
`git pull`) are one rebuild, after a short quiet spell. The build's cron stays, as a safety net
for whatever a notification could miss (a folder on a network share).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import PurePath

import watchfiles

from feedkit.content.files import REVIEW_SUFFIXES

log = logging.getLogger("feedkit")
QUIET_MILLISECONDS = 50  # saves closer together than this are one rebuild
STEP_MILLISECONDS = 20  # how often the quiet spell is checked


def matters(_change: watchfiles.Change, path: str) -> bool:
    """A review file, or a folder (which may hold some): not an editor's swap or backup file."""
    name = PurePath(path).name
    if name.startswith(".") or name.endswith("~"):
        return False
    return name.lower().endswith(REVIEW_SUFFIXES) or "." not in name


class ContentWatcher:
    """Calls `rebuild` after each burst of changes to the content folder, until `stop` is set."""

    def __init__(self, folder: str, rebuild: Callable[[], object], stop: threading.Event) -> None:
        self.folder = folder
        self.rebuild = rebuild
        self.stop = stop
        self.thread = threading.Thread(target=self._watch, name="feedkit-watch", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _watch(self) -> None:
        try:
            for changes in watchfiles.watch(
                self.folder,
                watch_filter=matters,
                debounce=QUIET_MILLISECONDS,
                step=STEP_MILLISECONDS,
                stop_event=self.stop,
                raise_interrupt=False,
            ):
                log.info("watch: %d changed in %s; rebuilding", len(changes), self.folder)
                self.rebuild()
        except (OSError, RuntimeError) as error:  # the folder vanished, or notifications failed
            log.error("watch: %s: %s; builds go on by the schedule", self.folder, error)
