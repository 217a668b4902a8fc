"""Seed a fresh development config with the simulator's meter and its history (scripts/develop).

The entry is built with Home Assistant's own ConfigEntry, so the stored format is
whatever the installed version expects. It has an energy contract, and its reading database
gets three weeks of the simulator's telegrams (every 15 minutes, decoded and stored as the
reader stores them), so the energy dashboard, set up here with the meter's long-term
statistics, shows history at the first start. The simulator then runs from the same start
(written to simulator_start), so its registers go on from the history's. The meter has an API
key to turn its API on with, as a meter added through the UI does, and the onboarding's location
step is done: configuration.yaml sets country, currency, units and time zone.

A Solar-Log plant of the simulated Enerest portal (python -m solarlog_simulator, which
scripts/develop runs) is seeded too: its history comes from the portal at the first start,
and the energy dashboard shows its solar production and battery.

With an Enedis port, a Linky meter too: its entry reads the simulated Enedis service
(enedis_simulator, which scripts/develop starts on that port) through the Conso API path, and its
history (three years of days, two of half hours, up to yesterday) is imported here as the
integration imports it, so Home Assistant starts with it; the Linky dashboard shows its card.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import sys
from types import MappingProxyType
from typing import Any

import aiohttp
from aiohttp import web
from homeassistant.components.energy.data import (
    STORAGE_KEY as ENERGY_KEY,
    STORAGE_MINOR_VERSION as ENERGY_MINOR_VERSION,
    STORAGE_VERSION as ENERGY_VERSION,
)
from homeassistant.components.onboarding import (
    STORAGE_KEY as ONBOARDING_KEY,
    STORAGE_VERSION as ONBOARDING_VERSION,
)
from homeassistant.components.onboarding.const import STEP_CORE_CONFIG
from homeassistant.config_entries import (
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import JSONEncoder, json_bytes
from homeassistant.util import dt as dt_util, ulid as ulid_util
import orjson

from custom_components.smartmeter.api.auth import generate_auth_key
from custom_components.smartmeter.const import CONF_API_ENABLED, CONF_API_KEY
from custom_components.smartmeter.enedis import (
    PARIS,
    ConsoApiClient,
    LinkySync,
    Measurement,
    MeterData,
)
from custom_components.smartmeter.kinds.solarlog.const import plant_device_id
from custom_components.smartmeter.meter.decode import TelegramDecoder
from custom_components.smartmeter.meter.dsmr_reading import to_dsmr_reading
from custom_components.smartmeter.meter.specifications import SPECIFICATIONS
from custom_components.smartmeter.statistic_metadata import statistic_object_id
from custom_components.smartmeter.store.store import ReadingStore
from enedis_simulator import CONSO_TOKEN, PRM, EnedisSimulator
from meter_simulator.simulator import METER_TIME, MeterSimulator
from solarlog_simulator import demo
from solarlog_simulator.portal import TOKEN_PATH

METER = "4B384547303034303436333935353037"
HISTORY = timedelta(weeks=3)
EVERY = timedelta(minutes=15)
CONTRACT = {
    "description": "Example contract",
    "start": "2020-01-01",
    "end": "2099-12-31",
    "electricity_delivered_1_price": "0.210000",
    "electricity_delivered_2_price": "0.250000",
    "gas_price": "1.300000",
    "electricity_returned_1_price": "0.070000",
    "electricity_returned_2_price": "0.090000",
    "fixed_daily_cost": "0.650000",
}


def _write_storage(storage: Path, key: str, version: int, minor: int, data: Any) -> None:
    document = {"version": version, "minor_version": minor, "key": key, "data": data}
    (storage / key).write_text(json.dumps(document, cls=JSONEncoder, indent=2))


def _seed_history(database: Path, template: bytes, start: datetime, now: datetime) -> int:
    """Store the simulator's telegrams from start to now; return how many."""
    simulator = MeterSimulator(template, start=start)
    decoder = TelegramDecoder(SPECIFICATIONS["5"], None)
    # Local days of the store's day statistics: the simulated meter's (Dutch) time.
    store = ReadingStore.open(f"sqlite:///{database}", time_zone=METER_TIME)
    stored = 0
    try:
        moment = start
        batch = []
        while moment <= now:
            telegram = decoder.decode(simulator.telegram_at(moment).decode("latin-1"))
            batch.append(to_dsmr_reading(telegram, now, decoder.specification)[0])
            moment += EVERY
            if len(batch) == 500 or moment > now:
                store.writer.submit(METER, batch).result()
                stored += len(batch)
                batch = []
    finally:
        store.close()
    return stored


