"""Why the reading database refused a request."""


class StoreError(Exception):
    """The reading database cannot be used as asked."""


class StoreBusy(StoreError):
    """The writer's queue is full; the caller should shed load and try again later."""


class DuplicateDay(StoreError):
    """Day statistics of that meter and day exist already."""
