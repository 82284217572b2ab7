"""Melodies through real Redis and a real Celery worker: latency and throughput.

Starts ``celery -A worker.app worker -Q generate -c 2`` (prefork) on this
machine with the committed models and measures, for requests with MP3 audio
and a piano roll:

* enqueue -> result latency of single requests sent one at a time (p50, p95);
* a burst of N requests sent at once: all must complete (none lost), and the
  throughput in melodies/s.

``--before-tree DIR`` measures another checkout too (e.g. a git worktree of
the commit before a change, run with this virtualenv), in the same run, with
the worker flags that checkout used (``--before-prefetch``), and prints both
rows side by side:

    git worktree add /tmp/lstmuse-before <commit>
    python bench/queue_bench.py --before-tree /tmp/lstmuse-before \
        --before-label "before: celery-batches" --before-prefetch 64

Uses Redis database 12 of ``--redis`` by default (flushed before and after).
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

from lstmuse_core.jobs.queue import GENERATE_QUEUE, GENERATE_TASK, JSON_ONLY

ROOT = Path(__file__).resolve().parents[1]


def start_worker(redis_url: str, tree: Path, prefetch: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "LSTMUSE_REDIS_URL": redis_url,
        "LSTMUSE_MODELS_DIR": str(tree / "trained_models"),
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
            GENERATE_QUEUE,
            "-c",
            "2",
            "-P",
            "prefork",
            "--prefetch-multiplier",
            str(prefetch),
            "-l",
            "warning",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        cwd=tree,
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


def run(args: argparse.Namespace, tree: Path, prefetch: int) -> dict[str, float]:
    from celery import Celery

    # Tasks are sent by name, as the bot does: the worker's code is the tree's.
    # Results are read as raw JSON: an older tree's worker may predate `MelodyResult`.
    app = Celery("lstmuse-bench", broker=args.redis, backend=args.redis)
    app.conf.update(**JSON_ONLY)
    worker = start_worker(
        args.redis, tree, prefetch, Path(f"/tmp/lstmuse-queue-bench-{uuid.uuid4().hex[:6]}.log")
    )
    try:
        deadline = time.monotonic() + 90
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit("the worker did not start; see /tmp/lstmuse-queue-bench-*.log")
        # Warm both children: the first job of each loads Keras and the model.
        for job in [
            app.send_task(
                GENERATE_TASK, kwargs={"request": request(args.style, i)}, queue=GENERATE_QUEUE
            )
            for i in range(4)
        ]:
            job.get(timeout=180)
        latencies = []
        for i in range(args.singles):
            started = time.perf_counter()
            app.send_task(
                GENERATE_TASK,
                kwargs={"request": request(args.style, 1000 + i)},
                queue=GENERATE_QUEUE,
            ).get(timeout=60)
            latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        burst = [
            app.send_task(
                GENERATE_TASK, kwargs={"request": request(args.style, i)}, queue=GENERATE_QUEUE
            )
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
    parser.add_argument("--label", default="this tree: plain tasks")
    parser.add_argument("--prefetch", type=int, default=1, help="this tree's worker flag")
    parser.add_argument("--before-tree", type=Path, help="another checkout to measure too")
    parser.add_argument("--before-label", default="before")
    parser.add_argument("--before-prefetch", type=int, default=64)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    runs = [(args.label, ROOT, args.prefetch)]
    if args.before_tree is not None:
        runs.insert(0, (args.before_label, args.before_tree.resolve(), args.before_prefetch))
    rows = {}
    for label, tree, prefetch in runs:
        client.flushdb()
        try:
            rows[label] = run(args, tree, prefetch)
        finally:
            client.flushdb()
    print(f"\n{args.style}, 8 bars, MP3 + piano roll, worker -c 2 prefork, real Redis")
    print("| worker | p50 latency s | p95 latency s | burst completed | melodies/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, row in rows.items():
        print(
            f"| {label} | {row['p50']:.2f} | {row['p95']:.2f} | "
            f"{row['completed']}/{args.burst} | {row['throughput']:.2f} |"
        )
    if len(rows) == 2:
        before, after = rows.values()
        print(f"throughput ratio after/before: {after['throughput'] / before['throughput']:.2f}")


if __name__ == "__main__":
    main()