def _phase_power_entities(entry_id: str) -> list[Any]:
    """Return the registry entries of the power per phase, enabled for the Smart meter dashboard.

    The integration creates them disabled, as most users need not record them.
    """
    entries = []
    for direction, code, key in (
        ("consumption", "positive", "power_consumption_phase"),
        ("production", "negative", "power_production_phase"),
    ):
        for phase in (1, 2, 3):
            name = f"Power {direction} phase L{phase}"
            entry = er.RegistryEntry(
                entity_id=f"sensor.electricity_meter_power_{direction}_phase_l{phase}",
                unique_id=f"{METER}_instantaneous_active_power_l{phase}_{code}",
                platform="smartmeter",
                config_entry_id=entry_id,
                config_subentry_id=None,
                capabilities={"state_class": "measurement"},
                created_at=dt_util.utcnow(),
                device_id=None,
                disabled_by=None,
                entity_category=None,
                has_entity_name=True,
                hidden_by=None,
                id=ulid_util.ulid_hex(),
                object_id_base=name,
                options={},
                original_device_class="power",
                original_icon=None,
                original_name=name,
                suggested_object_id=None,
                supported_features=0,
                translation_key=key,
                unit_of_measurement="W",
            )
            entries.append(orjson.loads(json_bytes(entry.as_storage_fragment)))
    return entries


def _solarlog_entry(port: int) -> ConfigEntry:
    """Return the demo portal's plant, as the Solar-Log flow saves it, on the portal's port."""
    url = f"http://127.0.0.1:{port}"
    return ConfigEntry(
        data={
            "kind": "solarlog",
            "portal": demo.PORTAL,
            "client_id": demo.CLIENT_ID,
            "client_secret": demo.CLIENT_SECRET,
            "plant_id": demo.PLANT_ID,
            "api_url": url,
            "token_url": f"{url}{TOKEN_PATH}",
        },
        discovery_keys=MappingProxyType({}),
        domain="smartmeter",
        minor_version=3,
        options={},
        source="user",
        subentries_data=[],
        title="Demo plant",
        unique_id=demo.PLANT_ID,
        version=1,
    )


def _energy_preferences(object_id: str, plant_object_id: str) -> dict[str, Any]:
    """Return the energy dashboard set up with the meter's and the plant's statistics."""
    prefix = f"smartmeter:{object_id}"
    plant = f"smartmeter:{plant_object_id}"
    grid = [
        {
            "type": "grid",
            "name": f"Tariff {tariff}",
            "stat_energy_from": f"{prefix}_energy_delivered_{tariff}",
            "stat_energy_to": f"{prefix}_energy_returned_{tariff}",
            "stat_cost": f"{prefix}_energy_delivered_{tariff}_cost",
            "entity_energy_price": None,
            "number_energy_price": None,
            "stat_compensation": f"{prefix}_energy_returned_{tariff}_compensation",
            "entity_energy_price_export": None,
            "number_energy_price_export": None,
            "cost_adjustment_day": 0.0,
        }
        for tariff in (1, 2)
    ]
    gas = {
        "type": "gas",
        "stat_energy_from": f"{prefix}_gas",
        "stat_cost": f"{prefix}_gas_cost",
        "entity_energy_price": None,
        "number_energy_price": None,
    }
    solar = {
        "type": "solar",
        "stat_energy_from": f"{plant}_solar_production",
        "config_entry_solar_forecast": None,
    }
    battery = {
        "type": "battery",
        "stat_energy_from": f"{plant}_battery_discharged",
        "stat_energy_to": f"{plant}_battery_charged",
    }
    return {
        "energy_sources": [*grid, gas, solar, battery],
        "device_consumption": [],
        "device_consumption_water": [],
    }


