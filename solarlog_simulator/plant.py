"""A simulated PV plant: its components by epoch and its values at 5-minute resolution.

Values follow closed-form daily curves (production after the sun, a household's use, a
battery between them), so any moment's value is computed directly and a month or a year of
history costs no more than its days. A test can set exact points (overrides), hold back the
logger's transfer (late data) and add epochs (a replaced inverter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from hashlib import blake2b
import math
from typing import Final
from zoneinfo import ZoneInfo

SLOT: Final = timedelta(minutes=5)
PLANT_TIME: Final = ZoneInfo("Europe/Amsterdam")
SLOTS_PER_HOUR: Final = 12

# Plant-level channels and their units; energies per slot.
PLANT_UNITS: Final[Mapping[str, str]] = {
    "ProdPac": "W",
    "ProdEtotal": "Wh",
    "ConsPac": "W",
    "ConsEtotal": "Wh",
    "BatPcharge": "W",
    "BatPdischarge": "W",
    "BatEcharge": "Wh",
    "BatEdischarge": "Wh",
    "BatSoc": "%",
}
COMPONENT_UNITS: Final[Mapping[str, str]] = {
    **PLANT_UNITS,
    "ProdPdc": "W",
    "ProdUdc": "V",
    "ProdIdc": "A",
    "Irradiation": "W/m²",
    "Insolation": "Wh/m²",
    "TempModule": "°C",
}
ENERGY_OF: Final[Mapping[str, str]] = {
    "ProdEtotal": "ProdPac",
    "ConsEtotal": "ConsPac",
    "BatEcharge": "BatPcharge",
    "BatEdischarge": "BatPdischarge",
}
BATTERY_CHANNELS: Final = frozenset(
    {"BatPcharge", "BatPdischarge", "BatEcharge", "BatEdischarge", "BatSoc"}
)
CONSUMPTION_CHANNELS: Final = frozenset({"ConsPac", "ConsEtotal"})


@dataclass
class SimulatedTracker:
    """An MPP tracker of an inverter: an id per epoch, an index that stays."""

    id: str
    index: int


@dataclass
class SimulatedComponent:
    """A component of an epoch: its id of the epoch and its cross-epoch id."""

    id: str
    cross_epoch_id: str
    type: str
    name: str
    classes: tuple[str, ...]
    # The share of the plant's production (inverters) it makes.
    share: Decimal = Decimal(1)
    trackers: list[SimulatedTracker] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """Return it as the components call describes a component."""
        return {
            "id": self.id,
            "crossEpochId": self.cross_epoch_id,
            "type": self.type,
            "name": self.name,
            "classes": list(self.classes),
            "mpptrackers": [
                {
                    "id": tracker.id,
                    "trackerindex": tracker.index,
                    "size": 4900,
                    "name": f"MPP {tracker.index}",
                    "moduleField": None,
                    "visualizationChannels": ["ProdPdc", "ProdUdc", "ProdIdc"],
                }
                for tracker in self.trackers
            ],
            "moduleStrings": [],
            "moduleField": None,
            "errorDetectionSettings": {},
            "componentstatuserrors": list(self.errors),
        }


@dataclass
class Epoch:
    """A configuration of the plant, from its first day on."""

    start: date
    components: list[SimulatedComponent]


def _fraction(*parts: object) -> float:
    """Return a number in [0, 1) that the parts always give (a day's weather, say)."""
    digest = blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def default_components(plant_id: str, tag: str = "1") -> list[SimulatedComponent]:
    """Return two inverters (two MPP trackers each), a meter, a battery and a sensor."""
    short = plant_id[:8]
    return [
        SimulatedComponent(
            id=f"{short}-wr1-epoch{tag}",
            cross_epoch_id=f"{short}-x-wr1",
            type="Inverter",
            name="WR 1",
            classes=("production",),
            share=Decimal("0.6"),
            trackers=[
                SimulatedTracker(f"{short}-wr1-mpp{index}-epoch{tag}", index) for index in (1, 2)
            ],
        ),
        SimulatedComponent(
            id=f"{short}-wr2-epoch{tag}",
            cross_epoch_id=f"{short}-x-wr2",
            type="Inverter",
            name="WR 2",
            classes=("production",),
            share=Decimal("0.4"),
            trackers=[
                SimulatedTracker(f"{short}-wr2-mpp{index}-epoch{tag}", index) for index in (1, 2)
            ],
        ),
        SimulatedComponent(
            id=f"{short}-meter-epoch{tag}",
            cross_epoch_id=f"{short}-x-meter",
            type="Meter",
            name="Consumption meter",
            classes=("consumption", "meter"),
        ),
        SimulatedComponent(
            id=f"{short}-battery-epoch{tag}",
            cross_epoch_id=f"{short}-x-battery",
            type="Battery",
            name="Battery",
            classes=("battery",),
        ),
        SimulatedComponent(
            id=f"{short}-sensor-epoch{tag}",
            cross_epoch_id=f"{short}-x-sensor",
            type="Sensor",
            name="Irradiation sensor",
            classes=("sensors",),
        ),
        SimulatedComponent(
            id=f"{short}-intern-epoch{tag}",
            cross_epoch_id=f"{short}-x-intern",
            type="SolarLogIntern",
            name="Solar-Log",
            classes=("hidden", "intern"),
        ),
    ]


class SimulatedPlant:
    """A plant's information, epochs and values; everything on the given clock."""

    def __init__(
        self,
        plant_id: str,
        *,
        installed: date,
        label: str = "2x Inverter, 1x Battery, 1x Meter, 1x Sensor",
        size_w: int = 9800,
        zone: tzinfo = PLANT_TIME,
        battery: bool = True,
        consumption: bool = True,
    ) -> None:
        """Set the plant up, its first epoch from installed on."""
        self.id = plant_id
        self.installed = installed
        self.label = label
        self.size_w = size_w
        self.zone = zone
        self.battery = battery
        self.consumption = consumption
        self.epochs = [Epoch(installed, default_components(plant_id))]
        # Exact points a test sets, by channel and device (None: the plant): slot start (UTC)
        # to value (None: null).
        self.overrides: dict[tuple[str, str | None], dict[datetime, Decimal | None]] = {}
        # When set, the logger has transferred nothing after this moment (late data).
        self.held_until: datetime | None = None
        self.transfer_type = "HTTP"

    def channels(self) -> list[str]:
        """Return the plant-level channels this plant has."""
        return [
            channel
            for channel in PLANT_UNITS
            if (self.battery or channel not in BATTERY_CHANNELS)
            and (self.consumption or channel not in CONSUMPTION_CHANNELS)
        ]

    def epoch(self, day: date) -> Epoch:
        """Return the epoch a day belongs to."""
        return [epoch for epoch in self.epochs if epoch.start <= day][-1]

    def add_epoch(self, start: date, components: list[SimulatedComponent]) -> None:
        """Reconfigure the plant from a day on (new component ids, same cross-epoch ids)."""
        self.epochs.append(Epoch(start, components))
        self.epochs.sort(key=lambda epoch: epoch.start)

    def transferred_until(self, now: datetime) -> datetime:
        """Return the end of the last 5-minute slot the logger has transferred."""
        until = now if self.held_until is None else min(now, self.held_until)
        seconds = int(until.timestamp())
        return datetime.fromtimestamp(seconds - seconds % 300, UTC)

    def slots(self, day: date) -> list[datetime]:
        """Return the starts of a local day's 5-minute slots (UTC), 92 to 100 hours' worth."""
        start = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)
        return [start + SLOT * index for index in range(int((end - start) / SLOT))]

    def value(self, channel: str, device: str | None, slot: datetime) -> Decimal | None:
        """Return a channel's value of a device (None: the plant) in a slot (its UTC start)."""
        overridden = self.overrides.get((channel, device))
        if overridden is not None and slot in overridden:
            return overridden[slot]
        if (energy_of := ENERGY_OF.get(channel)) is not None:
            power = self.value(energy_of, device, slot)
            return None if power is None else (power / SLOTS_PER_HOUR).quantize(Decimal("0.1"))
        return _curve(self, channel, device, slot)

    def day_energy(self, channel: str, day: date, until: datetime) -> Decimal | None:
        """Return a plant-level energy channel's energy of a local day up to until."""
        if day < self.installed:
            return None
        if day < until.astimezone(self.zone).date() and not self.overrides:
            return _whole_day(self, channel, day)
        values = [
            self.value(channel, None, slot) for slot in self.slots(day) if slot + SLOT <= until
        ]
        return sum((value for value in values if value is not None), Decimal(0))


