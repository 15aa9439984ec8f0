"""A Python traceback laid out for reading: the error, the user's frames, the rest folded.

A node's traceback runs through Kedro's runner, pluggy and the standard library before
it reaches the user's function; the page shows the user's frames first and folds the
others. A frame is a library's when its file lies in an installed package
(``site-packages``), in Python's own library, or in Kedro or pluggy's source tree, or
when its path is not absolute (the source of a compiled extension, ``pandas/_libs/
lib.pyx``: Python names every module it imports from disk by its absolute path).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.*)$')
_LIBRARY = re.compile(
    r"site-packages|dist-packages|^<frozen |[/\\]lib[/\\]python\d[^/\\]*[/\\]"
    r"|[/\\](kedro|pluggy)[/\\][^/\\]+(\.py$|[/\\])"
)
_ABSOLUTE = re.compile(r"^(/|[A-Za-z]:[/\\]|\\\\)")


@dataclass
class Frame:
    """One ``File "...", line N, in func`` entry and its line of code."""

    file: str
    line: int
    func: str
    code: str
    user: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def is_library(path: str) -> bool:
    """Whether a frame's file belongs to an installed package or to Python itself."""
    return bool(_LIBRARY.search(path)) or not _ABSOLUTE.match(path)


def frames(text: str) -> list[Frame]:
    """The frames of a formatted traceback (of every exception in a chain), in order."""
    found: list[Frame] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _FRAME.match(line)
        if match is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        code = "" if _FRAME.match(following) else following.strip()
        file = match["file"]
        found.append(Frame(file, int(match["line"]), match["func"], code, not is_library(file)))
    return found


def first_line(message: str | None) -> str:
    """The first non-blank line of an error message (what a header has room for)."""
    for line in (message or "").splitlines():
        if line.strip():
            return line.strip()
    return ""
