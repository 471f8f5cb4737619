"""Where companies are, and which of them an incident's area affects, as arrays.

A company with sites is located by its sites only; one without sites by its own country.
A company is affected when its id is listed, or one of its sites (or, without sites, its
own country) lies in a listed country or region, or one of its sites with coordinates lies
within the circle (haversine distance on a sphere of the mean Earth radius, boundary
included). Matching runs over one row per site, vectorised, so a country-wide incident over
300,000 companies takes milliseconds.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from graph_models.models import Site

__all__ = [
    "EARTH_RADIUS_KM",
    "MATCH_ORDER",
    "Area",
    "Circle",
    "Locations",
    "Match",
    "haversine_km",
]

EARTH_RADIUS_KM = 6371.0
MATCH_ORDER = ("company_ids", "regions", "countries", "circle")
"""The criteria in the order that names which one matched a company."""
_NONE = len(MATCH_ORDER)  # "no criterion matched"
# A distance computed as r * 2 asin(...) is off by a few ulps: a site exactly on the
# boundary must count, so the radius gets this relative slack (a micrometre per 1,000 km).
_BOUNDARY_SLACK = 1e-12


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: float, lon2: float) -> np.ndarray:
    """Great-circle distance in km between points in degrees (mean Earth radius).

    Examples
    --------
    >>> round(float(haversine_km(35.6895, 139.6917, 34.6937, 135.5023)), 1)  # Tokyo-Osaka
    396.4
    >>> float(haversine_km(0.0, 0.0, 0.0, 0.0))
    0.0
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class Area:
    """An incident's area; empty criteria match nothing."""

    company_ids: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    circle: Circle | None = None


@dataclass(frozen=True)
class Match:
    """Why a company is affected: the first criterion in MATCH_ORDER that matched it, and
    the first matching site by id (None when matched by id or by its own country)."""

    by: str
    site_id: str | None


