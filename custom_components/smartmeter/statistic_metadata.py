"""What the recorder is told of a meter's statistics: their ids, names and units."""

from __future__ import annotations

from homeassistant.components.recorder.models import StatisticMeanType, StatisticMetaData
from homeassistant.const import UnitOfEnergy, UnitOfVolume
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.unit_conversion import EnergyConverter, VolumeConverter

from .const import DOMAIN
from .longterm import Series


async def async_statistic_names(hass: HomeAssistant) -> dict[str, str]:
    """Return each series' name in Home Assistant's language, by key, {title} for the meter's."""
    prefix = f"component.{DOMAIN}.statistics."
    translations = await async_get_translations(hass, hass.config.language, "statistics", {DOMAIN})
    return {
        key.removeprefix(prefix).removesuffix(".name"): name for key, name in translations.items()
    }


def statistic_object_id(meter_id: str) -> str:
    """Return the meter's part of its statistic ids: lowercase letters, digits and single _."""
    cleaned = "".join(char if char.isascii() and char.isalnum() else "_" for char in meter_id)
    parts = [part for part in cleaned.lower().split("_") if part]
    return "_".join(parts) or "meter"


def series_metadata(
    series: Series, *, statistic_id: str, name: str, currency: str
) -> StatisticMetaData:
    """Return the metadata of a series: a sum in kWh, m³, GJ or the currency."""
    unit_class: str | None
    unit: str
    if series.kind == "energy":
        unit_class, unit = EnergyConverter.UNIT_CLASS, UnitOfEnergy.KILO_WATT_HOUR
    elif series.kind in ("gas", "water"):
        unit_class, unit = VolumeConverter.UNIT_CLASS, UnitOfVolume.CUBIC_METERS
    elif series.kind == "heat":
        unit_class, unit = EnergyConverter.UNIT_CLASS, UnitOfEnergy.GIGA_JOULE
    else:
        unit_class, unit = None, currency
    return StatisticMetaData(
        mean_type=StatisticMeanType.NONE,
        has_sum=True,
        name=name,
        source=DOMAIN,
        statistic_id=statistic_id,
        unit_class=unit_class,
        unit_of_measurement=unit,
    )
