"""DSMR-reader's processing of readings into consumption records and statistics, per meter.

The writer thread runs it after each committed batch of readings, in transactions of its own,
so a reading is stored (and its request answered) before it is processed. Each run does a few
indexed queries per meter and persists how far it got (processing_state), with what it made.

Work follows the readings, never the time between them: a run takes the late readings noted
since the last one and at most CATCH_UP_READINGS readings past its frontier (counted by an index
seek), the writer commits what was submitted in between, hours and days without records are
skipped by index seeks, and a late reading recomputes the hours and days holding the records it
changes and the record after them, not those in between (where nothing changed). Two readings
years apart, or a gas capture years from its reading, cost what two readings cost.

What a run makes, as DSMR-reader does:

- ElectricityConsumption per minute with readings, stamped at the minute's end (``read_at``),
  once a reading at or after that end exists: the highest meter positions and the average of
  the powers, voltages and currents of the minute's readings.
- GasConsumption per new gas timestamp (skipping a gas value of 0 or none), stamped at the
  gas timestamp, one hour earlier for a DSMR 4 meter (MeterStatistics.dsmr_version "4x"), with
  the gas used since the previous record (0 for the first).
- QuarterHourPeak per quarter of an hour with at least two readings from its start to its end
  (both inclusive), once a reading at or after its end exists.
- HourStatistics and DayStatistics (local days of the store's time zone: 23, 24 or 25 hours).
  A day keeps the positions of its first reading, and the gas of the first reading (up to two
  hours past the day) whose gas timestamp falls in it.

Deliberate differences from DSMR-reader 5.11:

- Hour and day statistics are the difference of boundary positions, not of the first and last
  record inside the window: B(t), the positions of the latest minute record stamped at or before
  t (the very first record for a t before all of them), and likewise G(t) for gas over the gas
  records' measurement times (a DSMR 4 record's position is the meter's at its read_at + 1 h).
  An hour is B(end) - B(start), a day too, so no consumption between the last record of one
  window and the first of the next is lost, and the hours of a day add up to the day exactly.
  DSMR-reader loses that consumption (0.383 kWh an hour at a constant 0.4 kW).
- A day's gas is G(end) - G(start), and its gas cost is computed from that gas. DSMR-reader
  stores the sum of the day's hours as gas but prices the first-to-last difference of the day's
  gas records, so the two disagree.
- A minute record at exactly an hour's (or day's) end belongs to that hour (day): it holds the
  minute before. An hour (day) gets statistics when a minute record falls in it by that rule, or
  gas was used in it (so hours without electricity records lose no gas either); DSMR-reader
  needs minute records stamped in [start, end).
- Temperatures of generated day statistics are null (there is no weather source); DSMR-reader
  writes 0.0 when it has no weather data.
- A day without gas records (the meter has none at all) has null gas and gas cost; once the
  meter has gas records, gas is G(end) - G(start), 0 when unchanged (days made before its first
  gas record included).
- A gas timestamp far from its reading's (a gas meter whose clock is years off, as DSMR 2.2
  meters may have, or one that stopped reporting and repeats its last capture) is data like any
  other: its gas record is stamped at it, and the gas it shows is used in the hours and days
  of its gas timestamps.
- Late readings (stamped before what has been processed, e.g. posted through API v2 or sent by a
  datalogger catching up) are processed too: their minute record is recomputed, and with it the
  quarter-hour peaks, hour and day statistics whose values depend on it. DSMR-reader processes
  them but never revisits a minute, peak, hour or day that exists. Day statistics added through
  the API (imported history) are never overwritten.
- An hour waits for a gas record measured at or after its end (when the meter has gas), but at
  most until minute records two hours past its end exist; DSMR-reader waits for the next day's
  gas before it makes a day. Everything waits for data, never for the clock: readings from the
  future (DSMR-reader refuses them past now + 24 h) are processed as they come.
- Rounding: the averages of a minute are rounded half to even to the column's places (3 for
  kW, 1 for V), like Django storing an Avg in a DecimalField; the average current is truncated
  to a whole ampere, like Django storing it in an IntegerField. A quarter-hour peak is rounded
  half up to 3 places, and costs half up to 2 (DSMR-reader's round_decimal). Averages are exact
  (integer sums), where DSMR-reader's SQLite Avg goes through a float.
- Merged prices (overlapping contracts) carry the day itself as start and end.
"""

from .processor import Processor

__all__ = ["Processor"]
