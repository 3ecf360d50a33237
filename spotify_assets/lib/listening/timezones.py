"""A person's local time zone: what they set, else their export's country, else a default.

Hour-of-day and day-of-week habits only mean something in local time: a person in India who
starts sessions at 21:00 does so at 15:30 UTC. Extended exports carry `conn_country` per play;
the country's main zone (the one most of its people live in) stands for it. Countries spanning
several zones (US, CA, BR, RU, AU, MX, ID, …) get their most populous zone; a person elsewhere
sets theirs (`--timezone`, stored per person). Basic exports carry no country.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spotify_assets.lib.errors import InputError
from spotify_assets.settings import settings

DEFAULT_ENV = "SPOTIFY_ASSETS_TIMEZONE"

# ISO 3166-1 alpha-2 → the zone most of the country's population lives in.
COUNTRY_ZONES: dict[str, str] = {
    "AE": "Asia/Dubai", "AR": "America/Argentina/Buenos_Aires", "AT": "Europe/Vienna",
    "AU": "Australia/Sydney", "BD": "Asia/Dhaka", "BE": "Europe/Brussels",
    "BG": "Europe/Sofia", "BO": "America/La_Paz", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CH": "Europe/Zurich", "CL": "America/Santiago",
    "CN": "Asia/Shanghai", "CO": "America/Bogota", "CR": "America/Costa_Rica",
    "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen",
    "DO": "America/Santo_Domingo", "DZ": "Africa/Algiers", "EC": "America/Guayaquil",
    "EE": "Europe/Tallinn", "EG": "Africa/Cairo", "ES": "Europe/Madrid", "FI": "Europe/Helsinki",
    "FR": "Europe/Paris", "GB": "Europe/London", "GH": "Africa/Accra", "GR": "Europe/Athens",
    "GT": "America/Guatemala", "HK": "Asia/Hong_Kong", "HN": "America/Tegucigalpa",
    "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "ID": "Asia/Jakarta", "IE": "Europe/Dublin",
    "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata", "IS": "Atlantic/Reykjavik", "IT": "Europe/Rome",
    "JM": "America/Jamaica", "JP": "Asia/Tokyo", "KE": "Africa/Nairobi", "KR": "Asia/Seoul",
    "KZ": "Asia/Almaty", "LB": "Asia/Beirut", "LK": "Asia/Colombo", "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg", "LV": "Europe/Riga", "MA": "Africa/Casablanca",
    "MX": "America/Mexico_City", "MY": "Asia/Kuala_Lumpur", "NG": "Africa/Lagos",
    "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "NP": "Asia/Kathmandu",
    "NZ": "Pacific/Auckland", "PA": "America/Panama", "PE": "America/Lima",
    "PH": "Asia/Manila", "PK": "Asia/Karachi", "PL": "Europe/Warsaw", "PR": "America/Puerto_Rico",
    "PT": "Europe/Lisbon", "PY": "America/Asuncion", "QA": "Asia/Qatar",
    "RO": "Europe/Bucharest", "RS": "Europe/Belgrade", "RU": "Europe/Moscow",
    "SA": "Asia/Riyadh", "SE": "Europe/Stockholm", "SG": "Asia/Singapore",
    "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava", "SV": "America/El_Salvador",
    "TH": "Asia/Bangkok", "TN": "Africa/Tunis", "TR": "Europe/Istanbul", "TW": "Asia/Taipei",
    "UA": "Europe/Kyiv", "US": "America/New_York", "UY": "America/Montevideo",
    "VE": "America/Caracas", "VN": "Asia/Ho_Chi_Minh", "ZA": "Africa/Johannesburg",
}  # fmt: skip


class TimezoneError(InputError):
    """A time zone that is not an IANA name."""


@dataclass(frozen=True)
class LocalZone:
    """The zone used for a person and why it was chosen (shown in metadata and the dashboard)."""

    name: str
    source: str  # "setting" | "country XX" | "default"

    def describe(self) -> str:
        return f"{self.name} ({self.source})"


def validate(name: str) -> str:
    """`name` if it is an IANA zone this machine knows, else a clear error."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimezoneError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin, "
            "America/New_York or Asia/Kolkata"
        ) from exc
    return name


def default_zone() -> str:
    return validate(settings().timezone or "UTC")


def person_zone(setting: str | None, countries: Mapping[str, int] | None = None) -> LocalZone:
    """The person's own setting, else the main zone of the country most of their plays came
    from, else `$SPOTIFY_ASSETS_TIMEZONE`, else UTC."""
    if setting:
        return LocalZone(validate(setting), "setting")
    for country, _ in sorted((countries or {}).items(), key=lambda kv: (-kv[1], kv[0])):
        zone = COUNTRY_ZONES.get(country.upper())
        if zone:
            return LocalZone(zone, f"country {country.upper()}")
    return LocalZone(default_zone(), "default")
