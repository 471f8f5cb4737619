"""Domain models of the cascade service: companies, supply links, requests and events.

Pure pydantic models; no I/O. Timestamps are always timezone-aware UTC: naive values are
refused, offsets are normalised.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "AckStatus",
    "Acknowledgement",
    "Applicability",
    "CascadeEvent",
    "Company",
    "CompanyKind",
    "Identifier",
    "Evidence",
    "NodeState",
    "Impact",
    "PolicyRequest",
    "Site",
    "Sites",
    "SupplyLink",
    "UtcDateTime",
    "from_epoch_us",
    "known_impact",
    "to_epoch_us",
    "utc_now",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_epoch_us(value: datetime) -> int:
    """An aware datetime as whole microseconds since 1970-01-01 UTC (exact, any year)."""
    return (value - _EPOCH) // _MICROSECOND


def from_epoch_us(epoch_us: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime (inverse of `to_epoch_us`)."""
    return _EPOCH + timedelta(microseconds=int(epoch_us))


def utc_now() -> datetime:
    """The current instant, timezone-aware, in UTC, at millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _require_aware_utc(value: datetime) -> datetime:
    # A naive timestamp is ambiguous evidence: refuse it rather than guess a zone.
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("timestamp must carry a timezone offset (e.g. 2026-01-31T09:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise ValueError("timestamp out of range: years 1 to 9999 in UTC") from None


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _refuse_numbers(value: Any) -> Any:
    # pydantic would read a number as seconds since the epoch: `since=2026` would mean
    # 1970-01-01T00:33:46Z. A timestamp is ISO 8601 text (or a datetime), nothing else.
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int | float) or (text and _NUMBER.fullmatch(text)):
        raise ValueError("timestamp must be ISO 8601 with an offset (e.g. 2026-01-31T09:00:00Z)")
    return value


UtcDateTime = Annotated[datetime, BeforeValidator(_refuse_numbers),
                        AfterValidator(_require_aware_utc)]


def _plain_identifier(value: str) -> str:
    # Control and format characters forge log lines and make look-alike ids (a
    # zero-width space, a bidi override); edge spaces make "A1" and "A1 " two companies.
    # Printable ASCII, most ids, holds none of them: no scan per character.
    odd = None if value.isascii() and value.isprintable() else next(
        (c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")),
        None)
    if odd is not None:
        raise ValueError(f"an id may not hold control or format characters "
                         f"(found U+{ord(odd):04X})")
    if value != value.strip():  # str.strip knows every Unicode space
        raise ValueError("an id may not start or end with white space")
    return value


Identifier = Annotated[str, Field(min_length=1, max_length=200),
                       AfterValidator(_plain_identifier)]
"""Any id that comes in (company, request, key, webhook): 1-200 characters, no control
or format characters, no white space at either end. 422 names the field that holds it.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Identifier).validate_python("ACME-01")
'ACME-01'
>>> from pydantic import ValidationError
>>> try:
...     TypeAdapter(Identifier).validate_python("new\\nline")
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"])
Value error, an id may not hold control or format characters (found U+000A)
"""
CompanyId = Annotated[Identifier, Field(pattern=r"^[^/\s][^/]*$")]


class CompanyKind(StrEnum):
    manufacturer = "manufacturer"
    distributor = "distributor"
    smelter = "smelter"
    contractor = "contractor"
    service = "service"
    other = "other"


class AckStatus(StrEnum):
    received = "received"
    accepted = "accepted"
    declined = "declined"


class NodeState(StrEnum):
    """A company's own standing for one request (exactly one per company)."""

    issuer = "issuer"
    acknowledged = "acknowledged"
    pending = "pending"
    overdue = "overdue"
    declined = "declined"
    expired = "expired"
    unreached = "unreached"
    not_applicable = "not_applicable"


class DomainModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(DomainModel):
    """A place where a company works: a country (ISO 3166-1 alpha-2), optionally a region
    of it (ISO 3166-2, e.g. `JP-13`) and coordinates in degrees (`lat` and `lon` together).

    Examples
    --------
    >>> Site(id="kawasaki", name="Kawasaki plant", country="JP", region="JP-14",
    ...      lat=35.53, lon=139.70).region
    'JP-14'
    """

    id: Identifier
    name: str = Field(min_length=1, max_length=300)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    region: str | None = Field(default=None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
    lat: StrictFloat | None = Field(default=None, ge=-90.0, le=90.0)
    lon: StrictFloat | None = Field(default=None, ge=-180.0, le=180.0)

    @model_validator(mode="after")
    def _consistent(self) -> Site:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together (both or neither)")
        if self.region is not None and not self.region.startswith(f"{self.country}-"):
            raise ValueError(f"region {self.region} is not in country {self.country}")
        return self

    @property
    def located(self) -> bool:
        return self.lat is not None


def _distinct_site_ids(sites: list[Site]) -> list[Site]:
    ids = [site.id for site in sites]
    if len(set(ids)) < len(ids):
        raise ValueError("site ids must be distinct within a company")
    return sites


# A company's sites wherever they are posted (the company, its full and partial updates).
Sites = Annotated[list[Site], AfterValidator(_distinct_site_ids), Field(max_length=1000)]


class Company(DomainModel):
    id: CompanyId
    name: str = Field(min_length=1, max_length=300)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    kind: CompanyKind = CompanyKind.manufacturer
    identifiers: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    # Where it works; none: located by `country` alone.
    sites: Sites = Field(default_factory=list)


class SupplyLink(DomainModel):
    """`supplier_id` supplies `buyer_id`; requests travel from buyer to supplier. A company
    never supplies itself: the one place this rule lives (the API, batches and loaders all
    build a `SupplyLink`, so each reports it on `supplier_id`).

    Examples
    --------
    >>> SupplyLink(buyer_id="focal-jp", supplier_id="focal-jp")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SupplyLink
    supplier_id
      a company cannot supply itself [type=self_link, input_value='focal-jp', input_type=str]
    """

    buyer_id: CompanyId
    supplier_id: CompanyId
    category: str = Field(default="components", min_length=1, max_length=100)

    @field_validator("supplier_id")
    @classmethod
    def _not_the_buyer(cls, supplier_id: str, info: ValidationInfo) -> str:
        if supplier_id == info.data.get("buyer_id"):
            raise PydanticCustomError("self_link", "a company cannot supply itself")
        return supplier_id

    @property
    def key(self) -> tuple[str, str]:
        return (self.buyer_id, self.supplier_id)


class Applicability(DomainModel):
    """Which links a request travels over: link categories and supplier kinds (None = all).

    `companies`, when set, also limits it to links into those companies (an incident
    survey's exposed cone); `applies` leaves that to whoever knows the supplier's id.
    """

    categories: list[str] | None = None
    kinds: list[CompanyKind] | None = None
    # An ordinary request names no companies: its JSON stays as it always was.
    companies: list[str] | None = Field(default=None, exclude_if=lambda value: value is None)

    def applies(self, category: str, supplier_kind: str) -> bool:
        """Whether a link of `category` to a supplier of `supplier_kind` carries the request.

        Examples
        --------
        >>> Applicability(categories=["construction"]).applies("construction", "contractor")
        True
        >>> Applicability(categories=["construction"]).applies("components", "contractor")
        False
        """
        if self.categories is not None and category not in self.categories:
            return False
        return self.kinds is None or supplier_kind in self.kinds


class PolicyRequest(DomainModel):
    """One policy request issued by a root company and cascaded upstream."""

    id: Annotated[Identifier, Field(pattern=r"^[^/\s]+$")]
    topic: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    version: str = "1"
    issuer_id: CompanyId
    issued_at: UtcDateTime
    # Fractional only for a report due in hours (an incident survey): days * 24 hours.
    due_days: int | float = Field(default=30, ge=0, le=3650)
    valid_days: int | None = Field(default=None, ge=1, le=36500)
    mandatory: bool = True
    applies_to: Applicability = Field(default_factory=Applicability)
    supersedes: Identifier | None = None
    catalog_id: str | None = None
    description: str | None = None

    @property
    def due(self) -> timedelta:
        return timedelta(days=self.due_days)


class CascadeEvent(DomainModel):
    """`from_id` forwarded request `request_id` to its supplier `to_id` at `sent_at`."""

    request_id: Identifier
    from_id: CompanyId
    to_id: CompanyId
    sent_at: UtcDateTime

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.request_id, self.from_id, self.to_id)


class Impact(StrEnum):
    """A supplier's own assessment of an incident's effect on it (`evidence.impact`)."""

    none = "none"
    partial = "partial"
    severe = "severe"
    unknown = "unknown"


def known_impact(evidence: dict[str, Any] | None) -> dict[str, Any] | None:
    """Evidence whose `impact`, if any, is an `Impact` value (else ValueError)."""
    if evidence is not None and "impact" in evidence:
        try:
            Impact(evidence["impact"])
        except ValueError:
            allowed = ", ".join(impact.value for impact in Impact)
            raise ValueError(f"impact must be one of {allowed}") from None
    return evidence


Evidence = Annotated[dict[str, Any] | None, AfterValidator(known_impact)]


class Acknowledgement(DomainModel):
    """One answer of a company to a request; history is append-only.

    `seq` is the store's recording order (ties on `at` go to the later recorded).
    """

    request_id: Identifier
    company_id: CompanyId
    status: AckStatus
    at: UtcDateTime
    evidence: Evidence = None
    seq: int = 0
    recorded_at: datetime | None = None
    posted_by: str | None = None


    @property
    def identity(self) -> tuple[str, str, str, datetime]:
        """What makes two acknowledgements the same answer (a retry, not a new one)."""
        return (self.request_id, self.company_id, str(self.status), self.at)
