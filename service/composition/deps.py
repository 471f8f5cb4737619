"""Typed dependencies on the app's services (`StoreDep`, `SettingsDep`, ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from starlette.types import Scope

from service.composition.container import Services
from service.config.settings import Settings
from service.coverage.snapshot import CoverageSnapshot
from service.store.port import CascadeStore

__all__ = ["CoverageDep", "ServicesDep", "SettingsDep", "StoreDep", "services_in",
           "services_of"]


def services_in(scope: Scope) -> Services:
    """The services of the app serving `scope` (middleware has a scope, not a request)."""
    found = scope["app"].state.services
    if not isinstance(found, Services):
        raise RuntimeError("the app's lifespan has not run: no services")
    return found


def services_of(connection: HTTPConnection) -> Services:
    return services_in(connection.scope)


def _store(connection: HTTPConnection) -> CascadeStore:
    return services_of(connection).store


def _settings(connection: HTTPConnection) -> Settings:
    return services_of(connection).settings


def _coverage(connection: HTTPConnection) -> CoverageSnapshot:
    return services_of(connection).coverage


ServicesDep = Annotated[Services, Depends(services_of)]
StoreDep = Annotated[CascadeStore, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CoverageDep = Annotated[CoverageSnapshot, Depends(_coverage)]
