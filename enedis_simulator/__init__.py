"""A simulated Enedis service with a Linky meter's history, for scripts/develop and the tests."""

from .simulator import (
    CONSO_TOKEN,
    DATA_CONNECT_CLIENT_ID,
    DATA_CONNECT_CLIENT_SECRET,
    MED_TOKEN,
    PRM,
    EnedisSimulator,
    conso_token,
    consumption_watts,
    production_watts,
)

__all__ = [
    "CONSO_TOKEN",
    "DATA_CONNECT_CLIENT_ID",
    "DATA_CONNECT_CLIENT_SECRET",
    "MED_TOKEN",
    "PRM",
    "EnedisSimulator",
    "conso_token",
    "consumption_watts",
    "production_watts",
]
