"""Energy contracts (DSMR-reader's energy supplier prices): their data, and the store's copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry

from ...store.records import EnergySupplierPrice, StoredEnergySupplierPrice
from ...store.store import ReadingStore

SUBENTRY_ENERGY_CONTRACT: Final = "energy_contract"

CONF_DESCRIPTION: Final = "description"
CONF_START: Final = "start"
CONF_END: Final = "end"
# The contract's money fields, in DSMR-reader's order; only the fixed cost may be negative.
PRICE_FIELDS: Final = (
    "electricity_delivered_1_price",
    "electricity_delivered_2_price",
    "gas_price",
    "electricity_returned_1_price",
    "electricity_returned_2_price",
)
FIXED_DAILY_COST: Final = "fixed_daily_cost"
_PLACES: Final = Decimal("0.000001")
_LIMIT: Final = Decimal(100_000)  # decimal(11, 6): five digits before the point


class InvalidContract(ValueError):
    """A contract form that cannot be saved; ``args[0]`` is (field, error key)."""


def contract_data(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Return what a subentry keeps of a contract form: exact decimal strings and ISO dates.

    Raises InvalidContract with the field and the error's translation key.
    """
    start = date.fromisoformat(user_input[CONF_START])
    end = date.fromisoformat(user_input[CONF_END])
    if end < start:
        raise InvalidContract((CONF_END, "end_before_start"))
    data = {
        CONF_DESCRIPTION: str(user_input.get(CONF_DESCRIPTION, "")).strip(),
        CONF_START: start.isoformat(),
        CONF_END: end.isoformat(),
    }
    for name in (*PRICE_FIELDS, FIXED_DAILY_COST):
        try:
            # Through str: the form's float 0.21 is meant as 0.21, not its binary neighbour.
            value = Decimal(str(user_input.get(name, 0)))
            exact = value.quantize(_PLACES)
        except InvalidOperation as err:
            raise InvalidContract((name, "invalid_price")) from err
        if exact != value or abs(exact) >= _LIMIT or (name != FIXED_DAILY_COST and exact < 0):
            raise InvalidContract((name, "invalid_price"))
        data[name] = str(exact)
    return data


def contract_form_values(data: Mapping[str, str]) -> dict[str, Any]:
    """Return a saved contract as its form shows it: money as numbers."""
    money = {name: float(data[name]) for name in (*PRICE_FIELDS, FIXED_DAILY_COST)}
    return {**data, **money}


def contract_title(data: Mapping[str, str]) -> str:
    """Name a contract after its description, else after its dates."""
    return data[CONF_DESCRIPTION] or f"{data[CONF_START]} - {data[CONF_END]}"


def entry_contracts(entry: ConfigEntry) -> list[EnergySupplierPrice]:
    """Return the energy contracts of an entry, by start date."""
    contracts = [
        EnergySupplierPrice(
            start=date.fromisoformat(subentry.data[CONF_START]),
            end=date.fromisoformat(subentry.data[CONF_END]),
            description=subentry.data[CONF_DESCRIPTION],
            **{name: Decimal(subentry.data[name]) for name in (*PRICE_FIELDS, FIXED_DAILY_COST)},
        )
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_ENERGY_CONTRACT
    ]
    return sorted(contracts, key=lambda contract: (contract.start, contract.end))


def sync_contracts(
    store: ReadingStore, meter: str, contracts: Sequence[EnergySupplierPrice]
) -> None:
    """Give the store a meter's contracts unless it has them: a change recomputes costs."""
    count, stored = store.list_records(
        StoredEnergySupplierPrice,
        meter,
        ordering=(("start", False), ("end", False)),
        limit=len(contracts) + 1,
    )
    names = [field.name for field in fields(EnergySupplierPrice)]
    if count != len(contracts) or [
        EnergySupplierPrice(**{name: getattr(contract, name) for name in names})
        for contract in stored
    ] != list(contracts):
        store.replace_prices(meter, contracts)
