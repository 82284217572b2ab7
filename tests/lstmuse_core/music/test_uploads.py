"""Uploaded training data: archives and files are checked before anything is written."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

import music21
import pytest

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.uploads import UploadLimits, save_uploads

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


def test_windows_zips_with_backslash_folders_are_read(tmp_path: Path) -> None:
    """PowerShell's Compress-Archive writes 'tunes\\a.abc': a folder, not a strange name."""
    written = save_uploads([("win.zip", _zip({"tunes\\a.abc": TUNE}))], tmp_path)
    assert [p.name for p in written] == ["00001-a.abc"]


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


def _mxl(score: bytes) -> bytes:
    """A compressed MusicXML file (a zip) around ``score``."""
    container = b'<container><rootfiles><rootfile full-path="score.xml"/></rootfiles></container>'
    return _zip({"META-INF/container.xml": container, "score.xml": score})


BOMB_SCORE = b"<note/>" * 3_000_000  # 21 MB that deflates to about 20 KB


@pytest.mark.parametrize(
    ("limits", "refusal"),
    [(UploadLimits(), "compression ratios"), (UploadLimits(max_ratio=1e9), "at most 5242880")],
)
@pytest.mark.parametrize("inside_zip", [False, True])
def test_mxl_bomb_is_refused(
    tmp_path: Path, limits: UploadLimits, refusal: str, inside_zip: bool
) -> None:
    """A .mxl that inflates past the ratio or size limit is refused, uploaded alone or zipped."""
    upload = ("bomb.mxl", _mxl(BOMB_SCORE))
    if inside_zip:
        upload = ("scores.zip", _zip(dict([upload])))
    with pytest.raises(InvalidParameter, match=refusal) as refused:
        save_uploads([upload], tmp_path, limits)
    assert "score.xml" in refused.value.value
    assert not list(tmp_path.iterdir())


def test_real_mxl_is_accepted(tmp_path: Path) -> None:
    """A .mxl written by music21 passes, alone and inside a zip, and is saved byte for byte."""
    mxl_path = tmp_path / "bwv66.mxl"
    music21.corpus.parse("bach/bwv66.6").write("mxl", fp=mxl_path)
    mxl = mxl_path.read_bytes()
    written = save_uploads(
        [("bwv66.mxl", mxl), ("more.zip", _zip({"chorales/bwv66.mxl": mxl}))], tmp_path / "out"
    )
    assert [p.name for p in written] == ["00001-bwv66.mxl", "00002-bwv66.mxl"]
    assert all(p.read_bytes() == mxl for p in written)


def test_skipped_members_count_towards_the_entry_limit(tmp_path: Path) -> None:
    """An archive of more entries than allowed is refused even if nearly all would be skipped."""
    members = {f"__MACOSX/._{i}.abc": b"" for i in range(10_000)}  # the default limit
    members["tune.abc"] = TUNE
    with pytest.raises(InvalidParameter, match="at most 10000 entries"):
        save_uploads([("many.zip", _zip(members))], tmp_path)


def test_zip_inside_a_zip_is_refused(tmp_path: Path) -> None:
    """A .zip inside an uploaded .zip is refused by name rather than silently skipped."""
    archive = _zip({"tune.abc": TUNE, "inner.zip": _zip({"other.abc": TUNE})})
    with pytest.raises(InvalidParameter, match=r"no \.zip inside a \.zip") as refused:
        save_uploads([("outer.zip", archive)], tmp_path)
    assert "inner.zip" in refused.value.value


def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def _patch_both_headers(data: bytes, local_offset: int, new: bytes) -> bytes:
    """Patch a field of the first member in its local header and its central directory entry."""
    central = data.index(b"PK\x01\x02") + local_offset + 2  # the central entry has 2 more bytes
    return _patch(_patch(data, local_offset, new), central, new)


def _one_member(method: int = zipfile.ZIP_DEFLATED, data: bytes = TUNE * 50) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("tune.abc", data)
    return buffer.getvalue()


