"""Where the Enerest API is and what its calls look like: what the documentation leaves open.

Solar-Log's wiki documents the base URL, the portal segment, the administration calls, the
components of a day and the cross-epoch channel call ("Epochs and CrossEpochs"). Everything
else is taken from the open-source client robinp7720/solarlog-enerest or assumed, and kept
here, in one place, so that it is changed here alone once confirmed. Open questions:

1. The token request (the wiki's page on authentication could not be read): a Keycloak
   client-credentials grant at auth.enerest.world, realm ``quotaapi``, form-encoded, as the
   open-source client does. Tokens are renewed before ``expires_in`` runs out and after a 401.
2. The Basic package's plant-level "total values" calls: taken to be the visualization calls
   without component ids (a range of days at 5-minute resolution, a month's days, a year's
   months, the lifetime's years), the calls the open-source client makes.
3. The channel names of plant-level production, consumption and battery values: ``ProdPac``
   (AC power) and ``ProdEtotal`` (energy) are seen in the wiki and the client; the
   consumption and battery names below are assumed by analogy.
4. What a data point holds: a power channel's the average power of its 5-minute slot, an
   energy channel's the energy of its period (a 5-minute slot, a day, a month, a year), in
   the series' own unit; a point's time is the start of its period.
5. Which id a series' ``deviceId`` carries (the component's id of the epoch or its
   cross-epoch id): both are looked up.
6. The plant KPI call and its answer (assumed: a list of name, value and unit).
7. The fields of a component's status errors (``componentstatuserrors``), the component
   events (several names are read for the code, text and start).
8. MPP trackers are asked for by their id of the epoch (the wiki: no cross-epoch ids); the
   inverter strings' values have no documented call and are not read.
9. Rate limits and error bodies are not documented: 401 is taken as an expired token or
   wrong credentials, 403 as a call outside the package (or a plant not assigned), 404 as an
   unknown plant, 429 and 5xx as try again later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

# The documented base URL, "the same for every user".
API_URL: Final = "https://api.enerest.world"
# [client] The open-source client's token endpoint (a Keycloak realm).
TOKEN_URL: Final = "https://auth.enerest.world/auth/realms/quotaapi/protocol/openid-connect/token"
GRANT_TYPE: Final = "client_credentials"

type Params = list[tuple[str, str]]


def token_form(client_id: str, client_secret: str) -> dict[str, str]:
    """Return the form of the token request [client]."""
    return {"grant_type": GRANT_TYPE, "client_id": client_id, "client_secret": client_secret}


def _root(portal: str) -> str:
    return f"/api/v1/{portal}"


def plants_path(portal: str) -> str:
    """Return the path of the user's plants (the wiki: "currently in development")."""
    return f"{_root(portal)}/administration/plants"


def plant_path(portal: str, plant_id: str) -> str:
    """Return the path of a plant's information (singular ``plant``, as documented)."""
    return f"{_root(portal)}/administration/plant/{plant_id}"


def components_path(portal: str, plant_id: str, day: date) -> str:
    """Return the path of the components of a plant's epoch on a day (documented)."""
    return f"{_root(portal)}/datasource/plant/{plant_id}/components/{day.isoformat()}"


def plant_channels_path(portal: str, plant_id: str) -> str:
    """Return the path of plant-level (or MPP tracker) series of a range of days [client]."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/channels"


def cross_epoch_channels_path(portal: str, plant_id: str) -> str:
    """Return the path of components' series by cross-epoch id (documented; Advanced)."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/cross-epoch/channels"


def month_path(portal: str, plant_id: str, year: int, month: int) -> str:
    """Return the path of a month's daily values [client]."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/year/{year}/month/{month}"


def year_path(portal: str, plant_id: str, year: int) -> str:
    """Return the path of a year's monthly values [client]."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/year/{year}"


