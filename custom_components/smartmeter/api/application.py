"""``application/monitoring`` (DSMR-reader 5.11) and ``application/status`` (its v3.12 shape).

Monitoring runs the checks of DSMR-reader that apply to a meter here, in DSMR-reader's order
of its apps (datalogger, consumption, stats), and sorts the issues by ``since``, newest first.
Checks DSMR-reader calls one after another see a later ``now`` each; here they share one, so
of issues with the same ``since`` the later check comes first, as there.

Not applicable, so never reported: the PostgreSQL reading count and database size warnings,
scheduled processes behind schedule, and the MQTT and InfluxDB queues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

from ..store.records import ProcessingStatus
from .params import Language, localize
from .serializers import local_datetime

# DSMRREADER_STATUS_READING_OFFSET_MINUTES, ..._MAX_UNPROCESSED_READINGS,
# ..._ALLOWED_DAY_STATISTICS_LAGG_IN_DAYS.
READING_OFFSET: Final = timedelta(minutes=60)
MAX_UNPROCESSED_READINGS: Final = 100
ALLOWED_DAY_STATISTICS_LAG: Final = timedelta(days=2)

SOURCE_DATALOGGER: Final = "dsmr_datalogger.apps"
SOURCE_CONSUMPTION: Final = "dsmr_consumption.apps"
SOURCE_STATS: Final = "dsmr_stats.apps"

# The English texts and DSMR-reader's Dutch translations (dsmrreader/locales/nl).
_TEXTS: Final[Mapping[str, Mapping[Language, str]]] = {
    "no_reading": {
        "en": "Waiting for the first reading ever",
        "nl": "Nog nooit een meting ontvangen",
    },
    "no_recent_reading": {
        "en": "No recent readings received",
        "nl": "Geen recente metingen ontvangen",
    },
    "unprocessed": {
        "en": "Too many unprocessed readings: {}",
        "nl": "Te veel onverwerkte telegrammen: {}",
    },
    "no_day_statistics": {
        "en": "No day statistics found",
        "nl": "Geen dagstatistieken gevonden",
    },
    "day_statistics_lagging": {
        "en": "Day statistics are lagging behind",
        "nl": "Dagstatistieken lopen achter",
    },
}


@dataclass(frozen=True, slots=True)
class MonitoringIssue:
    """One problem ``application/monitoring`` reports."""

    source: str
    description: str
    since: datetime


def monitoring_issues(
    *,
    now: datetime,
    latest_reading: datetime | None,
    status: ProcessingStatus,
    tz: tzinfo,
    language: Language,
) -> list[MonitoringIssue]:
    """Return the monitoring issues, newest ``since`` first.

    ``now`` is aware; ``latest_reading`` is the newest reading's timestamp. A day counts as
    lagging when it is two days or more before today's UTC date (DSMR-reader takes
    ``timezone.now().date()``); its ``since`` is 23:59 local time of that day.
    """
    texts = {key: text[language] for key, text in _TEXTS.items()}
    issues: list[MonitoringIssue] = []
    if latest_reading is None:
        issues.append(MonitoringIssue(SOURCE_DATALOGGER, texts["no_reading"], now))
    elif latest_reading <= now - READING_OFFSET:
        issues.append(
            MonitoringIssue(SOURCE_DATALOGGER, texts["no_recent_reading"], latest_reading)
        )
    unprocessed = status.unprocessed_readings
    if unprocessed > MAX_UNPROCESSED_READINGS and status.oldest_unprocessed is not None:
        description = texts["unprocessed"].format(unprocessed)
        issues.append(MonitoringIssue(SOURCE_CONSUMPTION, description, status.oldest_unprocessed))
    if status.latest_day is None:
        issues.append(MonitoringIssue(SOURCE_STATS, texts["no_day_statistics"], now))
    elif status.latest_day <= now.astimezone(UTC).date() - ALLOWED_DAY_STATISTICS_LAG:
        since = localize(datetime.combine(status.latest_day, time(23, 59)), tz)
        issues.append(MonitoringIssue(SOURCE_STATS, texts["day_statistics_lagging"], since))
    ranked = sorted(enumerate(issues), key=lambda entry: (entry[1].since, entry[0]), reverse=True)
    return [issue for _, issue in ranked]


def monitoring_json(issues: list[MonitoringIssue], tz: tzinfo) -> dict[str, Any]:
    """Return ``GET /api/v2/application/monitoring``: ``{"problems": N, "details": [...]}``."""
    return {
        "problems": len(issues),
        "details": [
            {
                "source": issue.source,
                "description": issue.description,
                "since": local_datetime(issue.since, tz),
            }
            for issue in issues
        ],
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusFacts:
    """What ``application/status`` reports on, read from the store in one go."""

    latest_reading: datetime | None
    latest_electricity: datetime | None
    latest_gas: datetime | None
    processing: ProcessingStatus
    # Capabilities: any minute record returned power; the newest one has L2 and L3 power, an
    # L1 voltage, an L1 current.
    electricity_returned: bool
    multi_phases: bool
    voltage: bool
    power_current: bool


def _utc(value: datetime | date | None) -> str | None:
    """Render as DRF's JSONEncoder does a database value: UTC, ``...Z``; dates as they are."""
    if isinstance(value, datetime):
        return local_datetime(value, UTC)
    return None if value is None else value.isoformat()


def status_json(facts: StatusFacts, now: datetime) -> dict[str, Any]:
    """Return ``GET /api/v2/application/status`` in DSMR-reader v3.12's shape.

    Datetimes are UTC (``...Z``), as DSMR-reader rendered the database's values there. Scheduled
    processes are empty (there are none here) and the tools (backup, Dropbox, PVOutput,
    MinderGas) disabled; the MQTT queue is empty. Weather is never a capability.
    """
    capabilities = {
        "electricity": facts.latest_electricity is not None,
        "electricity_returned": facts.electricity_returned,
        "multi_phases": facts.multi_phases,
        "voltage": facts.voltage,
        "power_current": facts.power_current,
        "gas": facts.latest_gas is not None,
        "weather": False,
    }
    capabilities["any"] = any(capabilities.values())
    electricity = facts.latest_electricity
    gas = facts.latest_gas
    reading = facts.latest_reading
    if reading is not None and reading > now:  # a meter clock running ahead
        reading = now
    oldest = facts.processing.oldest_unprocessed
    latest_day = facts.processing.latest_day
    days_since = None if latest_day is None else (now.astimezone(UTC).date() - latest_day).days
    return {
        "now": _utc(now),
        "scheduled_processes": [],
        "capabilities": capabilities,
        "electricity": {
            "latest": _utc(electricity),
            "minutes_since": None
            if electricity is None
            else round((now - electricity).total_seconds() / 60),
        },
        "gas": {
            "latest": _utc(gas),
            "hours_since": None if gas is None else round((now - gas).total_seconds() / 3600),
        },
        "readings": {
            "latest": _utc(reading),
            "seconds_since": None if reading is None else round((now - reading).total_seconds()),
            "unprocessed": {
                "count": facts.processing.unprocessed_readings,
                "seconds_since": None if oldest is None else round((now - oldest).total_seconds()),
            },
        },
        "statistics": {
            "ok": days_since is not None and days_since < 2,
            "latest": _utc(latest_day),
            "days_since": days_since,
        },
        "tools": {
            "backup": {"enabled": False, "latest_backup": None},
            "dropbox": {"enabled": False, "latest_sync": None},
            "pvoutput": {"enabled": False, "latest_sync": None},
            "mindergas": {"enabled": False, "latest_sync": None},
            "mqtt": {"ok": True, "pending_messages": 0},
        },
    }
