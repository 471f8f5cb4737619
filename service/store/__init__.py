"""Stores: the port and its adapters, built by `build_store(settings)`."""

from __future__ import annotations

from service.config.settings import Settings
from service.store.port import CascadeStore

__all__ = ["build_store"]


def build_store(settings: Settings) -> CascadeStore:
    """The adapter the settings name; imports lazily so SQLite never loads the driver."""
    if settings.store_kind == "sqlite":
        from service.store.sqlite import SqliteStore

        return SqliteStore(settings.sqlite_path)
    from service.store.neo4j import Neo4jStore

    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
    return Neo4jStore(
        settings.store,
        user=settings.neo4j_user,
        password=password,
        database=settings.neo4j_database,
        connect_timeout=settings.neo4j_connect_timeout,
        retry_time=settings.neo4j_retry_s,
    )