async def _linky_history() -> MeterData:
    """Import the simulated Linky meter's history, as the integration does, from today back."""
    simulator = EnedisSimulator()
    runner = web.AppRunner(simulator.application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    async def no_pause() -> None:
        """Go on at once: the simulator has no rate limit."""

    try:
        async with aiohttp.ClientSession() as session:
            client = ConsoApiClient(session, PRM, CONSO_TOKEN, f"http://127.0.0.1:{port}")
            measurements = (Measurement.CONSUMPTION, Measurement.PRODUCTION)
            sync = LinkySync(client, measurements, MeterData(), no_pause)
            await sync.import_history(datetime.now(PARIS).date(), lambda day: None)
            return sync.data
    finally:
        await runner.cleanup()


def _linky_entry(storage: Path, enedis_port: int) -> ConfigEntry:
    """Return the Linky meter's entry; store its history where the integration keeps it."""
    entry = ConfigEntry(
        data={
            "kind": "linky",
            "access": "conso_api",
            "service_url": f"http://127.0.0.1:{enedis_port}",
            "prm": PRM,
            "measurement": "both",
            "token": CONSO_TOKEN,
        },
        discovery_keys=MappingProxyType({}),
        domain="smartmeter",
        minor_version=3,
        options={"poll_minute": 17},
        source="user",
        subentries_data=None,
        title=f"Linky {PRM}",
        unique_id=PRM,
        version=1,
    )
    history = asyncio.run(_linky_history())
    _write_storage(storage, f"smartmeter.{entry.entry_id}.linky", 1, 1, history.to_json())
    return entry


def meter_entry(port: int, title: str, options: dict[str, Any]) -> ConfigEntry:
    """Return the entry of a DSMR 5 meter on localhost's port, with the energy contract."""
    return ConfigEntry(
        data={
            "connection_type": "network",
            "host": "127.0.0.1",
            "port": port,
            "specification": "5",
        },
        discovery_keys=MappingProxyType({}),
        domain="smartmeter",
        minor_version=1,
        options=options,
        source="user",
        subentries_data=[
            {
                "data": CONTRACT,
                "subentry_type": "energy_contract",
                "title": CONTRACT["description"],
                "unique_id": None,
            }
        ],
        title=title,
        unique_id=METER,
        version=1,
    )


def main(
    config: Path, port: int, template: Path, solarlog_port: int, enedis_port: int | None = None
) -> None:
    """Write the meter's entry, its history and the energy dashboard; and the simulator's start.

    The Solar-Log plant's entry reads the simulated portal on solarlog_port; with enedis_port,
    the Linky meter's entry and history too.
    """
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - HISTORY
    entry = meter_entry(
        port,
        "Simulated meter",
        {CONF_API_ENABLED: False, CONF_API_KEY: generate_auth_key()},
    )
    plant = _solarlog_entry(solarlog_port)
    storage = config / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (config / "simulator_start").write_text(start.isoformat())
    database = config.resolve() / f"smartmeter_{entry.entry_id}.db"
    stored = _seed_history(database, template.read_bytes(), start, now)
    entries = [entry.as_dict(), plant.as_dict()]
    if enedis_port is not None:
        entries.append(_linky_entry(storage, enedis_port).as_dict())
    _write_storage(
        storage, STORAGE_KEY, STORAGE_VERSION, STORAGE_VERSION_MINOR, {"entries": entries}
    )
    _write_storage(
        storage,
        er.STORAGE_KEY,
        er.STORAGE_VERSION_MAJOR,
        er.STORAGE_VERSION_MINOR,
        {
            "entities": _phase_power_entities(entry.entry_id),
            "deleted_entities": [],
            "settings": {"entity_id_parts": None},
        },
    )
    _write_storage(storage, ONBOARDING_KEY, ONBOARDING_VERSION, 1, {"done": [STEP_CORE_CONFIG]})
    _write_storage(
        storage,
        ENERGY_KEY,
        ENERGY_VERSION,
        ENERGY_MINOR_VERSION,
        _energy_preferences(
            statistic_object_id(METER), statistic_object_id(plant_device_id(demo.PLANT_ID))
        ),
    )
    print(
        f"Seeded {storage / STORAGE_KEY} with the simulated meter on port {port}, "
        f"{stored} readings since {start:%Y-%m-%d %H:%M} UTC, the Solar-Log plant of the "
        f"portal on port {solarlog_port} and the energy dashboard"
    )


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        int(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
        int(sys.argv[5]) if len(sys.argv) > 5 else None,
    )
