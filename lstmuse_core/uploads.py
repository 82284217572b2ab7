"""Uploaded training data: music files or zip archives of them, checked before use.

Checks: how many files, how large each is and all are together, what they
are (by suffix), and for archives every member name (no absolute paths, no
``..``, no links) and the expansion ratio (zip bombs). Members are written
under names made here, never the names inside the archive.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lstmuse_core.corpus import SUPPORTED_SUFFIXES
from lstmuse_core.errors import InvalidParameter


@dataclass(frozen=True)
class UploadLimits:
    max_files: int = 2000
    max_file_bytes: int = 5 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024
    max_ratio: float = 100.0  # uncompressed / compressed size of an archive


def save_uploads(
    uploads: list[tuple[str, bytes]], folder: Path, limits: UploadLimits = UploadLimits()
) -> list[Path]:
    """Write uploaded ``(file name, bytes)`` pairs (music files or .zip) into ``folder``."""
    members: list[tuple[str, bytes]] = []
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            members += _archive_members(name, data, limits)
        else:
            members.append((name, data))
    if not members:
        raise InvalidParameter("attachments", "none", "MIDI, MusicXML, ABC or kern files, or a zip")
    if len(members) > limits.max_files:
        raise InvalidParameter(
            "attachments", f"{len(members)} files", f"at most {limits.max_files} music files"
        )
    total = sum(len(data) for _, data in members)
    if total > limits.max_total_bytes:
        raise InvalidParameter(
            "attachments", f"{total} bytes", f"at most {limits.max_total_bytes} bytes in all"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, (name, data) in enumerate(members, start=1):
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise InvalidParameter(
                "attachment", name, f"music files: {', '.join(sorted(SUPPORTED_SUFFIXES))} or .zip"
            )
        if len(data) > limits.max_file_bytes:
            raise InvalidParameter(
                "attachment", name, f"files of at most {limits.max_file_bytes} bytes"
            )
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", PurePosixPath(name).stem)[:40] or "file"
        path = folder / f"{number:05d}-{stem}{suffix}"
        path.write_bytes(data)
        written.append(path)
    return written


def _archive_members(name: str, data: bytes, limits: UploadLimits) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidParameter("attachment", name, "a readable .zip archive") from None
    members: list[tuple[str, bytes]] = []
    declared = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = PurePosixPath(info.filename)
            if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
                raise InvalidParameter(
                    "attachment",
                    f"{name}: {info.filename}",
                    "archive members with plain relative names",
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InvalidParameter(
                    "attachment", f"{name}: {info.filename}", "archives without symbolic links"
                )
            declared += info.file_size
            if declared > limits.max_total_bytes or len(members) >= limits.max_files:
                raise InvalidParameter(
                    "attachment",
                    name,
                    f"archives of at most {limits.max_files} files and "
                    f"{limits.max_total_bytes} bytes unpacked",
                )
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise InvalidParameter(
                    "attachment",
                    f"{name}: {info.filename}",
                    f"compression ratios up to {limits.max_ratio:g}",
                )
            if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue  # readmes, __MACOSX, ...: skipped
            with archive.open(info) as member:
                content = member.read(limits.max_file_bytes + 1)
            if len(content) > limits.max_file_bytes:
                raise InvalidParameter(
                    "attachment",
                    f"{name}: {info.filename}",
                    f"files of at most {limits.max_file_bytes} bytes",
                )
            members.append((path.name, content))
    return members
