"""All settings, read once from ``SELFJOURNEY_*`` environment variables and CLI flags.

Usage::

    settings = Settings(data_dir=Path("/srv/sj"), workers=4)   # or Settings() from the env
    app = create_app(settings)
"""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.models import ANY, ModelTable

log = logging.getLogger(__name__)

#: The name of the one model of a server with no ``models`` table.
DEFAULT_MODEL = "default"
#: A model name: also a Celery queue's suffix and a database value (at most 64 characters).
_MODEL_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class ModelSpec(BaseModel):
    """One named model of ``Settings.models``: its engine and what that engine takes. A field
    left out is the server-wide setting of the same name (``steps``, ``guidance``...).

    Usage::

        ModelSpec(engine="diffusers", model="stabilityai/sdxl-turbo", aliases=("v6.1",))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["procedural", "diffusers"] = "procedural"
    #: diffusers: hub id or local directory of the pipeline.
    model: str | None = None
    steps: int | None = Field(default=None, ge=1, le=200)
    guidance: float | None = Field(default=None, ge=0, le=30)
    max_side: int | None = Field(default=None, ge=8, le=4096)
    #: What else ``--v``/``--niji`` this model answers to besides its name (``v7``,
    #: ``niji6``): e.g. ``niji`` for a bare ``--niji``, ``v6.1``; ``*`` for any other version.
    aliases: tuple[str, ...] = ()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SELFJOURNEY_", extra="ignore")

    #: Interface and port ``serve`` listens on.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    #: Holds ``selfjourney.db`` (SQLite) and ``images/``.
    data_dir: Path = Path("./data")
    #: Base of every image URL; default ``http://HOST:PORT``.
    public_url: str | None = None
    #: In-process worker threads; 0 pauses rendering (jobs wait in QUEUED; upsamples,
    #: a copy, still complete inline unless ``inline_upsample`` is off).
    workers: int = Field(2, ge=0, le=64)
    #: SQLAlchemy URL; default SQLite in the data dir. PostgreSQL: postgresql+psycopg://...
    database_url: str | None = None
    #: Named models (JSON in ``SELFJOURNEY_MODELS``): name to ``ModelSpec``, e.g.
    #: ``{"v7": {"engine": "diffusers", "model": "stabilityai/sdxl-turbo"},
    #: "niji6": {"engine": "diffusers", "model": "...", "aliases": ["niji"]}}``. ``--v 7`` picks
    #: ``v7``, ``--niji 6`` ``niji6``; an unknown one is a 400. Empty: one model named
    #: ``default`` built from ``engine``, ``model``, ``steps``... that answers to every version.
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    #: The model of a job that names none; default the table's first (``default`` without one).
    default_model: str | None = None
    #: What renders pictures: the built-in procedural engine, or a diffusers model
    #: (needs the ``diffusers`` extra: torch, diffusers, transformers).
    engine: Literal["procedural", "diffusers"] = "procedural"
    #: diffusers: hub id or local directory of the pipeline (``SELFJOURNEY_MODEL``).
    model: str = "stabilityai/sdxl-turbo"
    #: diffusers: denoising steps per picture (1-4 suit distilled models like sdxl-turbo).
    steps: int = Field(4, ge=1, le=200)
    #: diffusers: classifier-free guidance scale; 0 for distilled models.
    guidance: float = Field(0.0, ge=0, le=30)
    #: diffusers: never reach the hub; the model must be on disk (or in the HF cache).
    local_files_only: bool = False
    #: diffusers: auto picks CUDA, then Apple MPS, then CPU.
    device: Literal["auto", "cuda", "mps", "cpu"] = "auto"
    #: diffusers: precision of the weights. auto is float16 on CUDA and MPS, float32 on the
    #: CPU; bfloat16 suits Ampere and newer GPUs (no fp16 overflow, e.g. in SDXL's VAE).
    dtype: Literal["auto", "float16", "bfloat16", "float32"] = "auto"
    #: diffusers: renders that may run on the device at once (each with its own scheduler);
    #: 1, the default, is one render at a time per GPU. More can help a large GPU at small sizes.
    concurrent_renders: int = Field(1, ge=1, le=16)
    #: diffusers: long side of rendered pictures; default the model's native side (512 for
    #: sdxl-turbo). Grid requests (~1 MP) are scaled to it, keeping the aspect ratio.
    max_side: int | None = Field(None, ge=8, le=4096)
    #: diffusers: render one tiny picture right after loading, so the first job is not slow.
    warmup: bool = True
    #: Super-resolution for the upscale action: Real-ESRGAN (ncnn, CPU) or plain Lanczos.
    #: Real-ESRGAN falls back to Lanczos, with a warning, when ncnn or its models are missing.
    upscaler: Literal["realesrgan", "lanczos"] = "realesrgan"
    #: animevideov3 (x2/x4, 1.2 MB, fast) or x4plus (33 MB, better on photos, ~10x slower).
    upscaler_model: Literal["realesr-animevideov3", "realesrgan-x4plus"] = "realesr-animevideov3"
    #: CPU threads per upscale; tile side in input pixels (bounds the memory of a pass).
    upscaler_threads: int = Field(2, ge=1, le=64)
    upscaler_tile: int = Field(200, ge=32, le=2048)
    #: Where Real-ESRGAN runs: auto takes a Vulkan GPU when one is found (software Vulkan
    #: such as llvmpipe is skipped), else the CPU; vulkan insists (any device, llvmpipe too).
    upscaler_device: Literal["auto", "cpu", "vulkan"] = "auto"
    #: Run upsamples (a file copy, no render) in the request thread instead of the queue.
    inline_upsample: bool = True
    #: Extra seconds per rendered job (not upsamples), to mimic a GPU in demos and crash tests.
    render_delay: float = Field(0.0, ge=0, le=600)
    #: zlib level for stored PNGs: 1 is fast, 9 is small.
    png_compress_level: int = Field(1, ge=0, le=9)
    #: Credit cost per job kind (JSON in the env, e.g. '{"upsample": 2}'); merged over defaults.
    costs: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_COSTS))
    #: Credits of the key that ``make serve`` creates on a fresh data dir.
    starter_credits: int = Field(1000, ge=0)
    #: Seconds a render may take before the watchdog fails it (with a refund).
    job_timeout: float = Field(1800.0, gt=0)
    #: Seconds a worker holds a job it renders before it must renew the hold (it renews every
    #: third of it); a worker that dies loses its jobs to the watchdog after at most this.
    lease_seconds: float = Field(30.0, ge=3, le=3600)
    #: Seconds between two watchdog rounds (jobs whose lease ran out go back to the queue).
    watchdog_interval: float = Field(10.0, gt=0, le=3600)
    #: Seconds a job may wait QUEUED before the watchdog sends it to the queue again, in case
    #: its message was lost (a process died between accepting and queueing it); duplicates
    #: are harmless, only one claim wins.
    resend_queued_after: float = Field(300.0, ge=10)
    #: Runs a job may have (its worker died, or its engine asked for a retry) before it fails.
    max_attempts: int = Field(3, ge=1, le=20)
    #: Seconds between janitor sweeps (hung renders, retention, old idempotency keys).
    janitor_interval: float = Field(60.0, gt=0)
    #: Days before a job's images are purged and it shows ``expired: true``; 0 keeps forever.
    retention_days: float = Field(90, ge=0)

    #: Allow http:// and private/loopback addresses for every URL this server calls or
    #: fetches: webhooks, callbacks, reference images, images to upscale. Development and
    #: tests only. ``SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE``, its old name, still works.
    allow_private_urls: bool = Field(
        False,
        validation_alias=AliasChoices(
            "allow_private_urls",
            "SELFJOURNEY_ALLOW_PRIVATE_URLS",
            "webhook_allow_private",
            "SELFJOURNEY_WEBHOOK_ALLOW_PRIVATE",
        ),
    )
    webhook_timeout: float = Field(10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(6, ge=1, le=50)
    #: Seconds before retry 1, 2, ...; the last repeats. Comma list in the env.
    webhook_backoff: Annotated[tuple[float, ...], NoDecode] = (10.0, 30.0, 90.0, 240.0, 600.0)
    #: Least seconds between two progress webhooks of one job.
    webhook_progress_interval: float = Field(0.5, ge=0)
    #: Concurrent webhook POSTs; a slow receiver holds only one of them.
    webhook_concurrency: int = Field(8, ge=1, le=256)

    #: midapi callbacks: seconds per attempt, and the delays before each retry (1, 5, 15 min).
    midapi_callback_timeout: float = Field(15.0, gt=0, le=120)
    midapi_callback_backoff: Annotated[tuple[float, ...], NoDecode] = (60.0, 300.0, 900.0)

    #: Seconds between keep-alive comments of an idle ``/v2/jobs/{id}/events`` stream.
    events_keepalive: float = Field(15.0, gt=0, le=300)

    #: OpenAI Images dialect: the longest a request waits for its job, in seconds; past it
    #: the answer is a 504 (the job goes on and can be read through /v2/jobs/{id}).
    openai_timeout: float = Field(300.0, gt=0, le=3600)

    # --- The fleet (docs/deploy.md): none of these is needed on the embedded defaults. ---

    #: local: in-process worker threads (``serve`` renders). celery: ``serve`` runs the API
    #: only and ``selfjourney worker`` processes render, fed through ``broker_url``.
    queue: Literal["local", "celery"] = "local"
    #: The Celery broker: ``redis://host:6379/0`` or ``amqp://user:pass@host:5672//``.
    broker_url: str | None = None
    #: Seconds Redis waits before handing an unacknowledged task to another worker; longer
    #: than the longest render (the lease, not this, brings back a dead worker's job).
    broker_visibility_timeout: float = Field(7200.0, ge=60)
    #: Redis for state shared by API processes: live progress (pub/sub) and rate limits.
    #: Default: the broker's URL when it is a Redis one, else none (progress polls the row).
    redis_url: str | None = None
    #: Where pictures live: local disk under ``data_dir`` or an S3-compatible bucket.
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    #: Any S3-compatible service (MinIO, R2, moto); default AWS.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    #: Images are served from this public base (e.g. a CDN over the bucket); without it,
    #: image URLs are presigned and expire after ``s3_presign_seconds``.
    s3_public_url: str | None = None
    s3_presign_seconds: int = Field(7 * 24 * 3600, ge=60, le=7 * 24 * 3600)
    #: Requests per minute per API key, across all API processes; 0 is no limit.
    rate_limit_per_minute: int = Field(0, ge=0)
    #: Jobs of one key that may render at once; more wait QUEUED. 0 is no cap.
    max_concurrent_jobs_per_key: int = Field(0, ge=0)
    #: text: human lines; json: one JSON object per line with request and job ids.
    log_format: Literal["text", "json"] = "text"

    log_level: str = "info"

    @field_validator("webhook_backoff", "midapi_callback_backoff", mode="before")
    @classmethod
    def _split_backoff(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(float(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("costs", mode="after")
    @classmethod
    def _merge_costs(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(DEFAULT_COSTS)
        if unknown:
            raise ValueError(f"unknown job kinds in costs: {sorted(unknown)}")
        if any(cost < 0 for cost in value.values()):
            raise ValueError("costs must not be negative")
        return {**DEFAULT_COSTS, **value}

    @field_validator("models", mode="after")
    @classmethod
    def _check_model_names(cls, value: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        bad = [name for name in value if not re.match(_MODEL_NAME, name)]
        if bad:
            raise ValueError(f"model names must match {_MODEL_NAME}: {bad}")
        return value

    @model_validator(mode="after")
    def _check_default_model(self) -> Settings:
        self.model_table()  # raises ValueError: a clash of aliases, a default not in the table
        return self

    def model_specs(self) -> dict[str, ModelSpec]:
        """The models this server renders with: the table, or the one built from ``engine``,
        ``model``, ``steps``... (named ``default``) when there is none."""
        if self.models:
            return dict(self.models)
        return {DEFAULT_MODEL: ModelSpec(engine=self.engine, aliases=(ANY,))}

    def model_table(self) -> ModelTable:
        """The names and aliases of ``model_specs``, and the default (the domain's view)."""
        specs = self.model_specs()
        default = self.default_model or next(iter(specs))
        table = ModelTable.of({name: spec.aliases for name, spec in specs.items()}, default)
        return table if self.models else ModelTable.single(DEFAULT_MODEL)  # jobs name none

    def for_model(self, name: str) -> Settings:
        """These settings with one model's engine fields, for the engine builders."""
        spec = self.model_specs()[name]
        chosen: dict[str, object] = {"engine": spec.engine, "model": spec.model}
        chosen |= {"steps": spec.steps, "guidance": spec.guidance, "max_side": spec.max_side}
        return self.model_copy(update={k: v for k, v in chosen.items() if v is not None})

    @model_validator(mode="after")
    def _check_public_url(self) -> Settings:
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        if self.allow_private_urls and not _is_loopback(self.host):
            log.warning(
                "allow_private_urls is on while listening on %s: any caller can make this "
                "server call and fetch private addresses",
                self.host,
            )
        return self

    @property
    def base_url(self) -> str:
        """Where clients reach this server (image URLs start here)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def shared_redis_url(self) -> str | None:
        """Redis shared by the API processes: ``redis_url``, else a Redis broker's URL."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'selfjourney.db').resolve()}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Misconfigured(Exception):
    """The settings ask for something this installation cannot do (found at start-up)."""
