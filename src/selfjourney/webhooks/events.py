"""Turns job changes into signed webhook deliveries, in the caller's dialect.

The body is rendered and signed once, when the event happens, and stored; retries resend
the same bytes under the same delivery id.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping

from selfjourney.domain.jobs import Job
from selfjourney.domain.status import JobStatus
from selfjourney.store import Store
from selfjourney.store.deliveries import NewDelivery
from selfjourney.webhooks.signing import signature
from selfjourney.webhooks.style import USER_AGENT, WebhookStyle


def terminal_event(job: Job) -> str:
    return "completed" if job.status is JobStatus.COMPLETED else "failed"


class Events:
    """Builds deliveries for jobs, in each job's dialect; ``notify`` wakes the dispatcher.

    Usage::

        events = Events(store=store, styles={"apiframe_v2": style}, url=storage.url,
                        max_attempts=6, progress_interval=0.5, notify=dispatcher.notify)
    """

    def __init__(
        self,
        *,
        store: Store,
        styles: Mapping[str, WebhookStyle],
        url: Callable[[str], str],
        max_attempts: int,
        progress_interval: float,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.styles = styles
        self.url = url
        self.max_attempts = max_attempts
        self.progress_interval = progress_interval
        self.notify = notify
        self._last_progress: dict[str, float] = {}
        self._lock = threading.Lock()

    def wants(self, job: Job) -> bool:
        """Whether the job's subscriber asked for its terminal event."""
        return self._subscribed(job, terminal_event(job))

    def _subscribed(self, job: Job, event: str) -> bool:
        if job.webhook is None or event not in job.webhook.events:
            return False
        return event in self.styles[job.dialect].events

    def terminal(self, job: Job) -> list[NewDelivery]:
        """The completed/failed delivery to store in the same transaction as the job's end."""
        with self._lock:
            self._last_progress.pop(job.id, None)
        if not self.wants(job):
            return []
        style = self.styles[job.dialect]
        return [self._delivery(job, terminal_event(job), style.max_attempts or self.max_attempts)]

    def progress(self, job: Job) -> None:
        """Queue a best-effort progress event, at most one per interval per job."""
        if not self._subscribed(job, "progress"):
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last_progress.get(job.id, -1e9) < self.progress_interval:
                return
            self._last_progress[job.id] = now
        self.store.deliveries.add([self._delivery(job, "progress", 1)])
        self.notify()

    def _delivery(self, job: Job, event: str, max_attempts: int) -> NewDelivery:
        assert job.webhook is not None
        style = self.styles[job.dialect]
        body = json.dumps(style.payload(job, event, self.url), separators=(",", ":")).encode()
        key = bytes.fromhex(self.store.accounts.get(job.account_id).key_hash)
        delivery_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Event": event,
            "X-Webhook-Id": delivery_id,
            "X-Webhook-Signature": signature(body, key),
            **style.headers(job),
        }
        return NewDelivery(
            job_id=job.id,
            event=event,
            url=job.webhook.url,
            body=body,
            headers=headers,
            max_attempts=max_attempts,
            id=delivery_id,
            timeout=style.timeout,
            backoff=style.backoff,
        )
