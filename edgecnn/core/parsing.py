"""The two small value parsers every command shares: comma-separated lists and image sizes.

Sizes have one documented axis order, **WIDTHxHEIGHT** (the camera and OpenCV convention: ``640x480`` is a
landscape VGA frame), for every ``--size``-like flag. :func:`parse_size` returns an :class:`ImageSize` with named
fields that cannot be unpacked, so a caller cannot swap the axes by accident; code that needs the Keras / NHWC
order asks for :attr:`ImageSize.hw` explicitly.

Errors name the parameter (``threads expects ... Received ...``) and carry it as ``EdgeCNNError.params``; the CLI
shows the flag (``--threads``) instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from edgecnn.core.errors import EdgeCNNError

_DESCRIPTIONS = {int: "integers", float: "numbers", str: "names"}


def _convert_item(text: str, item: type | Callable[[str], Any]) -> Any:
    if item is int:
        number = float(text)
        if not number.is_integer():
            raise ValueError(text)
        return int(number)
    if item is float:
        return float(text)
    if item is str:
        return text
    return item(text)


def parse_list(
    value: str | Sequence[Any] | float,
    item: type | Callable[[str], Any],
    name: str,
    *,
    what: str | None = None,
) -> tuple:
    """A list from a comma-separated string (``"0.25, 0.5"``), a list or tuple (a config file's array), or one number.

    Args:
        value: The value as given.
        item: ``int``, ``float`` or ``str``, or a function turning one stripped item into a value (raising
            ``ValueError`` for a bad one). ``int`` accepts integral numbers only (``"32"``, ``32.0``, not ``3.5``).
        name: The parameter's name, for errors.
        what: How errors describe the items (default: ``integers``, ``numbers`` or ``names``).

    Returns:
        The converted items, in order.

    Raises:
        EdgeCNNError: On an empty item or an item that does not convert.
    """
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    description = what or _DESCRIPTIONS.get(item, "values")  # type: ignore[arg-type]
    out = []
    for raw in items:
        bad = isinstance(raw, bool | list | tuple | dict) or (raw is None)
        text = "" if bad else str(raw).strip()
        if not bad and not text:
            raise EdgeCNNError(f"{name} has an empty item. Received {value!r}", param=name)
        try:
            if bad:
                raise ValueError(raw)
            out.append(_convert_item(text, item))
        except (TypeError, ValueError):
            shown = raw if bad else text
            raise EdgeCNNError(
                f"{name} expects {description} separated by commas. Received {shown!r}", param=name
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class ImageSize:
    """An image size in pixels with named axes (deliberately not a tuple: it cannot be unpacked in the wrong order).

    ``str(size)`` is the flag spelling, ``WIDTHxHEIGHT``.
    """

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def hw(self) -> tuple[int, int]:
        """``(height, width)``: the Keras / NHWC order (``input_shape``, a run's ``config.json``)."""
        return self.height, self.width

    @property
    def wh(self) -> tuple[int, int]:
        """``(width, height)``: the OpenCV order (``cv2.resize`` ``dsize``, camera frame sizes)."""
        return self.width, self.height

    @classmethod
    def from_hw(cls, pair: Sequence[int], name: str = "size") -> ImageSize:
        """From a ``(height, width)`` pair (one value: a square), the order Keras shapes and run files use.

        Raises:
            EdgeCNNError: If ``pair`` is not one or two positive integers.
        """
        values = list(pair) if isinstance(pair, list | tuple) else []
        if len(values) not in (1, 2) or not all(_is_int(v) and v > 0 for v in values):
            raise EdgeCNNError(
                f"{name} must be a (height, width) pair of positive integers. Received {name}={pair!r}", param=name
            )
        height, width = (values[0], values[0]) if len(values) == 1 else values
        return cls(width=int(width), height=int(height))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_size(value: int | str | ImageSize, name: str = "size", *, square: bool = True) -> ImageSize:
    """An image size from ``"640x480"`` (WIDTHxHEIGHT), or one number for a square (``224``, ``"224"``).

    Args:
        value: The value as given on the command line or in a file; an :class:`ImageSize` passes through.
        name: The parameter's name, for errors.
        square: Accept a single number as a square size.

    Raises:
        EdgeCNNError: If the value is not WIDTHxHEIGHT (or a number) of positive integers.
    """
    if isinstance(value, ImageSize):
        return value
    shape = "WIDTHxHEIGHT (such as 640x480)" + (" or one number for a square" if square else "")
    problem = EdgeCNNError(f"{name} expects {shape}. Received {name}={value!r}", param=name)
    if _is_int(value):
        parts = [str(value)] if square else []
    elif isinstance(value, str):
        parts = [part.strip() for part in value.lower().split("x")]
        if len(parts) == 1 and not square:
            parts = []
    else:
        parts = []
    if len(parts) not in (1, 2) or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise problem
    width, height = (int(parts[0]), int(parts[-1]))
    return ImageSize(width=width, height=height)
