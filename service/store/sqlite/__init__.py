"""The embedded SQLite adapter: `SqliteStore` implements every role port."""

from service.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
