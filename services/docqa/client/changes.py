"""What a watched folder's file events mean for its documents (no HTTP): which files to read
again and which are gone, kept until they have been dealt with.

Paths are ``(root index, path relative to the root)``. A file event marks its file; a folder
that appears is walked (a folder moved in), one that disappears takes every file known under
it (a folder moved out or deleted). Marks are keyed by file, so many events on one file (an
editor's save in several writes) are one read of its latest content, and a mark survives until
it is done: nothing is lost while the API is away.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from docqa.client import sources
from docqa.client.sources import Failure, Root

Where = tuple[int, PurePosixPath]
Mark = Literal["read", "gone"]


@dataclass
class Changes:
    """The watched roots, the ids each known file holds, and the files marked for work."""

    roots: list[Root]
    glob: str | None = None
    ids_of: dict[Where, set[str]] = field(default_factory=dict)
    marked: dict[Where, Mark] = field(default_factory=dict)

    def locate(self, path: str | Path) -> Where | None:
        """The root a path is under and the path relative to it (None: under none)."""
        absolute = Path(path).absolute()
        for n, root in enumerate(self.roots):
            base = root.path.absolute()
            if root.path.is_file() or not base.is_dir():
                if absolute == base:
                    return n, PurePosixPath(base.name)
                continue
            if absolute.is_relative_to(base) and absolute != base:
                return n, PurePosixPath(absolute.relative_to(base).as_posix())
        return None

    def wanted(self, where: Where) -> bool:
        relative = where[1]
        if any(part.startswith(".") for part in relative.parts):
            return False
        if not sources.readable(relative.name):
            return False
        return self.glob is None or fnmatch.fnmatch(str(relative), self.glob)

    def path(self, where: Where) -> Path:
        root = self.roots[where[0]]
        return root.path if root.path.is_file() else root.path / where[1]

    def seen(self, events: Iterable[tuple[object, str]], failures: list[Failure]) -> None:
        """Mark what ``events`` ((change, path) pairs, as watchfiles yields) touched."""
        for _, raw in sorted(events, key=lambda e: e[1]):
            where = self.locate(raw)
            if where is None:
                continue
            path = Path(raw)
            if path.is_dir():
                self._folder_appeared(where, failures)
            elif path.is_file():
                if self.wanted(where):
                    self.marked[where] = "read"
            else:  # gone: a file, or a folder with the files known under it
                self._gone(where)

    def _folder_appeared(self, where: Where, failures: list[Failure]) -> None:
        root = self.roots[where[0]]
        inner = Root(root.path / where[1])
        for relative in sources.files(inner, None, failures):
            found = (where[0], where[1] / relative)
            if self.wanted(found):
                self.marked[found] = "read"

    def _gone(self, where: Where) -> None:
        prefix = f"{where[1]}/"
        for known in [w for w in self.ids_of if w[0] == where[0]]:
            if known == where or str(known[1]).startswith(prefix):
                self.marked[known] = "gone"
        if where not in self.ids_of and where in self.marked:
            del self.marked[where]  # appeared and vanished before it was read

    def take(self) -> dict[Where, Mark]:
        """The marks, cleared (``keep`` puts back those that could not be done)."""
        marked, self.marked = self.marked, {}
        return marked

    def keep(self, where: Where, mark: Mark) -> None:
        self.marked.setdefault(where, mark)  # a newer mark wins

    def root_missing(self, where: Where) -> bool:
        """Whether the root itself is gone (an unmounted drive): then nothing is deleted."""
        return not self.roots[where[0]].path.exists()
