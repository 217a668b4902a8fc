"""Turn one framed telegram into dsmr-parser's ``Telegram``, checking its CRC."""

from __future__ import annotations

import re
from typing import Final

from dsmr_parser.exceptions import DecryptionError, InvalidChecksumError, ParseError
from dsmr_parser.objects import Telegram
from dsmr_parser.parsers import TelegramParser

from .errors import ChecksumError, DecryptionFailed, TelegramError
from .specifications import Specification

# A CRC follows the '!' from DSMR 4 on; some meters drop its leading zeros.
_HAS_CRC: Final = re.compile(r"![0-9A-F]{1,4}\r?\n?$")


class TelegramDecoder:
    """Parses telegrams of one specification; the CRC is checked whenever present.

    dsmr-parser only checks the CRC for specifications that always carry one, so
    meters that send a CRC under a "no CRC" specification (Iskra IE) would go
    unchecked; we check it ourselves for plain telegrams.
    """

    __slots__ = ("_encryption_key", "_parser", "specification")

    def __init__(self, specification: Specification, encryption_key: str | None = None) -> None:
        """Prepare the parser (it compiles its regexes once)."""
        self.specification = specification
        self._encryption_key = encryption_key or ""
        self._parser = TelegramParser(
            specification.objects, apply_checksum_validation=specification.encrypted
        )

    def decode(self, frame: str) -> Telegram:
        """Parse a frame: telegram text, or hex of a DLMS frame when encrypted."""
        try:
            if self.specification.encrypted:
                # authentication_key=None: decrypt without the GCM tag (its key is
                # unknown for most meters); the decrypted telegram's CRC still counts.
                return self._parser.parse(
                    frame, encryption_key=self._encryption_key, authentication_key=None
                )
            if _HAS_CRC.search(frame):
                TelegramParser.validate_checksum(frame)
            return self._parser.parse(frame)
        except InvalidChecksumError as err:
            raise ChecksumError(str(err)) from err
        except DecryptionError as err:
            raise DecryptionFailed(str(err)) from err
        except (ParseError, ValueError, IndexError) as err:
            # dsmr-parser raises ValueError/IndexError on some malformed lines.
            raise TelegramError(f"Unparsable telegram: {err}") from err
