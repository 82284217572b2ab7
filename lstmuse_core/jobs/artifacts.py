"""Where rendered files go so that a bot on another machine can fetch them.

Two stores behind one interface: Redis keys with a TTL (the default; the bot
and the workers already share Redis) and a local folder (embedded mode, one
machine). References are opaque strings ``<job id>/<file name>``; file names
are made by the worker, never by users.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lstmuse_core.errors import LstmuseError
from lstmuse_core.jobs.keys import artifact_key

if TYPE_CHECKING:
    from lstmuse_core.settings import Settings

_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,80}/[A-Za-z0-9_.-]{1,80}$")


class ArtifactError(LstmuseError):
    """An artifact is too large, expired or unknown."""


class ArtifactStore(Protocol):
    def put(self, job_id: str, name: str, data: bytes) -> str: ...

    def get(self, reference: str) -> bytes: ...


def artifact_reference(job_id: str, name: str) -> str:
    """The reference ``<job id>/<file name>``; `ArtifactError` if either part is unsafe."""
    return checked_reference(f"{job_id}/{name}")


def checked_reference(reference: str) -> str:
    """``reference`` if it is a well-formed ``<job id>/<file name>`` (no path tricks)."""
    if not _REFERENCE.match(reference):
        raise ArtifactError(f"invalid artifact reference {reference!r}")
    return reference


def file_name(reference: str) -> str:
    """The file name part of a reference (``"job-1/melody-1.mid"`` -> ``"melody-1.mid"``)."""
    return checked_reference(reference).rsplit("/", 1)[-1]


class RedisArtifactStore:
    """Artifacts as Redis strings that expire after ``ttl_seconds``."""

    def __init__(self, client: Any, ttl_seconds: int, max_bytes: int) -> None:
        """``client``: a synchronous ``redis.Redis``."""
        self.client = client
        self.ttl = ttl_seconds
        self.max_bytes = max_bytes

    def put(self, job_id: str, name: str, data: bytes) -> str:
        reference = artifact_reference(job_id, name)
        _check_size(reference, data, self.max_bytes)
        import redis

        for attempt in range(3):  # a dropped connection is retried, with backoff
            try:
                self.client.set(artifact_key(reference), data, ex=self.ttl)
                return reference
            except (redis.ConnectionError, redis.TimeoutError):
                if attempt == 2:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get(self, reference: str) -> bytes:
        data = self.client.get(artifact_key(checked_reference(reference)))
        if data is None:
            raise ArtifactError(f"artifact {reference} has expired or never existed")
        return bytes(data)


class LocalArtifactStore:
    """Artifacts as files under one folder; files older than the TTL are removed on put."""

    def __init__(self, folder: Path, ttl_seconds: int, max_bytes: int) -> None:
        self.folder = folder
        self.ttl = ttl_seconds
        self.max_bytes = max_bytes

    def put(self, job_id: str, name: str, data: bytes) -> str:
        reference = artifact_reference(job_id, name)
        _check_size(reference, data, self.max_bytes)
        path = self.folder / reference
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        self._expire()
        return reference

    def get(self, reference: str) -> bytes:
        path = self.folder / checked_reference(reference)
        if not path.is_file() or time.time() - path.stat().st_mtime > self.ttl:
            raise ArtifactError(f"artifact {reference} has expired or never existed")
        return path.read_bytes()

    def _expire(self) -> None:
        cutoff = time.time() - self.ttl
        for path in self.folder.glob("*/*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


def _check_size(reference: str, data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ArtifactError(
            f"artifact {reference} is {len(data)} bytes, over the limit of {max_bytes} bytes"
        )


def store_from_settings(settings: Settings, redis_client: Any | None = None) -> ArtifactStore:
    """The configured store (``LSTMUSE_ARTIFACT_STORE``) of the process's settings."""
    if settings.artifact_store == "local" or redis_client is None:
        return LocalArtifactStore(
            settings.artifact_dir, settings.artifact_ttl_seconds, settings.artifact_max_bytes
        )
    return RedisArtifactStore(
        redis_client, settings.artifact_ttl_seconds, settings.artifact_max_bytes
    )
