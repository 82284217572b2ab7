"""Melodies through real Redis and a real Celery worker: latency and throughput.

Starts ``celery -A worker.app worker -Q generate -c 2`` (prefork) on this
machine with the committed models and measures, for requests with MP3 audio
and a piano roll:

* enqueue -> result latency of single requests sent one at a time (p50, p95);
* a burst of N requests sent at once: all must complete (none lost), and the
  throughput in melodies/s, with batching (``LSTMUSE_BATCH_SIZE=32``) and
  without (``LSTMUSE_BATCH_SIZE=1``, one request per sampling pass).

    python bench/queue_bench.py [--singles 20] [--burst 100] [--style folk]

Uses Redis database 12 of ``--redis`` (flushed before and after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]


def start_worker(redis_url: str, batch_size: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LSTMUSE_REDIS_URL": redis_url,
        "LSTMUSE_BATCH_SIZE": str(batch_size),
        "LSTMUSE_BATCH_INTERVAL_SECONDS": "0.05",
        "OPENBLAS_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.app",
            "worker",
            "-Q",
            "generate",
            "-c",
            "2",
            "-P",
            "prefork",
            "--prefetch-multiplier",
            "64",
            "-l",
            "warning",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def request(style: str, seed: int) -> dict[str, object]:
    return {
        "style": style,
        "bars": 8,
        "random_seed": seed,
        "audio": "mp3",
        "image": "pianoroll",
        "bpm": 120,
    }


def run(args: argparse.Namespace, batch_size: int) -> dict[str, float]:
    os.environ["LSTMUSE_REDIS_URL"] = args.redis
    from worker.app import app

    app.conf.broker_url = app.conf.result_backend = args.redis
    worker = start_worker(
        args.redis, batch_size, Path(f"/tmp/lstmuse-queue-bench-{batch_size}.log")
    )
    try:
        deadline = time.monotonic() + 90
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the worker did not start; see /tmp/lstmuse-queue-bench-*.log")
        # Warm both children: the first job of each loads Keras and the model.
        for job in [
            app.send_task("lstmuse.generate", kwargs={"request": request(args.style, i)})
            for i in range(4)
        ]:
            job.get(timeout=180)
        latencies = []
        for i in range(args.singles):
            started = time.perf_counter()
            app.send_task(
                "lstmuse.generate", kwargs={"request": request(args.style, 1000 + i)}
            ).get(timeout=60)
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        burst = [
            app.send_task("lstmuse.generate", kwargs={"request": request(args.style, i)})
            for i in range(args.burst)
        ]
        completed = sum(1 for job in burst if job.get(timeout=600)["melodies"])
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
        "completed": completed,
        "throughput": completed / elapsed,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--style", default="folk")
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    client.flushdb()
    try:
        rows = {size: run(args, size) for size in (32, 1)}
    finally:
        client.flushdb()
    print(f"\n{args.style}, 8 bars, MP3 + piano roll, worker -c 2 prefork, real Redis")
    print("| batching | p50 latency s | p95 latency s | burst completed | melodies/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for size, row in rows.items():
        print(
            f"| batch {size} | {row['p50']:.2f} | {row['p95']:.2f} | "
            f"{row['completed']}/{args.burst} | {row['throughput']:.2f} |"
        )
    print(
        f"throughput ratio batched/unbatched: {rows[32]['throughput'] / rows[1]['throughput']:.2f}"
    )


if __name__ == "__main__":
    main()
