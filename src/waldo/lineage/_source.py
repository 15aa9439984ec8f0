"""Where a node's function is written: the ``sourceCodeLocation`` job facet.

The journal knows a node's function by its dotted name (``pkg.nodes.clean``), the
run's project folder and git commit. The file is looked up under the project (``src/``
first, as Kedro lays projects out) and the function's line read from its source, so
the facet's ``url`` is ``file:///abs/path/nodes.py#L12``; ``path`` is the file relative
to the project and ``version`` the commit. A function whose file is not there (the
export runs elsewhere) gets no facet.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from openlineage.client.generated import source_code_location_job


def function_file(func: str, project_path: str | Path) -> tuple[Path, str] | None:
    """The source file of a dotted function name under the project, and the name."""
    module, _, name = func.rpartition(".")
    if not module:
        return None
    relative = Path(*module.split("."))
    root = Path(project_path)
    for candidate in (
        root / "src" / relative.with_suffix(".py"),
        root / relative.with_suffix(".py"),
        root / "src" / relative / "__init__.py",
        root / relative / "__init__.py",
    ):
        if candidate.is_file():
            return candidate, name
    return None


def function_line(path: Path, name: str) -> int | None:
    """The line where ``name`` is defined at the top level of ``path``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node.lineno
    return None


def source_code_location_facet(
    func: str | None, project_path: str | None, git_sha: str | None
) -> Any | None:
    """The facet for a node's function, or None when its file cannot be found."""
    if not func or not project_path:
        return None
    found = function_file(func, project_path)
    if found is None:
        return None
    path, name = found
    line = function_line(path, name)
    url = path.resolve().as_uri() + (f"#L{line}" if line else "")
    return source_code_location_job.SourceCodeLocationJobFacet(
        type="git" if git_sha else "file",
        url=url,
        path=str(path.relative_to(project_path)),
        version=git_sha,
    )
