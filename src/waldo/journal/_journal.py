"""One project's journal: its settings, its store, and the operations the CLI offers."""

from __future__ import annotations

from waldo.journal._history import History
from waldo.journal._recorder import Recorder, get_recorder
from waldo.journal._settings import Settings
from waldo.store import ReplayReport, Spool, Store


class Journal:
    """Entry point for reading and maintaining a project's journal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store_url)
        self.history = History(self.store)

    @property
    def recorder(self) -> Recorder:
        return get_recorder(self.settings)

    def sync(self) -> ReplayReport:
        """Replay the spool into the store, exactly once."""
        self.store.ensure_schema()
        return Spool(self.settings.spool_dir).replay(self.store.write)

    def pending(self) -> int:
        return Spool(self.settings.spool_dir).count_pending_records()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        before = self.store.current_revision()
        self.store.upgrade(revision)
        return before, self.store.current_revision()

    def downgrade(self, revision: str) -> tuple[str | None, str | None]:
        before = self.store.current_revision()
        self.store.downgrade(revision)
        return before, self.store.current_revision()
