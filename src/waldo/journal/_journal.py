"""One project's journal: its settings, its store, and the operations the CLI offers."""

from __future__ import annotations

from waldo.journal._history import History
from waldo.journal._recorder import Recorder, get_recorder
from waldo.journal._settings import Settings
from waldo.store import ReplayReport, Spool, Store, store_key


class Journal:
    """Entry point for reading and maintaining a project's journal."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store_url)
        self.history = History(self.store)

    @property
    def recorder(self) -> Recorder:
        return get_recorder(self.settings)

    def spool(self, all_stores: bool = False) -> Spool:
        """This store's spool (or, with ``all_stores``, every spooled file)."""
        key = None if all_stores else store_key(self.settings.store_url)
        return Spool(self.settings.spool_dir, key)

    def pending_elsewhere(self) -> int:
        """Spooled rows that belong to another store than this journal's."""
        return self.spool(all_stores=True).count_pending_records() - self.pending()

    def sync(self, any_store: bool = False) -> ReplayReport:
        """Replay the spool into the store, exactly once, with the lines of ``.corrupt``
        files that parse now (a user repaired them).

        Only rows spooled for this store, unless ``any_store``.
        """
        self.store.ensure_schema()
        return self.spool(all_stores=any_store).replay(self.store.write, retry_corrupt=True)

    def pending(self, any_store: bool = False) -> int:
        """Rows waiting in the spool for this store (or for any, with ``any_store``)."""
        return self.spool(all_stores=any_store).count_pending_records()

    def corrupt(self, any_store: bool = False) -> int:
        """Lines set aside as corrupt for this store (or for any, with ``any_store``)."""
        return self.spool(all_stores=any_store).count_corrupt_lines()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        before = self.store.current_revision()
        self.store.upgrade(revision)
        return before, self.store.current_revision()

    def downgrade(self, revision: str) -> tuple[str | None, str | None]:
        before = self.store.current_revision()
        self.store.downgrade(revision)
        return before, self.store.current_revision()
