"""Energy contracts: config subentries of a meter, handed to the store as its prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.smartmeter.store.records import (
    EnergySupplierPrice,
    StoredEnergySupplierPrice,
)
from custom_components.smartmeter.subentries.contract.contracts import entry_contracts
from tests.common import network_entry, setup_entry
from tests.meters import TcpMeter

CONTRACT: dict[str, Any] = {
    "description": "Vattenfall 2026",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "electricity_delivered_1_price": 0.21,
    "electricity_delivered_2_price": 0.25,
    "gas_price": 1.3,
    "electricity_returned_1_price": 0.07,
    "electricity_returned_2_price": 0.09,
    "fixed_daily_cost": -0.123456,
}


async def add_contract(hass: HomeAssistant, entry_id: str, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry_id, "energy_contract"), context={"source": SOURCE_USER}
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "user")
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()  # the reload a new contract causes
    return result


async def test_add_and_change_a_contract(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)

    result = await add_contract(hass, entry.entry_id, CONTRACT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Vattenfall 2026"
    (subentry,) = entry.subentries.values()
    assert dict(subentry.data) == {
        "description": "Vattenfall 2026",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "electricity_delivered_1_price": "0.210000",
        "electricity_delivered_2_price": "0.250000",
        "gas_price": "1.300000",
        "electricity_returned_1_price": "0.070000",
        "electricity_returned_2_price": "0.090000",
        "fixed_daily_cost": "-0.123456",
    }

    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    # Prices in Home Assistant's currency, per kWh or m³.
    units = {
        str(key): field.config.get("unit_of_measurement")
        for key, field in result["data_schema"].schema.items()
    }
    assert units == {
        "description": None,
        "start": None,
        "end": None,
        "electricity_delivered_1_price": "EUR/kWh",
        "electricity_delivered_2_price": "EUR/kWh",
        "gas_price": "EUR/m³",
        "electricity_returned_1_price": "EUR/kWh",
        "electricity_returned_2_price": "EUR/kWh",
        "fixed_daily_cost": "EUR",
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CONTRACT, "description": "", "end": "2027-06-30", "gas_price": 1.25}
    )
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "reconfigure_successful")
    await hass.async_block_till_done()
    (subentry,) = entry.subentries.values()
    assert subentry.title == "2026-01-01 - 2027-06-30"
    assert entry_contracts(entry) == [
        EnergySupplierPrice(
            start=date(2026, 1, 1),
            end=date(2027, 6, 30),
            description="",
            electricity_delivered_1_price=Decimal("0.210000"),
            electricity_delivered_2_price=Decimal("0.250000"),
            gas_price=Decimal("1.250000"),
            electricity_returned_1_price=Decimal("0.070000"),
            electricity_returned_2_price=Decimal("0.090000"),
            fixed_daily_cost=Decimal("-0.123456"),
        )
    ]
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"end": "2025-12-31"}, {"end": "end_before_start"}),
        ({"gas_price": 1.0000001}, {"gas_price": "invalid_price"}),
        ({"gas_price": -0.01}, {"gas_price": "invalid_price"}),
        ({"fixed_daily_cost": 100000}, {"fixed_daily_cost": "invalid_price"}),
    ],
)
async def test_contract_errors(
    hass: HomeAssistant, tcp_meter: TcpMeter, change: dict[str, Any], errors: dict[str, str]
) -> None:
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    result = await add_contract(hass, entry.entry_id, {**CONTRACT, **change})
    assert (result["type"], result["errors"]) == (FlowResultType.FORM, errors)
    assert not entry.subentries
    # Corrected, it is saved.
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], CONTRACT)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(entry.subentries) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_contracts_reach_the_store(hass: HomeAssistant, tcp_meter: TcpMeter) -> None:
    """Adding a contract reloads the meter, whose store then prices with it."""
    entry = network_entry(tcp_meter.port)
    await setup_entry(hass, entry)
    store = entry.runtime_data.store
    meter = entry.runtime_data.meter_id
    assert await hass.async_add_executor_job(store.day_prices, meter, date(2026, 3, 1)) is None

    await add_contract(hass, entry.entry_id, CONTRACT)
    assert entry.runtime_data.store is not store  # reloaded
    store = entry.runtime_data.store
    prices = await hass.async_add_executor_job(store.day_prices, meter, date(2026, 3, 1))
    assert prices == entry_contracts(entry)[0]
    count, stored = await hass.async_add_executor_job(
        lambda: store.list_records(StoredEnergySupplierPrice, meter)
    )
    assert (count, [contract.gas_price for contract in stored]) == (1, [Decimal("1.300000")])
    await hass.config_entries.async_unload(entry.entry_id)
