"""Turns telegrams from the reader into data for the entities."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING

from dsmr_parser.objects import Telegram
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from sqlalchemy.exc import SQLAlchemyError

from ...const import (
    CONF_METER_ID,
    CONF_MIN_UPDATE_INTERVAL,
    DEFAULT_MIN_UPDATE_INTERVAL,
    DOMAIN,
    ISSUE_NO_TELEGRAMS,
    ISSUE_WRONG_KEY,
    LOGGER,
    NO_TELEGRAMS_AFTER,
    NO_TELEGRAMS_CHECK_EVERY,
    PUSHED_UPDATE_EVERY,
    WRONG_KEY_AFTER,
)
from ...forward import Forwarder, ForwardQueueError
from ...meter.aggregate import GasTracker, UpdateThrottle, add_derived_values
from ...meter.decode import TelegramDecoder
from ...meter.dsmr_reading import mbus_captures
from ...meter.errors import TelegramError
from ...meter.reading import MeterReading, identification_line, to_reading
from ...meter.specifications import Specification
from ...reader.reader import MeterReader
from ...store.errors import StoreError
from ...store.store import ReadingStore

if TYPE_CHECKING:
    from ...models import SmartMeterConfigEntry


def entry_meter_id(entry: ConfigEntry) -> str:
    """Return the id of an entry's meter in the reading store, the statistics and devices.

    It is the equipment id the meter was set up with; for a meter that sends none, the
    entry's id, or the address older releases took for it (kept in the entry's data).
    """
    return str(entry.data.get(CONF_METER_ID) or entry.unique_id or entry.entry_id)


class SmartMeterCoordinator(DataUpdateCoordinator[MeterReading | None]):
    """Holds the newest reading of one meter; the reader pushes, nothing polls."""

    config_entry: SmartMeterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SmartMeterConfigEntry,
        specification: Specification,
        decoder: TelegramDecoder,
        store: ReadingStore,
    ) -> None:
        """Set up for one config entry."""
        super().__init__(hass, LOGGER, config_entry=entry, name=entry.title)
        self.data = None
        self.specification = specification
        self.decoder = decoder
        self.store = store
        # The meter's key in the reading store, which may hold several meters.
        self.meter_id = entry_meter_id(entry)
        # Telegrams the API refused; the reader counts its own.
        self.api_rejected = 0
        # The reader's refusals already added to the store's count, as DSMR-reader's datalogger
        # counts them (the API's add theirs as they come).
        self._rejected_stored = 0
        self.reader: MeterReader | None = None
        self.last_frame: str | None = None
        # The electricity meter's device registry id, which M-Bus devices link to.
        self.meter_device_entry_id: str | None = None
        self._throttle = UpdateThrottle(
            entry.options.get(CONF_MIN_UPDATE_INTERVAL, DEFAULT_MIN_UPDATE_INTERVAL)
        )
        self._gas = GasTracker()
        self._issue_id = f"{ISSUE_NO_TELEGRAMS}_{entry.entry_id}"
        self._issue_open = False
        # The newest telegram pushed through the API and not shown yet, and when one last was.
        self._pushed: tuple[Telegram, str] | None = None
        self._pushed_shown_at = -PUSHED_UPDATE_EVERY
        self._cancel_pushed_update: CALLBACK_TYPE | None = None
        entry.async_on_unload(self._async_cancel_pushed_update)

    @property
    def equipment_id(self) -> str | None:
        """Return the electricity meter's equipment id as the newest telegram sends it."""
        name = self.specification.equipment_id
        value = self.data.values.get(name) if self.data is not None and name else None
        return value if isinstance(value, str) and value else None

    @property
    def rejected_telegrams(self) -> int:
        """Return how many telegrams failed their CRC or could not be parsed."""
        return self.api_rejected + (self.reader.stats.rejected if self.reader else 0)

    @callback
    def async_start(self, reader: MeterReader) -> None:
        """Run the reader until the entry unloads, and watch for a mute meter."""
        self.reader = reader
        entry = self.config_entry
        # An issue left from before a restart is raised again if still true.
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        entry.async_create_background_task(
            self.hass, reader.run(), f"{DOMAIN} reader {reader.endpoint}"
        )
        entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_check_silence, NO_TELEGRAMS_CHECK_EVERY
            )
        )

    @callback
    def handle_telegram(self, telegram: Telegram, frame: str) -> None:
        """Take a valid telegram from the reader: update the entities and store it."""
        self._store_rejected()
        self.update_entities(telegram, frame)
        try:
            # A few seconds later, together with the next ones (see COMMIT_EVERY).
            self.store_telegram(telegram, frame, may_wait=True)
        except (TelegramError, StoreError) as err:
            LOGGER.debug("Telegram not stored: %s", err)
        self.forward(frame)

    @callback
    def forward(self, frame: str) -> None:
        """Queue a plain telegram for the DSMR-reader instances it is forwarded to."""
        forwarder = self.config_entry.runtime_data.forwarder
        if forwarder is not None and frame.startswith("/"):
            self.config_entry.async_create_task(
                self.hass, self._async_forward(forwarder, frame), "smartmeter forward"
            )

    async def _async_forward(self, forwarder: Forwarder, frame: str) -> None:
        try:
            await forwarder.submit(frame)
        except ForwardQueueError as err:
            LOGGER.error("Telegram could not be queued for forwarding: %s", err)

    def store_telegram(
        self, telegram: Telegram, frame: str, *, may_wait: bool = False
    ) -> Future[list[int]]:
        """Queue the telegram's reading for the store; the future resolves once committed.

        Raises TelegramError for a telegram DSMR-reader would not store, StoreError (StoreBusy)
        when the writer is overloaded. The positions of its water and heat meters are stored
        either way: a heat meter on its own sends telegrams without electricity. may_wait lets
        the commit wait for the next telegrams (GroupCommitWriter.submit).
        """
        now = dt_util.utcnow()
        captures = mbus_captures(telegram, now)
        try:
            reading, statistics = self.decoder.dsmr_reading(telegram, now)
        except TelegramError:
            if captures:
                self.store.writer.submit(
                    self.meter_id, [], captures=captures, may_wait=may_wait
                ).add_done_callback(_log_store_failure)
            raise
        statistics["latest_telegram"] = frame.strip()
        future = self.store.writer.submit(
            self.meter_id, [reading], statistics, captures, may_wait=may_wait
        )
        future.add_done_callback(_log_store_failure)
        return future

    @callback
    def show_pushed(self, telegram: Telegram, frame: str) -> None:
        """Show a telegram pushed through the API, with at most one update a second.

        A datalogger sends one a second as the meter does, each shown at once; one catching up
        after an outage sends hundreds a second, which the entities would only churn through:
        they show the newest once a second instead.
        """
        self._pushed = (telegram, frame)
        if self._cancel_pushed_update is not None:
            return
        wait = self._pushed_shown_at + PUSHED_UPDATE_EVERY - monotonic()
        if wait <= 0:
            self._show_pushed()
        else:
            self._cancel_pushed_update = async_call_later(self.hass, wait, self._show_pushed_later)

    @callback
    def _show_pushed_later(self, _now: datetime) -> None:
        self._cancel_pushed_update = None
        self._show_pushed()

    @callback
    def _show_pushed(self) -> None:
        assert self._pushed is not None
        telegram, frame = self._pushed
        self._pushed = None
        self._pushed_shown_at = monotonic()
        self.update_entities(telegram, frame)

    @callback
    def _async_cancel_pushed_update(self) -> None:
        if self._cancel_pushed_update is not None:
            self._cancel_pushed_update()
            self._cancel_pushed_update = None

    @callback
    def update_entities(self, telegram: Telegram, frame: str) -> None:
        """Turn a valid telegram into entity states."""
        self.last_frame = frame
        # Encrypted frames arrive as hex and carry no identification line.
        identification = identification_line(frame) if frame.startswith("/") else ""
        reading = self._throttle.add(to_reading(telegram, identification), monotonic())
        if reading is None:
            return
        add_derived_values(reading, self.specification.tariff_codes_swapped)
        self._gas.apply(reading)
        self.async_set_updated_data(reading)
        if self._issue_open:
            self._issue_open = False
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)

    @callback
    def handle_disconnect(self, reason: str) -> None:
        """Mark the entities unavailable; the reader has logged the outage."""
        self._store_rejected()
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()

    @callback
    def _store_rejected(self) -> None:
        """Add the reader's refusals since the last time to the store's count, in the background.

        At a valid telegram or an outage, so that noise costs at most one write per telegram.
        """
        if (count := self._rejected_not_stored()) > 0:
            self.config_entry.async_create_background_task(
                self.hass, self._async_count_rejected(count), f"{DOMAIN} rejected telegrams"
            )

    async def async_store_rejected(self) -> None:
        """Add the reader's refusals not counted yet to the store's count (before it closes)."""
        if (count := self._rejected_not_stored()) > 0:
            await self._async_count_rejected(count)

    def _rejected_not_stored(self) -> int:
        rejected = self.reader.stats.rejected if self.reader is not None else 0
        count, self._rejected_stored = rejected - self._rejected_stored, rejected
        return count

    async def _async_count_rejected(self, count: int) -> None:
        try:
            await self.hass.async_add_executor_job(self.store.count_rejected, self.meter_id, count)
        except (StoreError, SQLAlchemyError) as err:
            LOGGER.warning("%d rejected telegrams were not counted in the store: %s", count, err)

    @callback
    def _async_check_silence(self, _now: datetime) -> None:
        """Raise a repair issue for a meter that sends nothing usable, saying why if known.

        Telegrams that keep failing to decrypt mean a wrong key: the user is asked for the
        right one (reauthentication) at once, without waiting for the silence to last.
        """
        reader = self.reader
        assert reader is not None
        if self._issue_open:
            return
        wrong_key = reader.stats.undecryptable >= WRONG_KEY_AFTER
        if not wrong_key and not reader.silent_while_connected(NO_TELEGRAMS_AFTER.total_seconds()):
            return
        self._issue_open = True
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR if wrong_key else ir.IssueSeverity.WARNING,
            translation_key=ISSUE_WRONG_KEY if wrong_key else ISSUE_NO_TELEGRAMS,
            translation_placeholders={
                "title": self.config_entry.title,
                "port": str(reader.endpoint),
                "minutes": str(int(NO_TELEGRAMS_AFTER.total_seconds() // 60)),
            },
        )
        if wrong_key:
            self.config_entry.async_start_reauth(self.hass)


def _log_store_failure(future: Future[list[int]]) -> None:
    if not future.cancelled() and (err := future.exception()) is not None:
        LOGGER.error("Storing a reading failed: %s", err)
