"""The fleet's queue: job ids through a Celery broker (Redis or RabbitMQ) to worker processes.

A message carries only a job id; the job row is the truth. Delivery is at least once
(``acks_late``, prefetch 1, rejected back to the broker when its worker is lost) and the effect
exactly once: a worker claims the job with a conditional write, so a message delivered twice,
or for a job that ended or is rendering elsewhere, does nothing. A worker that dies is noticed
by its lease running out, not by the broker (Redis gives an unacknowledged message back only
after the visibility timeout, which is longer than any render).

Usage::

    app = celery_app(settings)
    CeleryQueue(app).enqueue(job_id, model="v7")        # API process
    run_worker(app, worker.run, models=["v7"])          # worker process
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Sequence

from celery import Celery

from selfjourney.queue.base import RunJob

log = logging.getLogger(__name__)

#: The one task: render the job with this id.
RUN_JOB = "selfjourney.run_job"
#: The queue of jobs that name no model (a server without a models table).
DEFAULT_MODEL = "default"


def queue_name(model: str | None) -> str:
    """Each model has its own queue, so a worker serving some models takes only their jobs."""
    return f"selfjourney.{model or DEFAULT_MODEL}"


def celery_app(broker_url: str, *, visibility_timeout: float) -> Celery:
    """A Celery app configured for long renders whose loss must not lose a job."""
    app = Celery("selfjourney", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message leaves the broker when its render ended
        task_reject_on_worker_lost=True,  # ... and goes back if its worker process died
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,  # a worker holds no job it is not rendering
        task_ignore_result=True,  # results live in the job row
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=queue_name(None),
        broker_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=4.0,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # A worker cut off from the broker keeps rendering what it holds (its lease is in the
        # database); the broker hands the message to another worker, whose claim does nothing.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


class CeleryQueue:
    """The API side's way into the broker.

    Usage::

        queue = CeleryQueue(celery_app(url, visibility_timeout=7200))
        queue.enqueue(job.id, priority=0, model="v7")
    """

    def __init__(self, app: Celery) -> None:
        self.app = app

    def enqueue(
        self, job_id: str, priority: int = 0, model: str | None = None, delay: float = 0.0
    ) -> None:
        """Send the job to its model's queue; ``priority`` is not used (brokers order by
        arrival within a queue; see docs/deploy.md)."""
        del priority
        self.app.send_task(
            RUN_JOB, args=[job_id, model], queue=queue_name(model), countdown=delay or None
        )

    def declare(self, models: Iterable[str]) -> None:
        """Create each model's queue and its binding in the broker now: a Redis broker drops a
        message sent to a queue no one has declared yet (no worker for that model started)."""
        with self.app.connection_for_write() as connection:
            channel = connection.default_channel
            for model in models:
                self.app.amqp.queues[queue_name(model)](channel).declare()

    def check(self) -> None:
        """Raise when the broker does not answer (readiness)."""
        with self.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)


def register_runner(app: Celery, run_job: RunJob, queue: CeleryQueue) -> None:
    """Bind the task to this process's worker: a job asking to run again later is sent back
    to the broker with a countdown, to the queue it came from."""

    @app.task(name=RUN_JOB, acks_late=True)
    def run(job_id: str, model: str | None = None) -> None:
        again_in = run_job(job_id)
        if again_in is not None:
            queue.enqueue(job_id, model=model, delay=again_in)

    del run


def run_worker(app: Celery, *, models: Sequence[str], concurrency: int) -> None:
    """Consume the queues of ``models`` with ``concurrency`` render threads until stopped.

    Threads, not forked children: the engine (a GPU model) is loaded once, in this process,
    and ``concurrency`` is how many renders share it (1, one slot per GPU, by default)."""
    queues = ",".join(queue_name(model) for model in models)
    name = f"selfjourney-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={queues}",
            f"--hostname={name}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
    )
