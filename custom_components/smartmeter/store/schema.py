"""The reading database's tables: DSMR-reader's DsmrReading and MeterStatistics, per meter.

Values are scaled integers (see model.py): exact like DSMR-reader's decimals, and smaller.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

metadata: Final = MetaData()

# SQLite makes only an INTEGER primary key an alias of the rowid; BIGINT would add a second key.
_ID: Final = BigInteger().with_variant(Integer, "sqlite")

# Columns follow DSMR-reader's serializer order, so the API can emit rows as they come.
dsmr_reading: Final = Table(
    "dsmr_reading",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    # Microseconds since the Unix epoch, UTC.
    Column("timestamp", BigInteger, nullable=False),
    # Meter positions in Wh.
    Column("electricity_delivered_1", Integer, nullable=False),
    Column("electricity_returned_1", Integer, nullable=False),
    Column("electricity_delivered_2", Integer, nullable=False),
    Column("electricity_returned_2", Integer, nullable=False),
    # Power in W.
    Column("electricity_currently_delivered", Integer, nullable=False),
    Column("electricity_currently_returned", Integer, nullable=False),
    Column("phase_currently_delivered_l1", Integer),
    Column("phase_currently_delivered_l2", Integer),
    Column("phase_currently_delivered_l3", Integer),
    # Gas: microseconds since the epoch, and dm³.
    Column("extra_device_timestamp", BigInteger),
    Column("extra_device_delivered", Integer),
    Column("phase_currently_returned_l1", Integer),
    Column("phase_currently_returned_l2", Integer),
    Column("phase_currently_returned_l3", Integer),
    # Voltage in dV, current in A.
    Column("phase_voltage_l1", Integer),
    Column("phase_voltage_l2", Integer),
    Column("phase_voltage_l3", Integer),
    Column("phase_power_current_l1", Integer),
    Column("phase_power_current_l2", Integer),
    Column("phase_power_current_l3", Integer),
    Index("ix_dsmr_reading_meter_timestamp", "meter", "timestamp"),
)

meter_statistics: Final = Table(
    "meter_statistics",
    metadata,
    Column("meter", String(64), primary_key=True),
    Column("timestamp", BigInteger),
    Column("dsmr_version", String(2)),
    Column("electricity_tariff", Integer),
    Column("power_failure_count", Integer),
    Column("long_power_failure_count", Integer),
    Column("voltage_sag_count_l1", Integer),
    Column("voltage_sag_count_l2", Integer),
    Column("voltage_sag_count_l3", Integer),
    Column("voltage_swell_count_l1", Integer),
    Column("voltage_swell_count_l2", Integer),
    Column("voltage_swell_count_l3", Integer),
    Column("rejected_telegrams", Integer, nullable=False, server_default="0"),
    Column("latest_telegram", Text),
)

# One row: the number of the last migration applied (see migrations.py).
schema_version: Final = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)
