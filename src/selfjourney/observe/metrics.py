"""Prometheus metrics: per-process facts as counters, fleet-wide facts from the database.

With N API and M worker processes, a fact about the fleet (jobs by status, queue depth,
credits, webhook outcomes) is read from the shared database at scrape time by
``FleetCollector``, so every process answers the same numbers and none double-counts. What
only one process knows (its HTTP requests, the renders it ran) is a counter or histogram of
that process, in prometheus_client's default registry.

Usage::

    exposition = Exposition(FleetCollector(store))   # an API process's GET /metrics
    with rendering(job.kind, job.model): ...          # a worker, around one render
    serve_metrics(9100)                               # a worker process's own /metrics
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from selfjourney.store import Store

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "selfjourney_http_requests",
    "HTTP requests this process answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "selfjourney_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its response, by route template.",
    ["method", "route"],
)
RENDER_SECONDS = Histogram(
    "selfjourney_render_seconds",
    "Seconds a render took in this process, for renders that produced images.",
    ["action", "model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)


@contextmanager
def rendering(action: str, model: str) -> Iterator[None]:
    """Time one render into ``selfjourney_render_seconds``; a render that raises is not
    counted (its job fails or is retried, which the job metrics show)."""
    started = time.perf_counter()
    yield
    RENDER_SECONDS.labels(action, model).observe(time.perf_counter() - started)


def serve_metrics(port: int, addr: str = "0.0.0.0") -> WSGIServer:
    """Expose this process's metrics at ``http://addr:port/metrics`` on a daemon thread (a
    worker process, which has no HTTP app of its own); ``shutdown()`` the server to stop."""
    server, _thread = start_http_server(port, addr=addr)
    return server


class FleetCollector:
    """Fleet-wide families read at scrape time, one grouped query each (``store.tallies``).

    When the database does not answer, the families are left out and
    ``selfjourney_fleet_metrics_up`` is 0, so the process's own metrics are still scraped.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "selfjourney_fleet_metrics_up", "1 when the database answered this scrape."
        )
        try:
            families = [self._jobs(), self._queue(), *self._credits(), self._webhooks()]
        except SQLAlchemyError:
            log.warning("fleet metrics: the database did not answer", exc_info=True)
            families = []
        up.add_metric([], 1 if families else 0)
        return [*families, up]

    def _jobs(self) -> Metric:
        family = GaugeMetricFamily(
            "selfjourney_jobs",
            "Jobs in the database by status, action (the job's kind) and model.",
            labels=["status", "action", "model"],
        )
        for row in self.store.tallies.jobs():
            family.add_metric([row.status, row.kind, row.model], row.count)
        return family

    def _queue(self) -> Metric:
        family = GaugeMetricFamily(
            "selfjourney_queue_depth", "Jobs QUEUED, waiting for a worker (all models)."
        )
        family.add_metric([], self.store.tallies.queued())
        return family

    def _credits(self) -> list[Metric]:
        ledger = self.store.tallies.ledger()
        spent = GaugeMetricFamily(
            "selfjourney_credits_spent", "Credits charged for jobs, less refunds (the ledger)."
        )
        spent.add_metric([], -(ledger.get("charge", 0) + ledger.get("refund", 0)))
        granted = GaugeMetricFamily(
            "selfjourney_credits_granted", "Credits granted to keys (the ledger)."
        )
        granted.add_metric([], ledger.get("grant", 0))
        return [spent, granted]

    def _webhooks(self) -> Metric:
        family = GaugeMetricFamily(
            "selfjourney_webhook_deliveries",
            "Webhook deliveries by outcome (delivered, failed, retrying, pending) and event.",
            labels=["outcome", "event"],
        )
        for (outcome, event), count in sorted(self.store.tallies.deliveries().items()):
            family.add_metric([outcome, event], count)
        return family


class Exposition:
    """The text a scrape of an API process gets: this process's registry, then the fleet."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = (REGISTRY, *collectors)

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()

    def render(self, accept: str) -> tuple[bytes, str]:
        """The body and content type for a scraper that sent ``accept``."""
        encode, content_type = choose_encoder(accept)
        return encode(self), content_type
