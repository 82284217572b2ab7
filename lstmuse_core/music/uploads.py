"""Uploaded training data: music files or zip archives of them, checked before use.

Checks: how many files, how large each is and all are together, what they
are (by suffix), and for archives every member name (no absolute paths, no
``..``, no links), the number of entries, the compression method, encryption
and the expansion ratio (zip bombs). A ``.mxl`` (compressed MusicXML) is a zip
too and gets the same checks, wherever it comes from: an upload, or a folder
the CLI trains on (`compressed_musicxml_size`, used by `corpus.read_file`).
Damaged archives are refused, never half read.
Members are written under names made here, never the names inside the archive.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lstmuse_core.errors import InvalidParameter
from lstmuse_core.music.music_files import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class UploadLimits:
    max_files: int = 2000  # music files kept, from all attachments together
    max_members: int = 10_000  # entries of one archive, folders and skipped files included
    max_file_bytes: int = 5 * 1024 * 1024  # one music file (a .mxl: all it unpacks to)
    max_total_bytes: int = 100 * 1024 * 1024  # all music unpacked, .mxl insides included
    max_ratio: float = 100.0  # uncompressed / compressed size of an archive member


# Each entry of a zip's central directory starts with this signature: counting it in the raw
# bytes bounds the entries zipfile would parse before it parses (and allocates) any of them.
# An upper bound: the entries of a .mxl stored (not deflated) in a .zip count too.
_CENTRAL_DIRECTORY_ENTRY = b"PK\x01\x02"
# What zip tools and MusicXML writers use. zipfile inflates these with bounded output per call
# (not bzip2 or lzma), so nothing else is even opened.
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED = 0x1  # general-purpose flag bit 0
# What zipfile and zlib raise on damaged input: bad CRC, truncated or corrupt streams, headers
# that disagree, undecodable names. Only zipfile calls are guarded, never our own checks.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
    struct.error,
)


def save_uploads(
    uploads: list[tuple[str, bytes]], folder: Path, limits: UploadLimits = UploadLimits()
) -> list[Path]:
    """Write uploaded ``(file name, bytes)`` pairs (music files or .zip) into ``folder``.

    Every file is checked before anything is written; a refusal names the attachment (and
    the archive member) and what is allowed.
    """
    files: list[tuple[str, bytes]] = []
    unpacked = 0  # bytes music21 would read, the insides of .mxl files included
    for name, data in uploads:
        if _suffix(name) == ".zip":
            found = _archive_files(name, data, limits, limits.max_total_bytes, music_only=True)
        else:
            found = iter([(name, name, data)])
        for label, file_name, content in found:
            unpacked += _music_file_size(label, file_name, content, limits)
            files.append((file_name, content))
            if len(files) > limits.max_files:
                raise InvalidParameter(
                    "attachments",
                    f"over {limits.max_files} files",
                    f"at most {limits.max_files} music files",
                )
            if unpacked > limits.max_total_bytes:
                raise InvalidParameter(
                    "attachments",
                    f"over {limits.max_total_bytes} bytes",
                    f"at most {limits.max_total_bytes} bytes in all, unpacked",
                )
    if not files:
        raise InvalidParameter("attachments", "none", "MIDI, MusicXML, ABC or kern files, or a zip")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, (name, data) in enumerate(files, start=1):
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", PurePosixPath(name).stem)[:40] or "file"
        path = folder / f"{number:05d}-{stem}{_suffix(name)}"
        path.write_bytes(data)
        written.append(path)
    return written


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _music_file_size(label: str, name: str, data: bytes, limits: UploadLimits) -> int:
    """Bytes music21 would read from one music file: its size, or what a .mxl unpacks to."""
    if _suffix(name) not in SUPPORTED_SUFFIXES:
        raise InvalidParameter(
            "attachment", label, f"music files: {', '.join(sorted(SUPPORTED_SUFFIXES))} or .zip"
        )
    if len(data) > limits.max_file_bytes:
        raise InvalidParameter(
            "attachment", label, f"files of at most {limits.max_file_bytes} bytes"
        )
    if _suffix(name) != ".mxl":
        return len(data)
    return compressed_musicxml_size(label, data, limits)


def compressed_musicxml_size(
    label: str, data: bytes, limits: UploadLimits = UploadLimits(), parameter: str = "attachment"
) -> int:
    """Bytes a .mxl unpacks to, read member by member through the checks of this module.

    A .mxl is a zip that music21 inflates: unchecked, a 100 KB one became 100 MiB.
    A refusal is an `InvalidParameter` naming ``parameter`` (``label``: the file).
    """
    inside = _archive_files(
        label, data, limits, limits.max_file_bytes, music_only=False, parameter=parameter
    )
    return sum(len(content) for _, _, content in inside)


def _archive_files(
    label: str,
    data: bytes,
    limits: UploadLimits,
    max_unpacked: int,
    *,
    music_only: bool,
    parameter: str = "attachment",
) -> Iterator[tuple[str, str, bytes]]:
    """``(label, file name, bytes)`` of each file in a zip, checked on its header before reading.

    ``music_only`` skips what is not music (readmes, ``__MACOSX``, dot files), as for an
    uploaded .zip; otherwise every file is read, as music21 may for a .mxl. Files are read
    one at a time, so the caller's limits stop the reading early.
    """
    if data.count(_CENTRAL_DIRECTORY_ENTRY) > limits.max_members:
        raise InvalidParameter(
            parameter,
            label,
            f"archives of at most {limits.max_members} entries (folders and skipped files count)",
        )
    with _intact(label, parameter):
        archive = zipfile.ZipFile(io.BytesIO(data))
    declared = 0
    with archive:
        for info in archive.infolist():
            member = f"{label}: {info.filename}"
            # Windows' own zip tools write "tunes\a.mid": a separator, not a character.
            path = PurePosixPath(info.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts:
                raise InvalidParameter(
                    parameter, member, "archive members with plain relative names"
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InvalidParameter(parameter, member, "archives without symbolic links")
            if info.is_dir():
                continue
            if music_only and path.suffix.lower() == ".zip":
                # Refused rather than skipped: the admin meant those files to be used.
                raise InvalidParameter(
                    parameter, member, "music files in the .zip itself (no .zip inside a .zip)"
                )
            if music_only and (
                path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES
            ):
                continue
            if info.flag_bits & _ENCRYPTED:
                raise InvalidParameter(parameter, member, "archive members without encryption")
            if info.compress_type not in _METHODS:
                raise InvalidParameter(
                    parameter, member, "archive members stored or deflated (the usual methods)"
                )
            if info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise InvalidParameter(
                    parameter, member, f"compression ratios up to {limits.max_ratio:g}"
                )
            if info.file_size > limits.max_file_bytes:
                raise InvalidParameter(
                    parameter, member, f"files of at most {limits.max_file_bytes} bytes"
                )
            declared += info.file_size
            if declared > max_unpacked:
                raise InvalidParameter(
                    parameter, label, f"archives of at most {max_unpacked} bytes unpacked"
                )
            # zipfile stops at the declared size and then checks the CRC, so a header that lies
            # about the size fails here instead of inflating further; the cap is a second guard.
            with _intact(member, parameter), archive.open(info) as stream:
                content = stream.read(limits.max_file_bytes + 1)
            yield member, path.name, content


@contextmanager
def _intact(label: str, parameter: str) -> Iterator[None]:
    """Turn what zipfile or zlib raise on a damaged archive into a refusal naming ``label``."""
    try:
        yield
    except _DAMAGED as error:
        raise InvalidParameter(
            parameter, label, "a readable .zip or .mxl archive (undamaged, unencrypted)"
        ) from error