@lru_cache(maxsize=4096)
def _whole_day(plant: SimulatedPlant, channel: str, day: date) -> Decimal:
    return sum(
        (
            value
            for slot in plant.slots(day)
            if (value := plant.value(channel, None, slot)) is not None
        ),
        Decimal(0),
    )


def _local_hours(plant: SimulatedPlant, slot: datetime) -> float:
    """Return the middle of the slot in hours since local midnight (winter time: the sun's)."""
    middle = slot + SLOT / 2
    standard = middle.astimezone(plant.zone)
    offset = standard.dst() or timedelta(0)
    local = standard - offset
    return local.hour + local.minute / 60 + local.second / 3600


def _plant_power(plant: SimulatedPlant, channel: str, slot: datetime) -> float:
    hours = _local_hours(plant, slot)
    day = (slot + SLOT / 2).astimezone(plant.zone).date()
    # Longer days in summer: the sun is up from 12 - half to 12 + half.
    half = 4.5 + 3.5 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
    sun = math.cos(math.pi * (hours - 13) / (2 * half)) if abs(hours - 13) < half else 0.0
    weather = 0.35 + 0.65 * _fraction(plant.id, day)
    production: float = plant.size_w * 0.8 * weather * sun**1.4
    use: float = (
        250
        + 900 * math.exp(-(((hours - 19) / 1.5) ** 2))
        + 500 * math.exp(-(((hours - 7.5) / 0.8) ** 2))
        + 150 * _fraction(plant.id, slot)
    )
    surplus = production - use
    match channel:
        case "ProdPac":
            return production
        case "ConsPac":
            return use
        case "BatPcharge":
            return min(max(surplus, 0.0), 3000.0)
        case "BatPdischarge":
            return min(max(-surplus, 0.0), 2500.0)
        case _:  # BatSoc: filled over the day, emptied over the evening and night
            return 10 + 85 * min(max((hours - 9) / 6, 0.0), 1.0) * (
                1 - min(max((hours - 18) / 12, 0.0), 1.0) if hours >= 18 else 1
            )


