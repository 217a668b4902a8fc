"""The reading database's tables: DSMR-reader's DsmrReading and MeterStatistics, per meter.

Values are scaled integers (see model.py): exact like DSMR-reader's decimals, and smaller.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    ScalarSelect,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

metadata: Final = MetaData()

# SQLite makes only an INTEGER primary key an alias of the rowid; BIGINT would add a second key.
ROW_ID: Final = BigInteger().with_variant(Integer, "sqlite")

# Each meter's id (its equipment identifier) once (version 5): readings name their meter by its
# small key, not by a string of 32 characters or more in every row.
meters: Final = Table(
    "meter",
    metadata,
    Column("key", SmallInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("meter", String(64), nullable=False, unique=True),
)


def meter_key(meter: str) -> ScalarSelect[int]:
    """Return the key of a meter's readings, for a condition (NULL for a meter without any)."""
    return select(meters.c.key).where(meters.c.meter == meter).scalar_subquery()


# One row: the highest id given to a reading (version 5). Readings keep DSMR-reader's ids, which
# the API shows and orders by, but not as their primary key: the writer takes the next ones here.
reading_id: Final = Table(
    "reading_id",
    metadata,
    Column("last", BigInteger, primary_key=True, autoincrement=False),
)

# DSMR-reader's DsmrReading (version 5). The rows are the B-tree of (meter_key, timestamp, id):
# on SQLite the table itself (WITHOUT ROWID), with no rowid and no second index; on PostgreSQL
# the primary key's index. The id only breaks ties between readings of equal timestamp.
# The columns go from 8 to 4 to 2 bytes wide, so that PostgreSQL pads none of them; SQLite
# stores every integer in as few bytes as its value needs, and none for 0, 1 and null.
dsmr_reading: Final = Table(
    "dsmr_reading",
    metadata,
    # Microseconds since the Unix epoch, UTC.
    Column("timestamp", BigInteger, nullable=False),
    Column("id", BigInteger, nullable=False, autoincrement=False),
    # Gas: microseconds since the epoch, and dm³.
    Column("extra_device_timestamp", BigInteger),
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
    Column("extra_device_delivered", Integer),
    Column("phase_currently_returned_l1", Integer),
    Column("phase_currently_returned_l2", Integer),
    Column("phase_currently_returned_l3", Integer),
    # Current in A: a telegram may hold any 32-bit integer.
    Column("phase_power_current_l1", Integer),
    Column("phase_power_current_l2", Integer),
    Column("phase_power_current_l3", Integer),
    Column("meter_key", SmallInteger, nullable=False),
    # Voltage in dV: below 1,000 V, as DSMR-reader's decimal(4, 1).
    Column("phase_voltage_l1", SmallInteger),
    Column("phase_voltage_l2", SmallInteger),
    Column("phase_voltage_l3", SmallInteger),
    PrimaryKeyConstraint("meter_key", "timestamp", "id", name="dsmr_reading_key"),
    sqlite_with_rowid=False,
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

# What processing makes of the readings (version 3): DSMR-reader's records per meter, in their
# serializer's column order, scaled like the readings; money in cents, prices in millionths.
electricity_consumption: Final = Table(
    "electricity_consumption",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    # The end of the minute, µs.
    Column("read_at", BigInteger, nullable=False),
    Column("delivered_1", Integer, nullable=False),
    Column("returned_1", Integer, nullable=False),
    Column("delivered_2", Integer, nullable=False),
    Column("returned_2", Integer, nullable=False),
    Column("currently_delivered", Integer, nullable=False),
    Column("currently_returned", Integer, nullable=False),
    Column("phase_currently_delivered_l1", Integer),
    Column("phase_currently_delivered_l2", Integer),
    Column("phase_currently_delivered_l3", Integer),
    Column("phase_currently_returned_l1", Integer),
    Column("phase_currently_returned_l2", Integer),
    Column("phase_currently_returned_l3", Integer),
    Column("phase_voltage_l1", Integer),
    Column("phase_voltage_l2", Integer),
    Column("phase_voltage_l3", Integer),
    Column("phase_power_current_l1", Integer),
    Column("phase_power_current_l2", Integer),
    Column("phase_power_current_l3", Integer),
    UniqueConstraint("meter", "read_at", name="uq_electricity_consumption_meter_read_at"),
)

gas_consumption: Final = Table(
    "gas_consumption",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    Column("read_at", BigInteger, nullable=False),
    # dm³.
    Column("delivered", Integer, nullable=False),
    Column("currently_delivered", Integer, nullable=False),
    # The meter's own gas timestamp, µs: read_at, or read_at + 1 h for DSMR 4's shifted records.
    Column("measured_at", BigInteger, nullable=False),
    UniqueConstraint("meter", "read_at", name="uq_gas_consumption_meter_read_at"),
    Index("ix_gas_consumption_meter_measured_at", "meter", "measured_at"),
)

quarter_hour_peak: Final = Table(
    "quarter_hour_peak",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    Column("read_at_start", BigInteger, nullable=False),
    Column("read_at_end", BigInteger, nullable=False),
    # W.
    Column("average_delivered", Integer, nullable=False),
    # The start of the quarter, µs: which quarter a peak is, whatever its readings' times.
    Column("quarter_start", BigInteger, nullable=False),
    UniqueConstraint("meter", "quarter_start", name="uq_quarter_hour_peak_meter_quarter"),
    Index("ix_quarter_hour_peak_meter_read_at_start", "meter", "read_at_start"),
)

hour_statistics: Final = Table(
    "hour_statistics",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    Column("hour_start", BigInteger, nullable=False),
    Column("electricity1", Integer, nullable=False),
    Column("electricity2", Integer, nullable=False),
    Column("electricity1_returned", Integer, nullable=False),
    Column("electricity2_returned", Integer, nullable=False),
    Column("gas", Integer, nullable=False),
    UniqueConstraint("meter", "hour_start", name="uq_hour_statistics_meter_hour_start"),
)

day_statistics: Final = Table(
    "day_statistics",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("electricity1", Integer, nullable=False),
    Column("electricity2", Integer, nullable=False),
    Column("electricity1_returned", Integer, nullable=False),
    Column("electricity2_returned", Integer, nullable=False),
    # Cents.
    Column("electricity1_cost", BigInteger, nullable=False),
    Column("electricity2_cost", BigInteger, nullable=False),
    Column("gas", Integer),
    Column("gas_cost", BigInteger),
    # Tenths of a degree.
    Column("lowest_temperature", Integer),
    Column("highest_temperature", Integer),
    Column("average_temperature", Integer),
    Column("fixed_cost", BigInteger, nullable=False),
    Column("total_cost", BigInteger, nullable=False),
    Column("electricity_reading_timestamp", BigInteger),
    Column("electricity1_reading", Integer),
    Column("electricity2_reading", Integer),
    Column("electricity1_returned_reading", Integer),
    Column("electricity2_returned_reading", Integer),
    Column("gas_reading_timestamp", BigInteger),
    Column("gas_reading", Integer),
    # Added through add_day_statistics (imported history): processing leaves it alone.
    Column("imported", Boolean, nullable=False),
    UniqueConstraint("meter", "day", name="uq_day_statistics_meter_day"),
)

energy_supplier_price: Final = Table(
    "energy_supplier_price",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("meter", String(64), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("description", String(255), nullable=False),
    # Millionths of a euro per kWh, m³ or day.
    Column("electricity_delivered_1_price", BigInteger, nullable=False),
    Column("electricity_delivered_2_price", BigInteger, nullable=False),
    Column("gas_price", BigInteger, nullable=False),
    Column("electricity_returned_1_price", BigInteger, nullable=False),
    Column("electricity_returned_2_price", BigInteger, nullable=False),
    Column("fixed_daily_cost", BigInteger, nullable=False),
    Index("ix_energy_supplier_price_meter_start", "meter", "start"),
)

# Records per kind (a table's name), meter and UTC hour of their time: reading_count's fast
# counts for the records that come by the minute (see there).
record_count: Final = Table(
    "record_count",
    metadata,
    Column("record", String(32), primary_key=True),
    Column("meter", String(64), primary_key=True),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("records", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# How far processing got per meter, µs, committed with what it made; null before the first run.
processing_state: Final = Table(
    "processing_state",
    metadata,
    Column("meter", String(64), primary_key=True),
    # Readings before it are processed: every minute before it has its record.
    Column("minute_frontier", BigInteger, nullable=False),
    # Every quarter of an hour starting before it has its peak, or has none.
    Column("quarter_frontier", BigInteger, nullable=False),
    # Every hour starting before it has its statistics, or has none.
    Column("hour_frontier", BigInteger, nullable=False),
    # Every local day before it has its statistics, or has none.
    Column("day_frontier", Date, nullable=False),
)

# Positions of the M-Bus water and heat meters (version 4), which DSMR-reader's readings do not
# keep (gas is in dsmr_reading), for the long-term statistics. A row per distinct capture of a
# channel; a later capture showing the same position as the newest one is not written, so a
# meter that stamps every telegram (a heat meter) adds rows only as its position moves.
mbus_capture: Final = Table(
    "mbus_capture",
    metadata,
    Column("meter", String(64), primary_key=True),
    # "water" or "heat".
    Column("kind", String(8), primary_key=True),
    # When the M-Bus meter captured the position, µs: an hour's captures are one key range.
    Column("captured", BigInteger, primary_key=True, autoincrement=False),
    Column("channel", Integer, primary_key=True, autoincrement=False),
    # Billionths of m³ or GJ (model.CAPTURE_PLACES).
    Column("value", BigInteger, nullable=False),
    # A channel's position at a time is one seek.
    Index("ix_mbus_capture_channel", "meter", "kind", "channel", "captured"),
    sqlite_with_rowid=False,
)

# One row: the number of the last migration applied (see migrations.py).
schema_version: Final = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)
