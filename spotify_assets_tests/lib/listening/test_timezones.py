"""A listener's local zone: setting, else the export's country, else the default."""

import pytest

from spotify_assets.lib.listening.timezones import (
    COUNTRY_ZONES,
    TimezoneError,
    person_zone,
    validate,
)


def test_setting_wins_then_the_most_frequent_country_then_the_default(monkeypatch):
    monkeypatch.delenv("SPOTIFY_ASSETS_TIMEZONE", raising=False)
    assert person_zone("Europe/Lisbon", {"IN": 900}).name == "Europe/Lisbon"
    zone = person_zone(None, {"US": 10, "IN": 900})
    assert (zone.name, zone.source) == ("Asia/Kolkata", "country IN")
    assert person_zone(None, {"XX": 5, "JP": 1}).name == "Asia/Tokyo"  # unknown code skipped
    assert person_zone(None, {}).describe() == "UTC (default)"
    monkeypatch.setenv("SPOTIFY_ASSETS_TIMEZONE", "America/Santiago")
    assert person_zone(None, None).name == "America/Santiago"


def test_every_table_zone_exists_and_bad_names_are_refused():
    for zone in COUNTRY_ZONES.values():
        assert validate(zone) == zone
    with pytest.raises(TimezoneError, match="IANA"):
        person_zone("Mars/Olympus")
