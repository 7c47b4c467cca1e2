"""The shared parsers: comma-separated lists and image sizes (WIDTHxHEIGHT, named axes)."""

from __future__ import annotations

import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.parsing import ImageSize, parse_list, parse_size


def test_parse_list_reads_strings_arrays_and_single_numbers():
    assert parse_list("0.25, 0.5", float, "alpha") == (0.25, 0.5)
    assert parse_list([1, "2", 3.0], int, "size") == (1, 2, 3)
    assert parse_list(32, int, "size") == (32,)
    assert parse_list("int8,float16", str, "quantize") == ("int8", "float16")
    assert parse_list("32.0", int, "size") == (32,)


@pytest.mark.parametrize(
    "value, item, message",
    [
        ("32,,64", int, "size has an empty item. Received '32,,64'"),
        ("3.5", int, "size expects integers separated by commas. Received '3.5'"),
        ("1,x", float, "size expects numbers separated by commas. Received 'x'"),
        ([True], float, "size expects numbers separated by commas. Received True"),
        ([[1, 2]], str, "size expects names separated by commas. Received [1, 2]"),
    ],
)
def test_parse_list_names_the_parameter_and_the_bad_item(value, item, message):
    with pytest.raises(EdgeCNNError) as info:
        parse_list(value, item, "size")
    assert str(info.value) == message
    assert info.value.params == ("size",)


def test_parse_list_takes_an_item_converter():
    def threads(text: str) -> int | None:
        if text == "default":
            return None
        if not text.isdigit():
            raise ValueError(text)
        return int(text)

    assert parse_list("1, default,4", threads, "threads") == (1, None, 4)
    with pytest.raises(EdgeCNNError, match="threads expects positive counts separated by commas. Received 'two'"):
        parse_list("1,two", threads, "threads", what="positive counts")


def test_parse_size_is_width_x_height_with_named_axes():
    size = parse_size("640x480")
    assert size == ImageSize(width=640, height=480)
    assert (size.width, size.height) == (640, 480)
    assert size.hw == (480, 640) and size.wh == (640, 480)
    assert str(size) == "640x480"
    assert parse_size(" 320 X 240 ") == ImageSize(width=320, height=240)
    with pytest.raises(TypeError):  # no unpacking, so the axes cannot be mixed up
        width, height = size  # noqa: F841


def test_parse_size_squares_and_pass_through():
    assert parse_size(224) == ImageSize(224, 224)
    assert parse_size("96") == ImageSize(96, 96)
    same = ImageSize(width=10, height=20)
    assert parse_size(same) is same
    with pytest.raises(EdgeCNNError, match="frame expects WIDTHxHEIGHT \\(such as 640x480\\). Received frame='640'"):
        parse_size("640", "frame", square=False)


@pytest.mark.parametrize("value", ["abc", "0x10", "10x", "10x20x30", "-5", 0, True, (96, 64), 2.5])
def test_parse_size_refuses_everything_else(value):
    with pytest.raises(EdgeCNNError) as info:
        parse_size(value)
    assert str(info.value).startswith("size expects WIDTHxHEIGHT") and info.value.params == ("size",)


def test_from_hw_is_the_explicit_keras_order():
    assert ImageSize.from_hw((120, 160)) == ImageSize(width=160, height=120)
    assert ImageSize.from_hw([7]) == ImageSize(7, 7)
    for bad in ((0, 5), (1, 2, 3), "12", (True, 3)):
        with pytest.raises(EdgeCNNError, match=r"size must be a \(height, width\) pair"):
            ImageSize.from_hw(bad)
