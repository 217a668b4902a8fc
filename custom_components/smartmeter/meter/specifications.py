"""The DSMR telegram specifications we support, with their line settings."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from dsmr_parser import telegram_specifications as specs

type Parity = Literal["N", "E"]


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """How the P1 port's UART is set up."""

    baudrate: int
    bytesize: int
    parity: Parity

    @property
    def label(self) -> str:
        """Return the usual short notation, e.g. ``115200 8N1``."""
        return f"{self.baudrate} {self.bytesize}{self.parity}1"


SERIAL_115200_8N1: Final = SerialSettings(115200, 8, "N")
SERIAL_115200_7E1: Final = SerialSettings(115200, 7, "E")
SERIAL_9600_7E1: Final = SerialSettings(9600, 7, "E")
# The order auto-detection tries them in: today's meters first.
SERIAL_CANDIDATES: Final = (SERIAL_115200_8N1, SERIAL_115200_7E1, SERIAL_9600_7E1)


# The readings' fields a telegram must carry, as DSMR-reader's columns without a default: the
# tariff 2 registers alone may be missing (meters with one tariff); DSMR-reader stores 0 then.
REQUIRED_REGISTERS: Final = (
    "electricity_delivered_1",
    "electricity_returned_1",
    "electricity_currently_delivered",
    "electricity_currently_returned",
)


@dataclass(frozen=True, slots=True)
class Specification:
    """One telegram format as dsmr-parser knows it."""

    key: str
    label: str
    objects: dict[str, Any]
    serial: SerialSettings
    # The telegram attribute holding the meter's equipment identifier, if any.
    equipment_id: str | None = "EQUIPMENT_IDENTIFIER"
    encrypted: bool = False
    # Belgian and Hungarian meters number their tariffs the other way round.
    tariff_codes_swapped: bool = False
    # Meters that count totals only (1-0:1.8.0, 1-0:2.8.0): these stand in for tariff 1, as
    # DSMR-reader does for the Smarty.
    totals_as_tariff_1: bool = False
    # The readings' fields (REQUIRED_REGISTERS) without which a telegram is refused.
    required: tuple[str, ...] = REQUIRED_REGISTERS

    @property
    def checksum_required(self) -> bool:
        """Return whether every telegram must end in a CRC (DSMR 4 on)."""
        return bool(self.objects["checksum_support"])


def _with_legacy_gas(specification: dict[str, Any]) -> dict[str, Any]:
    """Add DSMR 2.2's gas (its value on the line after 0-n:24.3.0), which some DSMR 4.0 send."""
    legacy = next(
        item for item in specs.V2_2["objects"] if item["value_name"] == "GAS_METER_READING"
    )
    return {**specification, "objects": [*specification["objects"], legacy]}


SPECIFICATIONS: Final = MappingProxyType(
    {
        spec.key: spec
        for spec in (
            Specification("2.2", "DSMR 2.2 / 3.0", specs.V2_2, SERIAL_9600_7E1),
            Specification("4", "DSMR 4", _with_legacy_gas(specs.V4), SERIAL_115200_8N1),
            Specification("5", "DSMR 5", specs.V5, SERIAL_115200_8N1),
            Specification(
                "5B",
                "DSMR 5B (Belgium, Fluvius)",
                specs.BELGIUM_FLUVIUS,
                SERIAL_115200_8N1,
                "BELGIUM_EQUIPMENT_IDENTIFIER",
                tariff_codes_swapped=True,
            ),
            Specification(
                "5L",
                "DSMR 5L (Luxembourg, unencrypted)",
                specs.LUXEMBOURG_SMARTY,
                SERIAL_115200_8N1,
                "LUXEMBOURG_EQUIPMENT_IDENTIFIER",
                totals_as_tariff_1=True,
            ),
            Specification(
                "5S",
                "DSMR 5S (Sweden)",
                specs.SWEDEN,
                SERIAL_115200_8N1,
                None,
                totals_as_tariff_1=True,
            ),
            Specification(
                "Q3D",
                "EasyMeter Q3D (Germany, Austria)",
                specs.Q3D,
                SERIAL_115200_8N1,
                "Q3D_EQUIPMENT_IDENTIFIER",
                totals_as_tariff_1=True,
                # Some count delivered energy only: no export registers at all.
                required=("electricity_delivered_1", "electricity_currently_delivered"),
            ),
            Specification(
                "5EONHU",
                "DSMR 5 (E.ON Hungary)",
                specs.EON_HUNGARY,
                SERIAL_115200_8N1,
                "COSEM_LOGICAL_DEVICE_NAME",
                tariff_codes_swapped=True,
            ),
            Specification("ISKRA_IE", "Iskra (Ireland)", specs.ISKRA_IE, SERIAL_115200_8N1, None),
            Specification(
                "MSn",
                "Luxembourg Smarty, encrypted (Creos)",
                specs.MSN,
                SERIAL_115200_8N1,
                "LUXEMBOURG_EQUIPMENT_IDENTIFIER",
                encrypted=True,
                totals_as_tariff_1=True,
            ),
            Specification(
                "SAGEMCOM_T210_D_R",
                "Sagemcom T210-D-r, encrypted (Austria)",
                specs.SAGEMCOM_T210_D_R,
                SERIAL_115200_8N1,
                None,
                encrypted=True,
            ),
        )
    }
)