def lifetime_path(portal: str, plant_id: str) -> str:
    """Return the path of the yearly values of the plant's lifetime [client]."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/lifetime"


def kpis_path(portal: str, plant_id: str) -> str:
    """Return the path of a plant's KPIs [unverified: assumed; Advanced]."""
    return f"{_root(portal)}/visualization/plant/{plant_id}/kpis"


def channel_params(channels: Iterable[str]) -> Params:
    """Return the repeated channelNames[] parameters."""
    return [("channelNames[]", channel) for channel in channels]


def range_params(date_from: date, date_to: date) -> Params:
    """Return the dateFrom and dateTo parameters (days, both included)."""
    return [("dateFrom", date_from.isoformat()), ("dateTo", date_to.isoformat())]


def component_params(cross_epoch_ids: Iterable[str]) -> Params:
    """Return the repeated xComponentIds[] parameters (documented)."""
    return [("xComponentIds[]", cross_epoch_id) for cross_epoch_id in cross_epoch_ids]


def tracker_params(tracker_ids: Iterable[str]) -> Params:
    """Return the repeated mppTrackerIds[] parameters [client]."""
    return [("mppTrackerIds[]", tracker_id) for tracker_id in tracker_ids]


# Plant-level channels. Power in W (5-minute averages); energy per period.
PRODUCTION_POWER: Final = "ProdPac"  # documented (wiki example)
PRODUCTION_ENERGY: Final = "ProdEtotal"  # [client]
CONSUMPTION_POWER: Final = "ConsPac"  # [unverified]
CONSUMPTION_ENERGY: Final = "ConsEtotal"  # [unverified]
BATTERY_CHARGE_POWER: Final = "BatPcharge"  # [unverified]
BATTERY_DISCHARGE_POWER: Final = "BatPdischarge"  # [unverified]
BATTERY_CHARGED_ENERGY: Final = "BatEcharge"  # [unverified]
BATTERY_DISCHARGED_ENERGY: Final = "BatEdischarge"  # [unverified]
BATTERY_LEVEL: Final = "BatSoc"  # [unverified] state of charge, %

PLANT_POWER_CHANNELS: Final = (
    PRODUCTION_POWER,
    CONSUMPTION_POWER,
    BATTERY_CHARGE_POWER,
    BATTERY_DISCHARGE_POWER,
)
PLANT_ENERGY_CHANNELS: Final = (
    PRODUCTION_ENERGY,
    CONSUMPTION_ENERGY,
    BATTERY_CHARGED_ENERGY,
    BATTERY_DISCHARGED_ENERGY,
)
PLANT_LEVEL_CHANNELS: Final = (*PLANT_POWER_CHANNELS, *PLANT_ENERGY_CHANNELS, BATTERY_LEVEL)

# Component kinds (from a component's type, else its classes) and the channels read of each
# (Advanced). Types other than "Inverter", and these channel names, are [unverified] but for
# ProdPac, ProdPdc, ProdEtotal, Irradiation, TempModule and Insolation, which the wiki and the
# client show.
INVERTER: Final = "inverter"
METER: Final = "meter"
BATTERY: Final = "battery"
SENSOR: Final = "sensor"
COMPONENT_TYPES: Final = {
    "Inverter": INVERTER,
    "Meter": METER,
    "Battery": BATTERY,
    "Sensor": SENSOR,
}
COMPONENT_CLASSES: Final = {
    "production": INVERTER,
    "consumption": METER,
    "meter": METER,
    "battery": BATTERY,
    "storage": BATTERY,
    "sensors": SENSOR,
}
COMPONENT_CHANNELS: Final = {
    INVERTER: ("ProdPac", "ProdPdc", "ProdEtotal"),
    METER: ("ConsPac", "ConsEtotal"),
    BATTERY: ("BatPcharge", "BatPdischarge", "BatSoc"),
    SENSOR: ("Irradiation", "Insolation", "TempModule", "TempAmbient"),
}
TRACKER_CHANNELS: Final = ("ProdPdc", "ProdUdc", "ProdIdc")
