"""A Linky meter running: history import, sensors, statistics in the real recorder, polls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smartmeter.const import DOMAIN
from custom_components.smartmeter.diagnostics import async_get_config_entry_diagnostics
from custom_components.smartmeter.enedis import PARIS
from enedis_simulator import PRM, EnedisSimulator
from tests.common import statistic_rows

from .common import (
    MINUTE,
    NOW,
    TODAY,
    energy_contract,
    linky_entry,
    linky_service,
    move_to,
    settled,
)

STATISTIC = f"smartmeter:linky_{PRM}"
CONTRACT = energy_contract(delivered="0.200000", returned="0.130000", end="2030-12-31")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_db_url: str, enable_custom_integrations: None) -> None:
    """Prepare the recorder's database before hass starts, then load our integration."""


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(NOW)


def utc(*args: int) -> datetime:
    year, month, day, hour = args
    return datetime(year, month, day, hour, tzinfo=UTC)


async def rows(hass: HomeAssistant, key: str) -> dict[datetime, tuple[float, float]]:
    """Return each row of a series: start -> (state, sum)."""
    return {
        datetime.fromtimestamp(row["start"], UTC): (row["state"] or 0.0, row["sum"] or 0.0)
        for row in await statistic_rows(hass, f"{STATISTIC}_{key}")
    }


def increments(series: dict[datetime, tuple[float, float]]) -> dict[datetime, float]:
    """Return each row's amount: the difference of the sums."""
    result, before = {}, 0.0
    for start, (_, total) in sorted(series.items()):
        result[start] = round(total - before, 9)
        before = total
    return result


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settled(hass)


def assert_sensors(
    hass: HomeAssistant,
    simulator: EnedisSimulator,
    consumption: dict[date, int],
    production: dict[date, int],
) -> None:
    """The sensors show yesterday, its month and year, and the latest half hour."""
    days = list(consumption)
    yesterday = date(2026, 3, 30)
    state = hass.states.get("sensor.linky_12345678901234_daily_consumption")
    assert state is not None
    assert float(state.state) == consumption[yesterday] / 1000
    assert state.attributes["day"] == "2026-03-30"
    monthly = hass.states.get("sensor.linky_12345678901234_monthly_consumption")
    assert monthly is not None
    march = [day for day in days if day >= date(2026, 3, 1)]
    assert float(monthly.state) == sum(consumption[day] for day in march) / 1000
    annual = hass.states.get("sensor.linky_12345678901234_annual_production")
    assert annual is not None
    assert float(annual.state) == sum(production[day] for day in days if day.year == 2026) / 1000
    power = hass.states.get("sensor.linky_12345678901234_maximum_power")
    assert power is not None
    at, va = simulator.max_power(yesterday)
    assert (float(power.state), power.attributes["at"]) == (
        va / 1000,
        at.astimezone(UTC).isoformat(),
    )
    curve = hass.states.get("sensor.linky_12345678901234_consumption_load_curve")
    assert curve is not None
    # The half hour from 23:30 to 24:00 on the 30th: ends 00:00 on day 90 (90 % 9 = 0).
    assert float(curve.state) == 2 * 150 / 1000
    assert curve.attributes["start"] == "2026-03-30T21:30:00+00:00"
    assert hass.states.get("sensor.linky_12345678901234_maximum_power_2") is None
    progress = hass.states.get("sensor.linky_12345678901234_history_import")
    assert progress is not None
    assert progress.state == "100.0"
    poll = hass.states.get("sensor.linky_12345678901234_next_poll")
    assert poll is not None
    # Yesterday is in: tomorrow at 05:17 Paris time.
    assert poll.state == "2026-04-01T03:17:00+00:00"


