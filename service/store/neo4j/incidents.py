"""Incidents and company locations on Neo4j: a mixin of `Neo4jStore` (see
`service.store.ports.IncidentStore`). Every incident write locks and bumps the revision,
like other writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from neo4j import ManagedTransaction

from graph_models.incidents import Incident
from graph_models.models import Site
from service.store.neo4j.changelog import keyed_columns
from service.store.neo4j.queries import incidents as cypher
from service.store.neo4j.tx import (
    ReadTransaction,
    Transactions,
    bump_revision,
    lock_revision,
    row_dicts,
)
from service.store.port import AlreadyExists
from service.store.records import CompanyLocations

__all__ = ["Neo4jIncidents"]


def _write_incident(tx: ManagedTransaction, query: str, incident: Incident) -> int:
    """Run a create or replace under the revision lock; bump the revision if it wrote."""
    lock_revision(tx)
    record = tx.run(query, id=incident.id, body=incident.model_dump_json()).single(strict=True)
    written = int(record[0])
    if written:
        bump_revision(tx)
    return written


def _locations(rows: list[dict[str, Any]]) -> CompanyLocations:
    found = CompanyLocations({}, {})
    for row in rows:
        found.countries[row["id"]] = row["country"] or None
        text = row["sites_json"] or "[]"
        if text != "[]":
            found.sites[row["id"]] = _sites(text)
    return found


def _sites(text: str) -> list[Site]:
    return [Site.model_validate(site) for site in json.loads(text)]


def _every_location(tx: ReadTransaction) -> CompanyLocations:
    """Every company's location, a page of company keys per record (a record per company
    would cost the driver seconds at 300,000)."""
    ids, countries, sited = keyed_columns(tx, cypher.COMPANY_LOCATIONS,
                                          cypher.UNINDEXED_LOCATIONS, _LOCATION_COLUMNS)
    return CompanyLocations(
        dict(zip(ids, [country or None for country in countries], strict=True)),
        {cid: _sites(text) for cid, text in sited})


_LOCATION_COLUMNS = ("ids", "countries", "sited")


class Neo4jIncidents:
    """The incidents port's methods."""

    def create_incident(self: Transactions, incident: Incident) -> None:
        if not self._write(_write_incident, cypher.CREATE_INCIDENT, incident):
            raise AlreadyExists(f"incident {incident.id!r} already exists")

    def get_incident(self: Transactions, incident_id: str) -> Incident | None:
        rows = self._read(row_dicts, cypher.GET_INCIDENT, {"id": incident_id})
        return Incident.model_validate_json(rows[0]["body"]) if rows else None

    def list_incidents(self: Transactions, *, limit: int = 100,
                       after: str | None = None) -> list[Incident]:
        rows = self._read(row_dicts, cypher.LIST_INCIDENTS, {"after": after or "",
                                                             "limit": limit})
        return [Incident.model_validate_json(row["body"]) for row in rows]

    def replace_incident(self: Transactions, incident: Incident) -> bool:
        return bool(self._write(_write_incident, cypher.REPLACE_INCIDENT, incident))

    def company_locations(self: Transactions,
                          ids: Sequence[str] | None = None) -> CompanyLocations:
        if ids is None:
            return self._read(_every_location)
        rows = self._read(row_dicts, cypher.COMPANY_LOCATIONS_OF, {"ids": list(ids)})
        return _locations(rows)

    def request_creation(self: Transactions, request_ids: Sequence[str]) -> dict[str, int]:
        rows = self._read(row_dicts, cypher.REQUEST_CREATION, {"ids": list(request_ids)})
        return {row["id"]: int(row["revision"] or 0) for row in rows}
