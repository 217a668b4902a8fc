"""One writer thread that commits readings in groups, and processes them between commits.

Only close() blocks: the rest queues work for the thread, whose futures Home Assistant awaits
through asyncio.wrap_future.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
import logging
import queue
import threading
from time import monotonic
from typing import Any, Final, cast

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from .commit import (
    CaptureKey,
    CommitStatements,
    add_meter_keys,
    count_readings,
    insert_readings,
    new_captures,
    update_statistics,
)
from .driver import execute_many
from .errors import StoreBusy, StoreError
from .model import (
    Capture,
    Reading,
    StatisticsValue,
    capture_to_row,
    reading_to_row,
    statistics_to_row,
)
from .processing import Processor

_LOGGER: Final = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE: Final = 10_000
# Processing runs at most this often (seconds) while readings keep coming: a meter sends one a
# second, so its records stay as fresh, and a burst (a datalogger catching up) is processed in
# a few large runs instead of one per commit, which would cost more than the writes. A run that
# left a backlog is followed at once, after the commits queued meanwhile.
PROCESS_EVERY: Final = 1.0
# How long a submission that may wait (a live meter's reading) waits at most for those after it,
# to share their transaction: a commit costs far more than a reading, and a meter sends one a
# second. As Home Assistant's recorder commits its states (every 5 s by default); anything else
# queued meanwhile (an API request, work, a hold, close()) commits what waits at once.
COMMIT_EVERY: Final = 5.0


@dataclass(slots=True)
class _Submission:
    meter: str
    rows: list[dict[str, object]]
    statistics: dict[str, StatisticsValue] | None
    captures: list[dict[str, object]]
    future: Future[list[int]]
    # Until when (monotonic seconds) it may wait for the submissions after it; None: no wait.
    wait_until: float | None = None


@dataclass(slots=True)
class _Task:
    """Work for the writer thread, once processing has caught up."""

    run: Callable[[], object]
    future: Future[Any] = field(default_factory=Future)


def _commit_time(uncommitted: list[_Submission]) -> float | None:
    """Return when the submissions that wait are due for their commit; None without any."""
    times = [item.wait_until for item in uncommitted]
    if not times:
        return None
    if None in times:
        return float("-inf")
    return min(time for time in times if time is not None)


class GroupCommitWriter:
    """Write submissions on one thread; each transaction takes all that queued meanwhile.

    A commit has a fixed cost however few rows it holds (on PostgreSQL a WAL flush), so
    grouping the submissions that arrive during one transaction keeps up with many concurrent
    writers.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        processor: Processor | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        """Start the writer thread on a migrated engine.

        With a processor, the thread processes the readings of each committed batch once their
        futures are resolved, and catches up with what is left whenever its queue is empty.
        Processing goes a run at a time (see Processor.process), and what is submitted meanwhile
        is committed before the next run: a submission waits for one run at most. clock gives
        the monotonic seconds that COMMIT_EVERY and PROCESS_EVERY count in.
        """
        self._engine = engine
        self.statements = CommitStatements(engine)
        self._processor = processor
        self._clock = clock
        # None, queued by close(), tells the thread to stop once everything before it is written.
        self._queue: queue.Queue[_Submission | _Task | None] = queue.Queue(max_queue)
        # Makes "not closed, so queue" atomic: nothing may follow close()'s None.
        self._lock = threading.Lock()
        self._closed = False
        self._transactions = 0
        self._processed_at = -PROCESS_EVERY
        self._listeners: tuple[Callable[[Mapping[str, int]], None], ...] = ()
        # The newest committed capture (time, value) per meter, kind and channel: what a
        # capture must differ from to be worth writing.
        self._newest_captures: dict[tuple[str, str, int], tuple[int, int]] = {}
        # The key of each meter with committed readings.
        self._meter_keys: dict[str, int] = {}
        # Set to end the current hold (see hold()).
        self._resumed: threading.Event | None = None
        self._thread = threading.Thread(target=self._run, name="smartmeter-store-writer")
        self._thread.start()

    @property
    def transactions(self) -> int:
        """Return the number of transactions begun so far, failed ones included."""
        return self._transactions

    def add_listener(self, listener: Callable[[Mapping[str, int]], None]) -> Callable[[], None]:
        """Call listener on the writer thread after each commit of readings; return its remover.

        It gets, per meter, the earliest time (µs) among the committed readings' timestamps
        and the new water and heat captures: what the meter's readings tell may have changed
        from then on, give or take the two hours in which a later telegram may show a gas
        capture (longterm.affected_from). A gas capture time itself is left out: a meter whose
        gas stopped reporting years ago shows that old capture in every telegram.
        """
        self._listeners = (*self._listeners, listener)

        def remove() -> None:
            self._listeners = tuple(other for other in self._listeners if other is not listener)

        return remove

    def submit(
        self,
        meter: str,
        readings: Sequence[Reading],
        statistics: Mapping[str, StatisticsValue] | None = None,
        captures: Sequence[Capture] = (),
        *,
        may_wait: bool = False,
    ) -> Future[list[int]]:
        """Queue readings, a partial update of the meter's statistics and captures, together.

        They are written in one transaction. A water or heat capture already stored, or later
        than its channel's newest and at the same position, is left out: it adds nothing. With
        may_wait (a live meter's telegram), the transaction may wait up to COMMIT_EVERY seconds
        for the submissions after it, unless something else is queued meanwhile.

        Never blocks, so the event loop may call it. The future resolves with the readings'
        new ids, in order, once their transaction has committed, or fails with the database's
        exception. Cancelling it before the writer takes it up drops the submission. Raises
        ValueError or TypeError for values the database cannot hold, StoreBusy when the queue
        is full and StoreError once closed.
        """
        submission = _Submission(
            meter,
            [reading_to_row(meter, reading) for reading in readings],
            None if statistics is None else statistics_to_row(statistics),
            [capture_to_row(meter, capture) for capture in captures],
            Future(),
            self._clock() + COMMIT_EVERY if may_wait else None,
        )
        self._queue_item(submission)
        return submission.future

    def run(self, task: Callable[[], object]) -> Future[Any]:
        """Queue work for the writer thread, after everything queued before and its processing.

        The future resolves with the work's result or exception; with StoreError when the
        writer is closed before processing caught up. Raises StoreBusy when the queue is full
        and StoreError once closed.
        """
        job = _Task(task)
        self._queue_item(job)
        return job.future

    def hold[T](self, frozen: Callable[[], AbstractContextManager[T]]) -> Future[T]:
        """Stop writing until resume(), once everything queued before is written and processed.

        The writer thread enters frozen() and stays in it until resumed; the future resolves
        with what it yields once the writer holds, or fails with its exception; cancelling it
        before the writer comes to it drops the hold. Submissions queue meanwhile, within the
        queue's bound, and are written once resumed. A new hold and close() resume an earlier
        one. Raises StoreBusy when the queue is full and StoreError once closed.
        """
        held: Future[T] = Future()
        resumed = threading.Event()

        def hold() -> None:
            if not held.set_running_or_notify_cancel():
                return  # given up before the writer came to it
            with frozen() as value:
                held.set_result(value)
                resumed.wait()

        def ended(job: Future[Any]) -> None:
            if (err := job.exception()) is None:
                return
            if held.done():
                _LOGGER.error("Ending a hold of the writer failed: %s", err)
            else:
                held.set_exception(err)

        self.resume()
        # Before queueing, so that a close() from now on resumes it.
        with self._lock:
            self._resumed = resumed
        try:
            job = self.run(hold)
        except StoreError:
            resumed.set()
            raise
        job.add_done_callback(ended)
        return held

    def resume(self) -> bool:
        """End the hold; return whether there was one (False: resumed or closed since)."""
        with self._lock:
            resumed, self._resumed = self._resumed, None
        if resumed is None:
            return False
        resumed.set()
        return True

    def _queue_item(self, item: _Submission | _Task) -> None:
        with self._lock:
            if self._closed:
                raise StoreError("the reading database is closed")
            try:
                self._queue.put_nowait(item)
            except queue.Full:
                raise StoreBusy("too many readings are waiting to be written") from None

    def close(self) -> None:
        """Write everything queued, then stop the thread.

        Processing stops after its current run, and a run for the late readings that only it
        knows of; the rest is resumed on the next start, from processing_state. Work queued
        with run() that still waits for processing fails with StoreError.
        """
        with self._lock:
            closing = not self._closed
            self._closed = True
        self.resume()
        # Outside the lock, so that a submit() meanwhile fails at once instead of waiting for
        # room in a full queue; every submission it let in is already queued.
        if closing:
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        processor = self._processor
        # Work taken from the queue that waits for processing to catch up, in order, and
        # close()'s None after it.
        waiting: deque[_Task | None] = deque()
        # Submissions taken that wait for those after them (see COMMIT_EVERY), in order.
        uncommitted: list[_Submission] = []
        while True:
            batch = self._take(wait=not waiting, until=_commit_time(uncommitted))
            uncommitted.extend(item for item in batch if isinstance(item, _Submission))
            waiting.extend(item for item in batch if not isinstance(item, _Submission))
            due = _commit_time(uncommitted)
            if due is not None and (waiting or self._clock() >= due):
                submissions = [
                    item for item in uncommitted if item.future.set_running_or_notify_cancel()
                ]
                uncommitted.clear()
                if submissions:
                    self._commit(submissions)
            if waiting and waiting[-1] is None:
                self._stop(waiting)
                return
            if waiting:
                if processor is not None and processor.due:
                    # Catching up for the work waiting: a run at a time, commits in between.
                    self._process(processor)
                else:
                    self._run_tasks(waiting)
            elif processor is not None and (not batch or self._processing_wait() == 0):
                self._process(processor)

    def _take(self, *, wait: bool, until: float | None) -> list[_Submission | _Task | None]:
        """Return what is queued; with wait, wait for it until processing may run or until.

        Empty only when the wait ended with nothing queued: processing may run, or what waits
        to be committed is due (until, in clock seconds).
        """
        batch: list[_Submission | _Task | None] = []
        if wait:
            timeout = self._processing_wait()
            if until is not None:
                due = max(0.0, until - self._clock())
                timeout = due if timeout is None else min(timeout, due)
            try:
                batch.append(self._queue.get(timeout=timeout))
            except queue.Empty:
                return batch
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _processing_wait(self) -> float | None:
        """Return the seconds until processing may run, None when it has nothing to do."""
        if self._processor is None or not self._processor.due:
            return None
        if self._processor.behind:
            return 0.0
        return max(0.0, self._processed_at + PROCESS_EVERY - self._clock())

    def _process(self, processor: Processor) -> None:
        """Run the processing of each due meter once; stop early when something is queued."""
        self._processed_at = self._clock()
        for index, meter in enumerate(sorted(processor.due)):
            if index and not self._queue.empty():
                # Committed first; the other meters follow in the next round.
                return
            self._process_meter(processor, meter)

    def _process_meter(self, processor: Processor, meter: str) -> None:
        try:
            processor.process(meter)
        except Exception:
            # The readings are stored: the next batch of the meter retries.
            _LOGGER.exception("Processing the readings of meter %s failed", meter)
            processor.defer(meter)

    def _run_tasks(self, tasks: deque[_Task | None]) -> None:
        while tasks:
            task = tasks.popleft()
            if task is not None and task.future.set_running_or_notify_cancel():
                try:
                    task.future.set_result(task.run())
                except Exception as err:  # the caller gets it
                    task.future.set_exception(err)

    def _stop(self, waiting: deque[_Task | None]) -> None:
        """Process the late readings only this thread knows of; run or fail what waits."""
        processor = self._processor
        if processor is not None:
            for meter in sorted(processor.noted):
                self._process_meter(processor, meter)
            if processor.due:
                error = StoreError("the reading database closed before processing caught up")
                for task in waiting:
                    if task is not None and task.future.set_running_or_notify_cancel():
                        task.future.set_exception(error)
                return
        self._run_tasks(waiting)

    def _commit(self, submissions: list[_Submission]) -> None:
        try:
            ids, captures, newest, keys = self._write(submissions)
        except (OperationalError, InterfaceError) as err:
            # The database itself is failing: retrying each submission would only wait longer.
            for submission in submissions:
                submission.future.set_exception(err)
        except Exception as err:
            if len(submissions) == 1:
                submissions[0].future.set_exception(err)
                return
            # One bad submission must not fail those that happened to share its transaction.
            for submission in submissions:
                self._commit([submission])
        else:
            start = 0
            for submission in submissions:
                end = start + len(submission.rows)
                submission.future.set_result(ids[start:end])
                start = end
            self._newest_captures = newest
            self._meter_keys = keys
            if self._processor is not None:
                self._processor.readings_written(
                    row for submission in submissions for row in submission.rows
                )
            if self._listeners:
                self._notify(submissions, captures)

    def _notify(self, submissions: list[_Submission], captures: list[dict[str, object]]) -> None:
        earliest: dict[str, int] = {}

        def note(meter: str, time_us: int) -> None:
            if time_us < earliest.get(meter, time_us + 1):
                earliest[meter] = time_us

        for submission in submissions:
            for row in submission.rows:
                note(submission.meter, cast(int, row["timestamp"]))
        for capture in captures:
            note(cast(str, capture["meter"]), cast(int, capture["captured"]))
        if not earliest:
            return
        for listener in self._listeners:
            try:
                listener(earliest)
            except Exception:
                # A listener's failure is its own: the readings are stored.
                _LOGGER.exception("A listener of committed readings failed")

    def _write(
        self, submissions: list[_Submission]
    ) -> tuple[
        list[int], list[dict[str, object]], dict[CaptureKey, tuple[int, int]], dict[str, int]
    ]:
        """Commit submissions.

        Return the readings' ids, the captures written, the newest captures and the meter keys.
        """
        rows = [row for submission in submissions for row in submission.rows]
        captures, newest = new_captures(
            [row for submission in submissions for row in submission.captures],
            self._newest_captures,
        )
        # Partial updates applied in order amount to one update with the later values winning.
        statistics: dict[str, dict[str, StatisticsValue]] = {}
        for submission in submissions:
            if submission.statistics is not None:
                statistics.setdefault(submission.meter, {}).update(submission.statistics)
        statements = self.statements
        with self._engine.begin() as connection:
            self._transactions += 1
            keys = self._meter_keys
            if rows:
                keys = add_meter_keys(connection, keys, (s.meter for s in submissions if s.rows))
            ids = insert_readings(connection, statements, rows, keys)
            count_readings(connection, statements, rows)
            for meter, values in statistics.items():
                update_statistics(connection, statements, meter, values)
            if captures:
                execute_many(connection, statements.insert_capture, captures)
        return ids, captures, newest, keys
