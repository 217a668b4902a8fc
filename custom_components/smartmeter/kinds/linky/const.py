"""A Linky meter's settings: how its data is had, which measurements, when to poll."""

from __future__ import annotations

from typing import Final

from ...enedis import CONSO_API_URL, DATA_CONNECT_URL, MYELECTRICALDATA_URL, Measurement

KIND_LINKY: Final = "linky"
CONF_ACCESS: Final = "access"
CONF_PRM: Final = "prm"
CONF_MEASUREMENT: Final = "measurement"
# Where the access path's service is: its public URL, or a local one in development.
CONF_SERVICE_URL: Final = "service_url"
CONF_POLL_MINUTE: Final = "poll_minute"

ACCESS_CONSO_API: Final = "conso_api"
ACCESS_MYELECTRICALDATA: Final = "myelectricaldata"
ACCESS_DATA_CONNECT: Final = "data_connect"
# The services' URLs by access path; the tests point them at local servers.
SERVICE_URLS: Final = {
    ACCESS_CONSO_API: CONSO_API_URL,
    ACCESS_MYELECTRICALDATA: MYELECTRICALDATA_URL,
    ACCESS_DATA_CONNECT: DATA_CONNECT_URL,
}
# Enedis' consent page and token endpoint, for Home Assistant's application credentials.
DATA_CONNECT_AUTHORIZE_URL: Final = (
    "https://mon-compte-particulier.enedis.fr/dataconnect/v1/oauth2/authorize"
)
DATA_CONNECT_TOKEN_PATH: Final = "/oauth2/v3/token"
# The longest consent Enedis gives.
CONSENT_DURATION: Final = "P3Y"

MEASUREMENT_BOTH: Final = "both"
MEASUREMENTS: Final = {
    Measurement.CONSUMPTION.value: (Measurement.CONSUMPTION,),
    Measurement.PRODUCTION.value: (Measurement.PRODUCTION,),
    MEASUREMENT_BOTH: (Measurement.CONSUMPTION, Measurement.PRODUCTION),
}
# Seconds between two requests: well within Enedis' 5 a second, which Conso API users share.
REQUEST_INTERVAL: Final = 0.5
ISSUE_LOAD_CURVE_DISABLED: Final = "linky_load_curve_disabled"
