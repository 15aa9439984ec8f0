"""The examples of docs/fingerprints.md ("Code", "Examples") are true.

Each example gives the files of a package (code blocks starting with ``# <path>``),
then, per node function, edits written as ``- `old` → `new`: stale, `reason``` or
``: up to date``. Each edit is made alone on a fresh copy and checked: the node is
stale with exactly that reason, or its fingerprint is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.packages import load_package
from waldo.fingerprint import CodeManifest, code_manifest
from waldo.journal._staleness import code_reasons

DOC = Path(__file__).parents[2] / "docs" / "fingerprints.md"
BLOCK = re.compile(r"```python\n# (\S+\.py)\n(.*?)```", re.S)
NODE = re.compile(r"^Node function `([\w.]+)`(.*?):$", re.M | re.S)
EDIT = re.compile(r"^- `(.+?)` → `(.+?)`: (?:stale, `(.+)`|up to date)$")
WARNING = re.compile(r"with one warning, `(.+?) \.\.\.`", re.S)


@dataclass(frozen=True)
class Edit:
    example: str
    files: dict[str, str]
    node: str
    old: str
    new: str
    reason: str | None  # None: the node stays up to date
    warning: str | None


def examples() -> list[Edit]:
    text = DOC.read_text()
    section = text[text.index("### Examples") :]
    section = section[: section.index("\n## ")]
    edits = []
    for chunk in section.split("\n#### ")[1:]:
        title = chunk.splitlines()[0]
        files = {path: body for path, body in BLOCK.findall(chunk)}
        groups = NODE.split(chunk)[1:]  # node, its description, its lines, node, ...
        for node, described, lines in zip(groups[::3], groups[1::3], groups[2::3], strict=True):
            found = WARNING.search(described)
            warning = " ".join(found.group(1).split()) if found else None
            for line in lines.strip().splitlines():
                match = EDIT.match(line)
                if match:
                    old, new, reason = match.groups()
                    edits.append(Edit(title, files, node, old, new, reason, warning))
    return edits


EDITS = examples()


def manifest(root: Path, files: dict[str, str], node: str) -> CodeManifest:
    module, _, name = node.rpartition(".")
    package = next(iter(files)).split("/")[0]
    loaded = load_package(root, files, f"{package}.{module}")
    return code_manifest(getattr(loaded, name))


def test_the_examples_are_found() -> None:
    assert len(EDITS) >= 15
    assert {e.reason is None for e in EDITS} == {True, False}


@pytest.mark.parametrize("edit", EDITS, ids=[f"{e.node}: {e.old} -> {e.new}" for e in EDITS])
def test_each_example_edit_does_what_the_docs_say(tmp_path: Path, edit: Edit) -> None:
    [where] = [path for path, body in edit.files.items() if edit.old in body]
    assert edit.files[where].count(edit.old) == 1, edit.old
    before = manifest(tmp_path / "before", edit.files, edit.node)
    changed = {**edit.files, where: edit.files[where].replace(edit.old, edit.new)}
    after = manifest(tmp_path / "after", changed, edit.node)
    if edit.reason is None:
        assert after.digest == before.digest
    else:
        assert code_reasons(after, before) == [edit.reason]
    if edit.warning is not None:
        [note] = before.notes
        assert note.startswith(edit.warning)
    else:
        assert before.notes == ()
