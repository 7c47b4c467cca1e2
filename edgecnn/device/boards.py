"""RAM and flash budgets of common microcontroller boards, and which of them a TFLite Micro model fits.

The figures are the vendors' published on-chip SRAM and (on-board) flash; ``source`` says where. A model fits a
board when its measured tensor arena plus :data:`RAM_RESERVE_BYTES` fits the SRAM and its ``.tflite`` plus
:data:`FLASH_RESERVE_BYTES` fits the flash. The reserves are assumptions, not measurements: they stand for what
the firmware needs besides the model (see docs/micro.md). External PSRAM (ESP32-S3 N8R8 and others) is not
counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: RAM the firmware needs besides the arena: stack, the MicroInterpreter object, the input image, the application.
RAM_RESERVE_BYTES = 16 * 1024
#: Flash besides the model: TFLM's core runtime (about 16 KB on a Cortex-M3, TFLM documentation), the kernels of
#: a small CNN and a bare-metal application. A full SDK (Arduino Mbed core, ESP-IDF) takes more.
FLASH_RESERVE_BYTES = 64 * 1024
#: Published size of TFLM's core runtime (ai.google.dev/edge/litert/microcontrollers/overview: "The core runtime just
#: fits in 16 KB on an Arm Cortex M3").
TFLM_CORE_RUNTIME_BYTES = 16 * 1024


@dataclass(frozen=True)
class Board:
    """One board's memory.

    Attributes:
        name: Board name.
        chip: Microcontroller and core.
        ram_bytes: On-chip SRAM.
        flash_bytes: Flash available for the program (on-chip or the board's QSPI chip).
        source: Where the figures come from.
    """

    name: str
    chip: str
    ram_bytes: int
    flash_bytes: int
    source: str

    def fits(
        self,
        arena_bytes: int | None,
        flash_bytes: int | None,
        ram_reserve: int = RAM_RESERVE_BYTES,
        flash_reserve: int = FLASH_RESERVE_BYTES,
    ) -> bool:
        """Whether a model with this arena and file size fits, with the reserves (False when a figure is missing)."""
        if arena_bytes is None or flash_bytes is None:
            return False
        return arena_bytes + ram_reserve <= self.ram_bytes and flash_bytes + flash_reserve <= self.flash_bytes


KB = 1024
BOARDS: tuple[Board, ...] = (
    Board(
        "Nucleo-L432KC",
        "STM32L432KC, Cortex-M4F 80 MHz",
        64 * KB,
        256 * KB,
        "https://www.st.com/en/microcontrollers-microprocessors/stm32l432kc.html",
    ),
    Board(
        "WeAct Black Pill F411",
        "STM32F411CE, Cortex-M4F 100 MHz",
        128 * KB,
        512 * KB,
        "https://www.st.com/en/microcontrollers-microprocessors/stm32f411ce.html",
    ),
    Board(
        "Arduino Nano 33 BLE Sense",
        "nRF52840, Cortex-M4F 64 MHz",
        256 * KB,
        1024 * KB,
        "https://docs.arduino.cc/hardware/nano-33-ble-sense/",
    ),
    Board(
        "Raspberry Pi Pico",
        "RP2040, 2x Cortex-M0+ 133 MHz",
        264 * KB,
        2048 * KB,
        "https://datasheets.raspberrypi.com/pico/pico-datasheet.pdf",
    ),
    Board(
        "STM32F746G-DISCO",
        "STM32F746NG, Cortex-M7 216 MHz",
        320 * KB,
        1024 * KB,
        "https://www.st.com/en/evaluation-tools/32f746gdiscovery.html",
    ),
    Board(
        "SparkFun Edge",
        "Ambiq Apollo3 Blue, Cortex-M4F 48 MHz",
        384 * KB,
        1024 * KB,
        "https://www.sparkfun.com/products/15170",
    ),
    Board(
        "ESP32-S3-DevKitC-1 (N8)",
        "ESP32-S3, 2x Xtensa LX7 240 MHz",
        512 * KB,
        8192 * KB,
        "https://www.espressif.com/sites/default/files/documentation/esp32-s3_datasheet_en.pdf",
    ),
    Board(
        "Raspberry Pi Pico 2",
        "RP2350, 2x Cortex-M33 150 MHz",
        520 * KB,
        4096 * KB,
        "https://datasheets.raspberrypi.com/pico/pico-2-datasheet.pdf",
    ),
)


def boards_fitting(arena_bytes: int | None, flash_bytes: int | None) -> list[str]:
    """Names of the :data:`BOARDS` a model fits (with the reserves), smallest RAM first."""
    return [board.name for board in BOARDS if board.fits(arena_bytes, flash_bytes)]


def board_table() -> list[dict[str, Any]]:
    """The board table as JSON-ready rows (with the reserves used for fitting)."""
    return [
        {**asdict(board), "ram_reserve_bytes": RAM_RESERVE_BYTES, "flash_reserve_bytes": FLASH_RESERVE_BYTES}
        for board in BOARDS
    ]
