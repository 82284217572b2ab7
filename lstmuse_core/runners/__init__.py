"""The job runners: what a job does, shared by the worker's tasks and the console.

`lstmuse_core.jobs` is the contract the two ends exchange (names, payloads,
typed requests, progress and results); this package does the work behind
it, so it loads the model, the trainer and the renderer. The worker's
Celery tasks (`worker.tasks`) and the console's in-process jobs
(`bot.jobs.InProcessJobs`) call the same runners:

- `generation.run_generate_job`: sample, render and store one request's melodies;
- `harmonization.run_harmonize_job`: harmonize, render and store a member's tune;
- `training.run_retrain_job`: train, evaluate and maybe promote a new version;
- `rollback.run_rollback_job`: make an earlier version active again;
- `catalogue`: build and publish the style catalogue the bot reads.

Each runner returns its typed result or raises `JobFailed` with a message a
member may read (`failures.job_failures`: the same words wherever the job
ran). Only what the caller names as an interrupt (the worker's time limit)
and a cancel (`failures.JobCancelled`) pass through as they are. The bot's
queue mode never imports this package.
"""