@dataclass(frozen=True, eq=False)
class Locations:
    """One row per site (a company without sites: one row, its own country, no site).

    `company[r]` is the row's company (a position in `ids`); rows are ordered by company,
    then site id, so the first matching row of a company names its first matching site.
    """

    ids: list[str]
    company: np.ndarray  # int64 position in `ids`
    site_id: list[str | None]
    country: np.ndarray  # str ('' = unknown)
    region: np.ndarray  # str ('' = none)
    lat: np.ndarray  # float, NaN = no coordinates
    lon: np.ndarray

    @classmethod
    def of(cls, companies: Mapping[str, tuple[str | None, Sequence[Site]]]) -> Locations:
        """From `{company id: (own country, sites)}`.

        >>> where = Locations.of({"a": ("JP", []), "b": (None, [Site(id="s", name="S",
        ...     country="DE", region="DE-BY", lat=48.1, lon=11.6)])})
        >>> sorted(where.affected(Area(countries=frozenset({"DE"}))))
        ['b']
        """
        return cls.build({cid: own for cid, (own, _) in companies.items()},
                         {cid: list(sites) for cid, (_, sites) in companies.items() if sites})

    @classmethod
    def build(cls, countries: Mapping[str, str | None],
              sites: Mapping[str, Sequence[Site]]) -> Locations:
        """From every company's own country and the sites of those that have any; the
        companies without sites (most) become rows without a Python loop per row."""
        ids = sorted(countries)
        # stores read companies in id order: then the values are already in `ids` order
        held = countries.values() if ids == list(countries) else map(countries.get, ids)
        found = (_position(ids, cid) for cid, its_sites in sites.items() if its_sites)
        sited = sorted(position for position in found if position >= 0)
        plain = np.ones(len(ids), dtype=bool)
        plain[sited] = False
        rows = _SiteRows.of(sited, [sites[ids[p]] for p in sited])
        company = np.concatenate([np.flatnonzero(plain), rows.company])
        order = np.argsort(company, kind="stable")  # by company; site rows keep site order
        bare = int(plain.sum())
        own = np.array([country or "" for country in held], dtype=str)
        site_id: list[str | None] = [None] * bare
        site_id += rows.site_id
        return cls(ids, company[order], [site_id[i] for i in order.tolist()],
                   np.concatenate([own[plain], np.array(rows.country, dtype=str)])[order],
                   np.concatenate([np.full(bare, ""), np.array(rows.region, dtype=str)])[order],
                   np.concatenate([np.full(bare, np.nan), np.array(rows.lat)])[order],
                   np.concatenate([np.full(bare, np.nan), np.array(rows.lon)])[order])

    def _criterion(self, area: Area) -> np.ndarray:
        """Per row: the code (index in MATCH_ORDER) of the first criterion it meets."""
        code = np.full(self.company.size, _NONE, dtype=np.int8)
        if area.circle is not None:
            c = area.circle
            with np.errstate(invalid="ignore"):  # rows without coordinates: NaN, never in
                near = haversine_km(self.lat, self.lon, c.lat, c.lon) \
                    <= c.radius_km * (1 + _BOUNDARY_SLACK)
            code[near] = 3
        if area.countries:
            code[np.isin(self.country, sorted(area.countries))] = 2
        if area.regions:
            code[np.isin(self.region, sorted(area.regions))] = 1
        if area.company_ids:
            listed = [_position(self.ids, c) for c in area.company_ids]  # -1: none
            code[np.isin(self.company, listed)] = 0
        return code

    def matches(self, area: Area, among: Sequence[str] | None = None) -> dict[str, Match]:
        """Every affected company (of those `among`, when given: a page of them) with why
        it is affected."""
        code = self._criterion(area)
        hit = np.flatnonzero(code < _NONE)
        if among is not None:
            hit = hit[np.isin(self.company[hit], [_position(self.ids, c) for c in among])]
        # the best criterion per company, then its first row (rows are by company, site id)
        order = hit[np.lexsort((hit, code[hit], self.company[hit]))]
        first = order[np.r_[True, self.company[order][1:] != self.company[order][:-1]]] \
            if order.size else order
        found = {}
        for row in first.tolist():
            by = MATCH_ORDER[code[row]]
            site = None if by == "company_ids" else self.site_id[row]
            found[self.ids[self.company[row]]] = Match(by, site)
        return found

    def affected(self, area: Area) -> list[str]:
        """Ids of the affected companies, sorted."""
        return [self.ids[i] for i in self.affected_positions(area).tolist()]

    def affected_positions(self, area: Area) -> np.ndarray:
        """Positions in `ids` of the affected companies, ascending."""
        return np.unique(self.company[self._criterion(area) < _NONE])


def _position(ids: list[str], company_id: str) -> int:
    """Position of `company_id` in the sorted `ids`, -1 when absent (no index to build)."""
    at = bisect_left(ids, company_id)
    return at if at < len(ids) and ids[at] == company_id else -1


@dataclass
class _SiteRows:
    """One row per site of the companies that have sites, ordered by company, site id."""

    company: np.ndarray
    site_id: list[str | None]
    country: list[str]
    region: list[str]
    lat: list[float]
    lon: list[float]

    @classmethod
    def of(cls, positions: Sequence[int], sites: Sequence[Sequence[Site]]) -> _SiteRows:
        rows = cls(np.zeros(0, dtype=np.int64), [], [], [], [], [])
        company: list[int] = []
        for position, held in zip(positions, sites, strict=True):
            for s in sorted(held, key=lambda s: s.id):
                company.append(position)
                rows.site_id.append(s.id)
                rows.country.append(s.country)
                rows.region.append(s.region or "")
                rows.lat.append(np.nan if s.lat is None else s.lat)
                rows.lon.append(np.nan if s.lon is None else s.lon)
        rows.company = np.array(company, dtype=np.int64)
        return rows

