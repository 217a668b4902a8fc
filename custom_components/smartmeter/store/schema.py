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

# Readings per meter and UTC hour (hours since the Unix epoch, rounded down), kept by the writer in
# the transaction of the readings, so that list_readings counts a range from the whole hours inside
# it plus an index count of the partial hours at its two ends. An hour, because both costs stay
# small at DSMR 5's one reading a second: the ends hold at most 2 x 3,600 rows, a year 8,760 hours.
# A day would leave up to 172,800 rows to count at the ends, a minute 525,600 hours to add up for
# a year. Whole UTC hours are also whole local hours in every whole-hour time zone, so a local
# day's filter has no partial ends. Whatever deletes readings must subtract them here too.
HOUR_US: Final = 3_600_000_000
reading_count: Final = Table(
    "reading_count",
    metadata,
    Column("meter", String(64), primary_key=True),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("readings", Integer, nullable=False),
    # SQLite: the rows are the primary key's B-tree, which a sum over a range of hours walks.
    sqlite_with_rowid=False,
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
