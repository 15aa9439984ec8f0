"""``waldo status``: load a Kedro project in-process and say which nodes are stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from waldo._errors import ConfigError
from waldo.journal import Decision, History
from waldo.kedro._config import quiet_kedro, settings_from_loader
from waldo.kedro._incremental import plan
from waldo.kedro._versions import Fingerprints
from waldo.store import Store


def project_status(
    project_path: Path, env: str | None = None, pipeline_name: str | None = None
) -> tuple[str, list[Decision]]:
    """(pipeline name, decisions) for a project as it is on disk now."""
    with quiet_kedro():
        from kedro.framework.project import pipelines
        from kedro.framework.session import KedroSession
        from kedro.framework.startup import bootstrap_project

        try:
            bootstrap_project(project_path)
        except Exception as exc:
            raise ConfigError(f"{project_path} is not a Kedro project: {exc}") from exc
        with KedroSession.create(project_path, env=env) as session:
            context: Any = session.load_context()  # type: ignore[attr-defined]
            name = pipeline_name or "__default__"
            if name not in pipelines:
                known = ", ".join(sorted(pipelines)) or "none"
                raise ConfigError(f"No pipeline '{name}' in {project_path} (pipelines: {known}).")
            pipeline = pipelines[name]
            settings = settings_from_loader(context.config_loader, project_path)
            history = History(Store(settings.store_url))
            fingerprints = Fingerprints(settings.project_path, settings.extra.get("fingerprints"))
            decisions = plan(pipeline, context.catalog, history, project_path.name, fingerprints)
    return name, decisions
