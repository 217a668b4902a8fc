"""Why a telegram was not accepted."""


class TelegramError(Exception):
    """A telegram that cannot be used: incomplete, unparsable or corrupted."""


class ChecksumError(TelegramError):
    """The telegram's CRC does not match its contents."""


class DecryptionFailed(TelegramError):
    """An encrypted telegram did not decrypt with the configured key."""