MEMBER_DATA = 30 + len("tune.abc")  # where the first member's (compressed) data starts
METHOD, FLAGS, COMPRESSED_SIZE, FILE_SIZE = 8, 6, 18, 22  # field offsets in a local header


def _flipped(data: bytes, offset: int) -> bytes:
    return _patch(data, offset, bytes([data[offset] ^ 0xFF]))


def _overstated(data: bytes) -> bytes:
    # Both sizes claim more bytes than the archive holds after the member's start.
    size = (5000).to_bytes(4, "little")
    return _patch_both_headers(_patch_both_headers(data, COMPRESSED_SIZE, size), FILE_SIZE, size)


def _truncated_stream() -> bytes:
    # A deflate stream cut before its last block, stored, then labelled deflated.
    compressor = zlib.compressobj(wbits=-15)
    cut = compressor.compress(TUNE * 50) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return _patch_both_headers(_one_member(zipfile.ZIP_STORED, cut), METHOD, b"\x08\x00")


UNREADABLE = "readable .zip or .mxl archive"
DAMAGED = {  # how each archive is damaged: (how to build it, what the refusal says is allowed)
    "bad crc (stored)": (
        lambda: _flipped(_one_member(zipfile.ZIP_STORED), MEMBER_DATA + 5),
        UNREADABLE,
    ),
    "invalid deflate block": (lambda: _patch(_one_member(), MEMBER_DATA, b"\xff"), UNREADABLE),
    "unknown method": (
        lambda: _patch_both_headers(_one_member(), METHOD, b"\x63\x00"),
        "stored or deflated",
    ),
    "encrypted flag": (
        lambda: _patch_both_headers(_one_member(), FLAGS, b"\x01\x00"),
        "without encryption",
    ),
    "size understated": (
        lambda: _patch_both_headers(_one_member(), FILE_SIZE, b"\x10\x00\x00\x00"),
        UNREADABLE,
    ),
    "sizes past the end": (lambda: _overstated(_one_member(zipfile.ZIP_STORED)), UNREADABLE),
    "truncated stream": (_truncated_stream, UNREADABLE),
    "truncated file": (lambda: _one_member()[:-30], UNREADABLE),
}


@pytest.mark.parametrize("damage", DAMAGED)
@pytest.mark.parametrize("suffix", [".zip", ".mxl"])
def test_damaged_archives_are_refused_by_name(tmp_path: Path, damage: str, suffix: str) -> None:
    """Bad CRC, unknown method, encryption, lying sizes, truncation: a clear refusal, no crash."""
    build, allowed = DAMAGED[damage]
    with pytest.raises(InvalidParameter, match=re.escape(allowed)) as refused:
        save_uploads([(f"scores{suffix}", build())], tmp_path)
    assert refused.value.value.startswith(f"scores{suffix}")
    assert not list(tmp_path.iterdir())


def test_a_training_folder_s_nested_mxl_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """`lstmuse preprocess/train --input DIR` reads a .mxl through the same checks as an
    upload: a nested one inflating to 200 MiB is dropped by name in well under a second,
    and the tune beside it is still read."""
    import resource
    import time

    from lstmuse_core.music.corpus import ReadOptions, find_music_files, read_file

    nested = tmp_path / "scores" / "deep"
    nested.mkdir(parents=True)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("score.xml", b"<" + b" " * (200 * 1024 * 1024))
    (nested / "bomb.mxl").write_bytes(bomb.getvalue())
    (tmp_path / "tune.abc").write_bytes(TUNE)
    paths, _ = find_music_files(tmp_path)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    results = {path.name: read_file(path, path.name, ReadOptions()) for path in paths}
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 50 * 1024  # KiB
    (dropped,) = results["bomb.mxl"]
    assert dropped.reason == "refused archive"
    assert "file='bomb.mxl: score.xml' is not allowed: compression ratios up to 100" in (
        dropped.detail
    )
    assert [type(song).__name__ for song in results["tune.abc"]] == ["Song"]
