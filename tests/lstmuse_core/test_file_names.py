"""File names: safe stems, unique per request, and cheap for the bot to make."""

from __future__ import annotations

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.file_names import melody_file_stem, new_short_id, validate_stem


def test_melody_file_stem_names_style_seed_temperature_and_id() -> None:
    """The stem is safe for validate_stem, fits the -N suffix, and differs by temperature."""
    assert melody_file_stem("folk", 12, 0.8, "3fa9c2") == "folk-12-t0_8-3fa9c2"
    assert melody_file_stem("folk", 12, 1.0, "3fa9c2") == "folk-12-t1-3fa9c2"
    longest = melody_file_stem("a" * 32, 2**31 - 1, 0.123456, "abcdef12")
    assert validate_stem(longest + "-4") and len(longest) <= 60
    ids = {new_short_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 6 for i in ids)
    with pytest.raises(InvalidParameter, match="short_id"):
        melody_file_stem("folk", 12, 0.8, "../x")


@pytest.mark.parametrize("stem", ["", "../up", "a b", "x" * 65, "melody.mid"])
def test_validate_stem_refuses_what_is_not_a_plain_name(stem: str) -> None:
    """Empty, a path, a space, over 64 characters or a dot: refused, naming the stem."""
    with pytest.raises(InvalidParameter, match="stem"):
        validate_stem(stem)
