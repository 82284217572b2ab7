"""Posted melodies whose buttons still work after the bot restarts.

A button carries only the post's id and its requester in its custom id
(`bot.cogs.melody`); what Re-roll, Variation, Continue and Info need (the
request and the melody's symbols, key and meter, not its files) is kept
here by that id for ``ttl_seconds``: in Redis when the bot has one, so any
bot process, restarted or not, answers the press; else in this process
(embedded mode), where a restart forgets it and the press says so.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.jobs import CeleryJobs, Jobs
from bot.limits import queue_reachable
from bot.service import MelodyPost
from lstmuse_core.jobs.results import GeneratedMelody
from lstmuse_core.request import MelodyRequest

POST_KEY = "lstmuse:post:{}"


def post_to_json(post: MelodyPost) -> str:
    melody = {**post.melody.to_json(), "files": {}}  # the files are posted, not kept
    return json.dumps(
        {
            "request": post.request.to_json(),
            "style": post.style,
            "model_version": post.model_version,
            "melody": melody,
        }
    )


def post_from_json(text: str | bytes) -> MelodyPost:
    data = json.loads(text)
    return MelodyPost(
        MelodyRequest.from_json(data["request"]),
        data["style"],
        data["model_version"],
        GeneratedMelody.from_json(data["melody"]),
    )


class PostStore:
    """Posts by id for ``ttl_seconds``; subclasses keep them."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds

    async def keep(self, post: MelodyPost) -> str:
        """Keep ``post``; returns its id (32 hex digits)."""
        raise NotImplementedError

    async def find(self, post_id: str) -> MelodyPost | None:
        """The post kept as ``post_id``, or None once it expired (or was never kept)."""
        raise NotImplementedError


class RedisPostStore(PostStore):
    def __init__(self, client: Any, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self.client = client

    async def keep(self, post: MelodyPost) -> str:
        post_id = uuid.uuid4().hex
        with queue_reachable(f"keeping post {post_id}"):
            await self.client.set(POST_KEY.format(post_id), post_to_json(post), ex=int(self.ttl))
        return post_id

    async def find(self, post_id: str) -> MelodyPost | None:
        with queue_reachable(f"reading post {post_id}"):
            text = await self.client.get(POST_KEY.format(post_id))
        return None if text is None else post_from_json(text)


class MemoryPostStore(PostStore):
    """Posts in this process; times are `time.monotonic()` seconds."""

    def __init__(self, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self.posts: dict[str, tuple[float, MelodyPost]] = {}  # id -> (expiry, post)

    async def keep(self, post: MelodyPost) -> str:
        now = time.monotonic()
        self.posts = {key: kept for key, kept in self.posts.items() if kept[0] > now}
        post_id = uuid.uuid4().hex
        self.posts[post_id] = (now + self.ttl, post)
        return post_id

    async def find(self, post_id: str) -> MelodyPost | None:
        expiry, post = self.posts.get(post_id, (0.0, None))
        return post if expiry > time.monotonic() else None


def post_store(jobs: Jobs, ttl_seconds: float) -> PostStore:
    """Beside the jobs: in their Redis, or in this process when they run here."""
    if isinstance(jobs, CeleryJobs):
        return RedisPostStore(jobs.redis, ttl_seconds)
    return MemoryPostStore(ttl_seconds)
