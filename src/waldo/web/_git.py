"""Links from a run's git sha to the commit's page on the repository's web host.

The host is the project's ``origin`` remote (asked of ``git`` for each page: a few ms),
or the ``--repo-url`` given to ``waldo serve``/``waldo report``. GitHub, GitLab,
Bitbucket and the hosts that copy GitHub's paths (Gitea, Forgejo) are recognised; a
remote that is a local path or an unknown scheme gets no link.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")  # git@host:o/r.git
_URL = re.compile(r"^(?:https?|ssh|git)://(?:[^@/]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+)$")


def web_base(remote: str) -> str | None:
    """``https://host/owner/repo`` for a remote URL (https, ssh or scp-like), else None."""
    text = remote.strip()
    match = _URL.match(text) or _SCP.match(text)
    if match is None or "." not in match["host"]:
        return None
    path = match["path"].strip("/").removesuffix(".git")
    if not path or "/" not in path:
        return None
    return f"https://{match['host']}/{path}"


def commit_template(base: str) -> str:
    """The commit page of ``base`` with ``{sha}`` where the sha goes."""
    base = base.rstrip("/").removesuffix(".git")
    if "gitlab" in base:
        return f"{base}/-/commit/{{sha}}"
    if "bitbucket" in base:
        return f"{base}/commits/{{sha}}"
    return f"{base}/commit/{{sha}}"


def origin_remote(project_path: str) -> str | None:
    """The ``origin`` remote of the git repository holding ``project_path``, if any."""
    if not Path(project_path).is_dir():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", project_path, "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def commit_link(project_path: str | None, repo_url: str | None = None) -> str | None:
    """The commit page template for a run: from ``repo_url`` if given, else its project."""
    base = web_base(repo_url) if repo_url else None
    if base is None and repo_url is None and project_path:
        remote = origin_remote(project_path)
        base = web_base(remote) if remote else None
    return commit_template(base) if base else None
