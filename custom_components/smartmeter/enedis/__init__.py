"""Enedis Linky meters' data (France): no Home Assistant.

client.py asks one of three access paths (the Conso API proxy, MyElectricalData, Enedis'
Data-Connect) and errors.py says what went wrong; readings.py turns answers into exact values
in UTC; data.py keeps what is known of a meter (JSON between runs) and makes its hours;
sync.py plans the history import and the updates within Enedis' limits; schedule.py says when
to poll.
"""

from .client import (
    CONSO_API_URL,
    DATA_CONNECT_URL,
    MYELECTRICALDATA_URL,
    ConsoApiClient,
    Data,
    DataConnectClient,
    LinkyClient,
    Measurement,
    MyElectricalDataClient,
    offers,
    token_prms,
)
from .data import HOUR_US, MeterData, day_hours
from .errors import (
    AccessDenied,
    EnedisConnectionError,
    EnedisError,
    HistoryLimit,
    LoadCurveNotEnabled,
    PrmNotAllowed,
    RateLimited,
    RequestRejected,
    WrongMeasurementType,
)
from .readings import PARIS, DailyValue, LoadCurvePoint
from .schedule import next_poll
from .sync import LinkySync

__all__ = [
    "CONSO_API_URL",
    "DATA_CONNECT_URL",
    "HOUR_US",
    "MYELECTRICALDATA_URL",
    "PARIS",
    "AccessDenied",
    "ConsoApiClient",
    "DailyValue",
    "Data",
    "DataConnectClient",
    "EnedisConnectionError",
    "EnedisError",
    "HistoryLimit",
    "LinkyClient",
    "LinkySync",
    "LoadCurveNotEnabled",
    "LoadCurvePoint",
    "Measurement",
    "MeterData",
    "MyElectricalDataClient",
    "PrmNotAllowed",
    "RateLimited",
    "RequestRejected",
    "WrongMeasurementType",
    "day_hours",
    "next_poll",
    "offers",
    "token_prms",
]