async def test_history_import_sensors_and_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, socket_enabled: None
) -> None:
    """Three years of daily values and two of load curve: hours from the curve, days before,
    costs at the contract's prices, sensors of yesterday."""
    async with linky_service() as service:
        simulator = service.simulator
        entry = linky_entry(subentries=[CONTRACT])
        await setup(hass, entry)
        # 3 + 3 daily, 3 maximum power, 105 + 105 load curve; the flow's check is not here.
        assert len(simulator.requests) == 219
        days = [TODAY - timedelta(days=n) for n in range(1, 3 * 365 + 1)]
        consumption = {day: simulator.daily_wh("consumption", day) for day in days}
        production = {day: simulator.daily_wh("production", day) for day in days}

        used = await rows(hass, "consumption")
        made = await rows(hass, "production")
        # Two years of hours (23- and 25-hour days included), a day's row before them.
        curve_hours = (utc(2026, 3, 30, 22) - utc(2024, 3, 30, 23)) // timedelta(hours=1)
        assert len(used) == curve_hours + 365
        assert used.keys() == made.keys()
        assert max(used) == utc(2026, 3, 30, 21)
        assert used[max(used)][1] == sum(consumption.values()) / 1000
        assert made[max(made)][1] == sum(production.values()) / 1000
        amounts = increments(used)
        # 00:00-01:00 on 30 March (day 89, summer time): half hours of 472 and 452 W.
        assert amounts[utc(2026, 3, 29, 22)] == 0.462
        # The last day before the load curve: one row at its local midnight.
        assert amounts[utc(2024, 3, 29, 23)] == consumption[date(2024, 3, 30)] / 1000
        assert utc(2024, 3, 30, 0) not in amounts
        # The autumn change of 2025: 25 hours; the spring one of 2026: 23.
        assert sum(utc(2025, 10, 25, 22) <= at < utc(2025, 10, 26, 23) for at in used) == 25
        assert sum(utc(2026, 3, 28, 23) <= at < utc(2026, 3, 29, 22) for at in used) == 23
        # Costs: every Wh at 0.20, production at 0.13, exact.
        cost = await rows(hass, "consumption_cost")
        assert cost[max(cost)][1] == sum(consumption.values()) * 200_000 / 1e9
        paid = await rows(hass, "production_compensation")
        assert paid[max(paid)][1] == sum(production.values()) * 130_000 / 1e9

        assert_sensors(hass, simulator, consumption, production)

        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        assert diagnostics["entry"]["data"]["prm"] == "**REDACTED**"
        assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
        assert diagnostics["linky"]["history_complete"] is True
        assert diagnostics["linky"]["requests"] == 219
        assert diagnostics["linky"]["missing_days"] == []

        # A restart: nothing is asked again, nothing made again.
        await hass.config_entries.async_reload(entry.entry_id)
        await settled(hass)
        assert len(simulator.requests) == 219
        assert await rows(hass, "consumption") == used
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log("Enedis limits requests")
async def test_import_resumes_after_a_rate_limit_and_a_restart(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The 11th request of 108 is refused: what came is kept, filed, shown, then resumed."""
    async with linky_service() as service:
        simulator = service.simulator
        simulator.failures = [
            *[None] * 10,
            (
                429,
                {
                    "code": "900804",
                    "message": "Message throttled out",
                    "description": "You have exceeded your quota",
                    "nextAccessTime": "2026-Mar-31 10:00:00+0000 UTC",
                },
            ),
        ]
        entry = linky_entry(measurement="production")
        await setup(hass, entry)
        runtime = entry.runtime_data.runtime
        # Not before 12:00 Paris time: the poll at 12:17.
        assert runtime.next_poll == utc(2026, 3, 31, 10) + timedelta(minutes=MINUTE)
        assert len(simulator.requests) == 11
        # 3 daily requests and 7 of load curve made, of 3 + 105.
        progress = hass.states.get("sensor.linky_12345678901234_history_import")
        assert progress is not None
        assert (progress.state, progress.attributes["requests"]) == ("9.3", 11)
        poll = hass.states.get("sensor.linky_12345678901234_next_poll")
        assert poll is not None
        assert poll.state == "2026-03-31T10:17:00+00:00"
        assert poll.attributes["last_error"] == "You have exceeded your quota"
        total = sum(
            simulator.daily_wh("production", TODAY - timedelta(days=n)) for n in range(1, 1096)
        )
        # Filed already: the 7 weeks of load curve by the hour, the days before them by the day.
        production = await rows(hass, "production")
        curve_hours = (utc(2026, 3, 30, 22) - utc(2026, 2, 9, 23)) // timedelta(hours=1)
        assert (len(production), curve_hours) == (curve_hours + 3 * 365 - 49, 1175)
        assert production[max(production)][1] == total / 1000
        # A restart before then resumes at once, where it stood.
        await hass.config_entries.async_reload(entry.entry_id)
        await settled(hass)
        assert len(simulator.requests) == 11 + 98
        production = await rows(hass, "production")
        curve_hours = (utc(2026, 3, 30, 22) - utc(2024, 3, 30, 23)) // timedelta(hours=1)
        assert len(production) == curve_hours + 365
        assert production[max(production)][1] == total / 1000
        progress = hass.states.get("sensor.linky_12345678901234_history_import")
        assert progress is not None
        assert (progress.state, progress.attributes["requests"]) == ("100.0", 98)
        await hass.config_entries.async_unload(entry.entry_id)


def paris(day: date, hour: int) -> datetime:
    """Return the poll minute of an hour of a day in Paris, in UTC."""
    return datetime.combine(day, time(hour, MINUTE), PARIS).astimezone(UTC)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 1),
        # The spring change (02:00 becomes 03:00; 23 hours) and the autumn one (25 hours).
        date(2026, 3, 29),
        date(2026, 10, 25),
    ],
)
async def test_polls_through_a_day_until_yesterday_is_in(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    day: date,
) -> None:
    """A late day: polled hourly from 05:17 to 19:17, then the next morning, when it comes."""
    yesterday, tomorrow = day - timedelta(days=1), day + timedelta(days=1)
    # Set up the day before at 06:00, its yesterday in.
    freezer.move_to(datetime.combine(yesterday, time(6), PARIS))
    async with linky_service() as service:
        simulator = service.simulator
        # A meter put in a fortnight before: the polls are the same as with years of history.
        simulator.first_day = yesterday - timedelta(days=14)
        entry = linky_entry(measurement="consumption")
        await setup(hass, entry)
        runtime = entry.runtime_data.runtime
        assert runtime.next_poll == paris(day, 5)
        # 14 days by the hour; the spring change (23 hours) is among them before 1 April.
        assert len(await rows(hass, "consumption")) == 14 * 24 - (day == date(2026, 4, 1))
        before = await rows(hass, "consumption")
        count = len(simulator.requests)
        simulator.missing = {yesterday}
        polls = []
        while (when := runtime.next_poll) is not None and when < paris(tomorrow, 0):
            await move_to(hass, freezer, when)
            polls.append(when)
        # 05:17 to 19:17 Paris, then the next day's first poll is due.
        assert polls == [paris(day, hour) for hour in range(5, 20)]
        assert runtime.next_poll == paris(tomorrow, 5)
        # Each asked for yesterday: daily values, maximum power, load curve.
        assert len(simulator.requests) == count + 15 * 3
        period = f"start={yesterday}&end={day}"
        assert simulator.requests[-3:] == [
            f"/api/daily_consumption?prm={PRM}&{period}",
            f"/api/consumption_max_power?prm={PRM}&{period}",
            f"/api/consumption_load_curve?prm={PRM}&{period}",
        ]
        assert await rows(hass, "consumption") == before
        # The next morning both days come: the missed one is not lost.
        simulator.missing = set()
        await move_to(hass, freezer, paris(tomorrow, 5))
        period = f"start={yesterday}&end={tomorrow}"
        assert simulator.requests[-3:] == [
            f"/api/daily_consumption?prm={PRM}&{period}",
            f"/api/consumption_max_power?prm={PRM}&{period}",
            f"/api/consumption_load_curve?prm={PRM}&{period}",
        ]
        used = await rows(hass, "consumption")
        # Both days by the hour: 23, 24 or 25 of them each.
        hours = (paris(tomorrow, 0) - paris(yesterday, 0)) // timedelta(hours=1)
        assert len(used) == len(before) + hours
        assert max(used) == paris(tomorrow, 0) - timedelta(hours=1, minutes=MINUTE)
        came = simulator.daily_wh("consumption", yesterday) + simulator.daily_wh("consumption", day)
        assert used[max(used)][1] == round(before[max(before)][1] + came / 1000, 3)
        assert runtime.next_poll == paris(day + timedelta(days=2), 5)
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log("Linky data of")
async def test_a_server_error_is_tried_again_the_next_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    async with linky_service() as service:
        simulator = service.simulator
        simulator.first_day = TODAY - timedelta(days=14)
        entry = linky_entry(access="myelectricaldata", measurement="consumption")
        await setup(hass, entry)
        runtime = entry.runtime_data.runtime
        before = await rows(hass, "consumption")
        assert len(before) == 14 * 24 - 1  # the spring change on the 29th
        simulator.failures = [
            (500, {"error": "internal_server_error", "error_description": "Internal Server Error"})
        ]
        await move_to(hass, freezer, utc(2026, 4, 1, 3) + timedelta(minutes=MINUTE))
        assert simulator.requests[-1] == (
            f"/daily_consumption/{PRM}/start/2026-03-31/end/2026-04-01"
        )
        assert runtime.last_error == "Internal Server Error"
        assert runtime.next_poll == utc(2026, 4, 1, 4) + timedelta(minutes=MINUTE)
        poll = hass.states.get("sensor.linky_12345678901234_next_poll")
        assert poll is not None
        assert poll.attributes["last_error"] == "Internal Server Error"
        assert await rows(hass, "consumption") == before
        count = len(simulator.requests)
        await move_to(hass, freezer, utc(2026, 4, 1, 4) + timedelta(minutes=MINUTE))
        assert simulator.requests[count:] == [
            f"/daily_consumption/{PRM}/start/2026-03-31/end/2026-04-01",
            f"/daily_consumption_max_power/{PRM}/start/2026-03-31/end/2026-04-01",
            f"/consumption_load_curve/{PRM}/start/2026-03-31/end/2026-04-01",
        ]
        assert runtime.last_error is None
        assert runtime.next_poll == utc(2026, 4, 2, 3) + timedelta(minutes=MINUTE)
        used = await rows(hass, "consumption")
        assert len(used) == len(before) + 24
        came = simulator.daily_wh("consumption", TODAY) / 1000
        assert used[max(used)][1] == round(before[max(before)][1] + came, 3)
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log("Enedis has no data of")
async def test_missing_days_asked_for_again_or_reported(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    socket_enabled: None,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A day missing for two weeks is asked for at each poll; one missing longer is logged."""
    async with linky_service() as service:
        simulator = service.simulator
        simulator.missing = {date(2026, 3, 1), date(2026, 3, 25)}
        simulator.first_day = date(2026, 2, 1)
        entry = linky_entry(measurement="consumption")
        await setup(hass, entry)
        progress = hass.states.get("sensor.linky_12345678901234_history_import")
        assert progress is not None
        assert progress.attributes["missing_days"] == 2
        logged = [record.getMessage() for record in caplog.records]
        given_up = f"Enedis has no data of Linky {PRM} for 2026-03-01; not asked for again"
        assert [line for line in logged if "Enedis has no data" in line] == [given_up]
        # Yesterday is in: the next poll is tomorrow's, which asks from the 25th on.
        simulator.missing = set()
        count = len(simulator.requests)
        await move_to(hass, freezer, utc(2026, 4, 1, 3) + timedelta(minutes=MINUTE))
        assert simulator.requests[count:] == [
            f"/api/daily_consumption?prm={PRM}&start=2026-03-25&end=2026-04-01",
            f"/api/consumption_max_power?prm={PRM}&start=2026-03-25&end=2026-04-01",
            f"/api/consumption_load_curve?prm={PRM}&start=2026-03-25&end=2026-04-01",
        ]
        progress = hass.states.get("sensor.linky_12345678901234_history_import")
        assert progress is not None
        assert progress.attributes["missing_days"] == 1
        # The 25th filed by the hour, the sums after it carried on: all days but the 1st, exact.
        used = await rows(hass, "consumption")
        assert sum(utc(2026, 3, 24, 23) <= at < utc(2026, 3, 25, 23) for at in used) == 24
        days = [TODAY - timedelta(days=n) for n in range((TODAY - simulator.first_day).days + 1)]
        total = sum(simulator.daily_wh("consumption", day) for day in days)
        total -= simulator.daily_wh("consumption", date(2026, 3, 1))
        assert used[max(used)][1] == total / 1000
        # Logged once only.
        logged = [record.getMessage() for record in caplog.records]
        assert [line for line in logged if "Enedis has no data" in line] == [given_up]
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.allow_log("Enedis refuses the data")
async def test_revoked_consent_asks_for_a_new_token(
    recorder_mock: Recorder, hass: HomeAssistant, socket_enabled: None
) -> None:
    async with linky_service() as service:
        service.simulator.consent = False
        service.simulator.first_day = TODAY - timedelta(days=14)
        entry = linky_entry(measurement="consumption")
        await setup(hass, entry)
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert flow["context"]["source"] == "reauth"
        assert flow["step_id"] == "linky_reauth"
        service.simulator.consent = True
        result: Any = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"token": "wrong"}
        )
        assert result["errors"] == {"base": "invalid_token"}
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"token": entry.data["token"]}
        )
        assert (result["type"], result["reason"]) == ("abort", "reauth_successful")
        await settled(hass)
        assert entry.runtime_data.runtime.sync.history_complete
        await hass.config_entries.async_unload(entry.entry_id)


async def test_without_load_curve_days_and_a_repair(
    recorder_mock: Recorder, hass: HomeAssistant, socket_enabled: None
) -> None:
    async with linky_service() as service:
        service.simulator.load_curve_enabled = False
        entry = linky_entry(access="myelectricaldata", measurement="consumption")
        await setup(hass, entry)
        # 3 daily, 3 maximum power, 1 load curve refused.
        assert len(service.simulator.requests) == 7
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"linky_load_curve_disabled_{entry.entry_id}"
        )
        assert issue is not None
        assert issue.translation_placeholders == {"title": f"Linky {PRM}"}
        used = await rows(hass, "consumption")
        assert len(used) == 3 * 365
        # Local midnights: 23:00 UTC in winter, 22:00 in summer.
        assert utc(2026, 3, 29, 22) in used
        assert utc(2026, 3, 28, 23) in used
        assert entry.runtime_data.runtime.sync.complete(TODAY)
        await hass.config_entries.async_unload(entry.entry_id)
