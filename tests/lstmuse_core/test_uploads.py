"""Uploaded training data: archives and files are checked before anything is written."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.uploads import UploadLimits, save_uploads

TUNE = b"X:1\nM:4/4\nL:1/4\nK:C\nC D E F |\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_files_and_archives_are_saved_under_safe_names(tmp_path: Path) -> None:
    """Music files and zipped music are written with names made here; others skipped."""
    archive = _zip({"tunes/a b.abc": TUNE, "README.txt": b"hi", "__MACOSX/._a.abc": b"x"})
    written = save_uploads([("mine.abc", TUNE), ("more.zip", archive)], tmp_path)
    assert [p.name for p in written] == ["00001-mine.abc", "00002-a_b.abc"]
    assert all(p.read_bytes() == TUNE for p in written)


@pytest.mark.parametrize("member", ["../evil.abc", "/etc/evil.abc", "a\\..\\evil.abc"])
def test_path_traversal_is_refused(tmp_path: Path, member: str) -> None:
    """Absolute names and '..' inside an archive are refused, naming the member."""
    with pytest.raises(InvalidParameter, match="plain relative names"):
        save_uploads([("bad.zip", _zip({member: TUNE}))], tmp_path)
    assert not list(tmp_path.rglob("*.abc"))


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    """A member that expands far beyond its compressed size is refused."""
    bomb = _zip({"bomb.abc": b"A" * 5_000_000})
    with pytest.raises(InvalidParameter, match="compression ratios"):
        save_uploads([("bomb.zip", bomb)], tmp_path)


def test_count_size_and_kind_limits(tmp_path: Path) -> None:
    """Too many files, too large a file, or not music: each refused with the limit."""
    limits = UploadLimits(max_files=2, max_file_bytes=100)
    with pytest.raises(InvalidParameter, match="at most 2"):
        save_uploads([(f"{i}.abc", TUNE) for i in range(3)], tmp_path, limits)
    with pytest.raises(InvalidParameter, match="at most 100 bytes"):
        save_uploads([("big.abc", TUNE * 10)], tmp_path, limits)
    with pytest.raises(InvalidParameter, match="music files"):
        save_uploads([("virus.exe", b"MZ")], tmp_path, limits)
    with pytest.raises(InvalidParameter, match=r"readable \.zip"):
        save_uploads([("broken.zip", b"PK\x03\x04nope")], tmp_path, limits)
