"""``labels.txt``: the one reader and writer of class names."""

from __future__ import annotations

import pytest

from edgecnn.core.errors import EdgeCNNError
from edgecnn.core.labels import LABELS_FILE, read_labels, write_labels


def test_round_trip_keeps_order_spaces_and_unicode(tmp_path):
    labels = ["T-shirt/top", "ankle boot", "café", "猫"]
    path = write_labels(tmp_path / "sub" / LABELS_FILE, labels)
    assert path == tmp_path / "sub" / "labels.txt"
    assert path.read_bytes() == "T-shirt/top\nankle boot\ncafé\n猫\n".encode()
    assert read_labels(path) == labels


def test_reader_strips_lines_and_drops_trailing_blank_lines_only(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_bytes(b"  cat \r\n\r\ndog\n\n \n")
    # The blank line between two names stays, so that "dog" keeps class index 2.
    assert read_labels(path) == ["cat", "", "dog"]


@pytest.mark.parametrize(("content", "message"), [(None, "labels file not found"), (b"\n \n", "labels file is empty")])
def test_reader_refuses_a_missing_or_empty_file(tmp_path, content, message):
    path = tmp_path / "labels.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(EdgeCNNError, match=message):
        read_labels(path)


def test_writer_refuses_a_name_with_a_line_break_and_leaves_no_file(tmp_path):
    with pytest.raises(EdgeCNNError, match="line break"):
        write_labels(tmp_path / "labels.txt", ["cat", "hot\ndog"])
    assert list(tmp_path.iterdir()) == []
