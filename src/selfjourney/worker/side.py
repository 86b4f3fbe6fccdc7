"""The worker side of a process, built from the settings: engine, upscaler, renderer, worker,
webhook events and their dispatcher, and the janitor.

It needs no FastAPI app: a worker process builds this and a queue consumer, nothing else. The
engines are made here (``ENGINES``, one per configured model this worker serves, each on its
first job), after any fork, and loaded by ``load()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import httpx

from selfjourney.config import Misconfigured, Settings
from selfjourney.engines.base import Engine
from selfjourney.engines.procedural import ProceduralEngine
from selfjourney.engines.upscale import Upscaler, make_upscaler
from selfjourney.feed.base import Feed
from selfjourney.outbound.fetch import MAX_SECONDS, fetch_image
from selfjourney.outbound.guard import guarded_client
from selfjourney.storage.base import Storage
from selfjourney.store import Store
from selfjourney.webhooks.dispatcher import Dispatcher
from selfjourney.webhooks.events import Events
from selfjourney.webhooks.policy import RetryPolicy
from selfjourney.webhooks.style import WebhookStyle
from selfjourney.worker.janitor import Janitor
from selfjourney.worker.models import ModelEngines
from selfjourney.worker.render import Renderer
from selfjourney.worker.worker import Worker


def _diffusers_engine(settings: Settings) -> Engine:
    """Imported here so the embedded default runs without torch installed."""
    try:
        from selfjourney.engines.diffusers import DiffusersEngine
    except ImportError as exc:
        raise Misconfigured(
            f"the diffusers engine needs torch and diffusers ({exc}): install them with "
            "pip install 'torch==2.13.0' 'selfjourney[diffusers]' (make test does), or use "
            "the procedural engine"
        ) from exc

    return DiffusersEngine(
        settings.model,
        steps=settings.steps,
        guidance=settings.guidance,
        local_files_only=settings.local_files_only,
        device=settings.device,
        dtype=settings.dtype,
        concurrent_renders=settings.concurrent_renders,
        max_side=settings.max_side,
        warmup=settings.warmup,
    )


#: The engines ``--engine`` (or a model's ``engine``) can name, each built from the settings.
ENGINES: dict[str, Callable[[Settings], Engine]] = {
    "procedural": lambda _settings: ProceduralEngine(),
    "diffusers": _diffusers_engine,
}


def _model_engines(
    settings: Settings,
    models: list[str] | None,
    engine: Engine | None,
    engines: Mapping[str, Engine],
) -> ModelEngines:
    """Each configured model's engine maker: ``engines[name]``, else ``engine``, else built
    from the model's settings (``Settings.for_model``) on first use."""

    def maker(name: str) -> Callable[[], Engine]:
        given = engines.get(name, engine)
        if given is not None:
            return lambda: given
        chosen = settings.for_model(name)
        return lambda: ENGINES[chosen.engine](chosen)

    table = settings.model_table()
    try:
        return ModelEngines(
            {name: maker(name) for name in table.names}, default=table.default, serves=models
        )
    except ValueError as exc:
        raise Misconfigured(f"--models: {exc}") from None


@dataclass(frozen=True)
class WorkerSide:
    """Everything that renders and delivers; ``start``/``stop`` run its threads."""

    #: The engines of the models this worker serves (``engine`` is the default model's).
    engines: ModelEngines
    upscaler: Upscaler
    worker: Worker
    events: Events
    dispatcher: Dispatcher
    janitor: Janitor
    #: Downloads caller images (references, images to upscale); closed by ``stop``.
    fetch_client: httpx.Client

    @property
    def engine(self) -> Engine:
        """The engine of the default model, or of the first served one (made now)."""
        served = self.engines.served
        return self.engines.for_model(
            self.engines.default if self.engines.default in served else served[0]
        )

    def load(self) -> None:
        """Load every served model now, so the first job is not slow (and a bad one fails)."""
        self.engines.load()

    def start(self) -> None:
        self.dispatcher.start()
        self.janitor.start()

    def stop(self) -> None:
        self.janitor.stop()
        self.dispatcher.stop()
        self.fetch_client.close()


def build_worker_side(
    settings: Settings,
    *,
    store: Store,
    storage: Storage,
    styles: Mapping[str, WebhookStyle],
    engine: Engine | None = None,
    upscaler: Upscaler | None = None,
    fetch_client: httpx.Client | None = None,
    feed: Feed | None = None,
    models: list[str] | None = None,
    engines: Mapping[str, Engine] | None = None,
) -> WorkerSide:
    """The worker side over ``store`` and ``storage``; ``styles`` are the dialects' webhook
    formats by name; ``feed`` hears of every change to a job; ``models`` are the configured
    models it renders (None: all), jobs of others stay queued. ``engine`` (every model's),
    ``engines`` (by model name), ``upscaler`` and ``fetch_client`` replace the configured
    ones (tests)."""
    model_engines = _model_engines(settings, models, engine, engines or {})
    upscaler = upscaler or make_upscaler(
        settings.upscaler,
        settings.upscaler_model,
        settings.upscaler_threads,
        settings.upscaler_tile,
        settings.upscaler_device,
    )
    fetch_client = fetch_client or guarded_client(settings.allow_private_urls, MAX_SECONDS)
    renderer = Renderer(
        storage=storage,
        engines=model_engines.for_model,
        upscaler=upscaler,
        fetch=partial(fetch_image, fetch_client),
        png_compress_level=settings.png_compress_level,
        render_delay=settings.render_delay,
    )
    dispatcher = Dispatcher(
        deliveries=store.deliveries,
        client=guarded_client(settings.allow_private_urls, settings.webhook_timeout),
        policy=RetryPolicy(settings.webhook_max_attempts, settings.webhook_backoff),
        concurrency=settings.webhook_concurrency,
        timeout=settings.webhook_timeout,
    )
    events = Events(
        store=store,
        styles=styles,
        url=storage.url,
        max_attempts=settings.webhook_max_attempts,
        progress_interval=settings.webhook_progress_interval,
        notify=dispatcher.notify,
    )
    worker = Worker(
        store=store,
        renderer=renderer,
        events=events,
        feed=feed,
        lease=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        per_key_cap=settings.max_concurrent_jobs_per_key,
        models=model_engines.claimable(),
    )
    janitor = Janitor(
        store=store,
        storage=storage,
        fail=worker.fail,
        job_timeout=settings.job_timeout,
        retention_days=settings.retention_days,
        interval=settings.janitor_interval,
    )
    return WorkerSide(
        engines=model_engines,
        upscaler=upscaler,
        worker=worker,
        events=events,
        dispatcher=dispatcher,
        janitor=janitor,
        fetch_client=fetch_client,
    )