def _curve(plant: SimulatedPlant, channel: str, device: str | None, slot: datetime) -> Decimal:
    """Return the simulated value of a channel; a component's from the plant's."""
    if device is None or (channel in PLANT_UNITS and channel != "ProdPac"):
        return Decimal(round(_plant_power(plant, channel, slot)))
    component, tracker = _owner(plant, device, slot)
    production = _plant_power(plant, "ProdPac", slot) * float(component.share)
    if tracker is not None:
        production /= max(len(component.trackers), 1)
    dc = production * 1.03
    match channel:
        case "ProdPac":
            value = production
        case "ProdPdc":
            value = dc
        case "ProdUdc":
            value = 350.0 if dc > 0 else 0.0
        case "ProdIdc":
            return Decimal(round(dc / 350, 2)).quantize(Decimal("0.01"))
        case "Irradiation":
            value = _plant_power(plant, "ProdPac", slot) / plant.size_w / 0.8 * 1000
        case "Insolation":
            value = _plant_power(plant, "ProdPac", slot) / plant.size_w / 0.8 * 1000 / 12
        case "TempModule":
            return Decimal(round(12 + 30 * dc / plant.size_w, 1)).quantize(Decimal("0.1"))
        case _:
            value = 0.0
    return Decimal(round(value))


def _owner(
    plant: SimulatedPlant, device: str, slot: datetime
) -> tuple[SimulatedComponent, SimulatedTracker | None]:
    """Return the component (and tracker) a device id names, in any epoch."""
    for epoch in reversed(plant.epochs):
        for component in epoch.components:
            if device in (component.id, component.cross_epoch_id):
                return component, None
            for tracker in component.trackers:
                if tracker.id == device:
                    return component, tracker
    raise KeyError(device)
