"""Country names as the RMI templates spell them, to ISO 3166-1 alpha-2 codes.

pycountry knows the ISO names, official names and common names; the templates' own list
(249 names, upper case, some older or reordered: "CONGO, DEMOCRATIC REPUBLIC OF THE",
"TURKEY", "BOLIVIA (PLURINATIONAL STATE OF)") is reached by normalising a name (accents,
case, a parenthesised or trailing ", X OF" qualifier) and by `TEMPLATE_NAMES` for the
names no normalisation finds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

__all__ = ["TEMPLATE_NAMES", "country_code"]

# names the templates (and smelter lists) use that ISO no longer does, by their key
TEMPLATE_NAMES = {
    "turkey": "TR", "swaziland": "SZ", "macedonia": "MK", "cape verde": "CV",
    "czech republic": "CZ", "burma": "MM", "holland": "NL", "russia": "RU",
    "south korea": "KR", "korea south": "KR", "north korea": "KP", "korea north": "KP",
    "ivory coast": "CI", "vatican city": "VA", "laos": "LA", "vietnam": "VN",
    "the netherlands": "NL", "democratic republic of the congo": "CD", "drc": "CD",
    "congo drc": "CD", "republic of congo": "CG", "east timor": "TL", "micronesia": "FM",
    "palestine": "PS", "syria": "SY", "tanzania": "TZ", "iran": "IR", "moldova": "MD",
    "venezuela": "VE", "bolivia": "BO", "brunei": "BN", "usa": "US", "uk": "GB",
    "great britain": "GB", "united states": "US", "taiwan": "TW", "reunion": "RE",
    "curacao": "CW", "saint barthelemy": "BL", "aland islands": "AX",
    "st. helena": "SH", "saint helena": "SH", "falkland islands": "FK",
    "heard island and mcdonald islands": "HM", "virgin islands, u.s.": "VI",
    "virgin islands, british": "VG", "kyrgyzstan": "KG",
}


def _key(name: str) -> str:
    """Lower case, no accents, single spaces.

    >>> _key("  CÔTE D'IVOIRE ")
    "cote d'ivoire"
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", plain.casefold()).strip(" .")


@cache
def _iso_names() -> dict[str, str]:
    """Every name pycountry knows (name, official, common), by key."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name", "alpha_3"):
            if (value := getattr(country, attribute, None)) is not None:
                names.setdefault(_key(value), country.alpha_2)
    for name, code in TEMPLATE_NAMES.items():
        names.setdefault(_key(name), code)
    return names


def _variants(key: str) -> list[str]:
    """The name, without a parenthesised part, with a trailing ', X' put first.

    >>> _variants("congo, democratic republic of the")
    ['congo, democratic republic of the', 'democratic republic of the congo', 'congo']
    """
    found = [key]
    bare = re.sub(r"\s*\(.*?\)\s*", " ", key).strip()
    if ", " in key:
        head, _, tail = key.partition(", ")
        found.append(f"{tail} {head}".strip())
        found.append(head)
    if bare != key:
        found.append(bare)
    return found


def country_code(name: str | None) -> str | None:
    """The ISO alpha-2 code of a country name or code, None when it is none.

    >>> country_code("CONGO, DEMOCRATIC REPUBLIC OF THE"), country_code("Turkey")
    ('CD', 'TR')
    >>> country_code("BOLIVIA (PLURINATIONAL STATE OF)"), country_code("Atlantis")
    ('BO', None)
    """
    if not name or not name.strip():
        return None
    key = _key(name)
    if len(key) == 2 and key.isalpha() and pycountry.countries.get(alpha_2=key.upper()):
        return key.upper()
    names = _iso_names()
    return next((names[v] for v in _variants(key) if v in names), None)
