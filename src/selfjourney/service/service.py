"""The service: every request, whatever its dialect, becomes an Imagine, an Act or a read here.

Rules (parents, costs, idempotency, credits) are the domain's; the service applies them for an
authenticated account, then stores the job (with its debit) and hands it to the queue.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace

from PIL import Image

from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Act, EditImage, Idempotency, Imagine, UpscaleImage
from selfjourney.domain.errors import ActionUnavailable, InvalidInput, InvalidMask
from selfjourney.domain.flags import Flags, parse_prompt
from selfjourney.domain.held import HOLDABLE, LAPSED, HeldAction
from selfjourney.domain.jobs import Job, Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.models import ModelTable, asked_for
from selfjourney.domain.params import (
    UPLOADS,
    ActionArgs,
    JobParams,
    References,
    Source,
)
from selfjourney.domain.rules import (
    check_args,
    check_parent,
    check_reference_count,
    check_strength,
    check_upscale,
    check_upscale_options,
    follow_up_params,
    follow_up_prompt,
)
from selfjourney.domain.sizes import parse_aspect_ratio
from selfjourney.domain.status import JobStatus
from selfjourney.feed.base import Feed
from selfjourney.imaging.masks import decode_mask
from selfjourney.imaging.uploads import (
    edit_mask,
    edit_picture,
    encode_png,
    has_transparency,
    reference_image,
)
from selfjourney.outbound.guard import check_url
from selfjourney.queue.base import Queue
from selfjourney.service.auth import Authenticator
from selfjourney.service.pictures import Pictures
from selfjourney.service.ratelimit import RateLimit
from selfjourney.service.reads import Reads
from selfjourney.storage.base import Storage
from selfjourney.store import Store

#: The ``error`` of a cancelled job (dialects with no word for it show it as their failure).
CANCELLED = "Job cancelled by its owner"
#: Runs a job the caller has just inserted already claimed (an upsample: a copy, not a render).
RunInline = Callable[[Job, bytes | None], object]


class Service(Reads):
    """Accepts commands for an authenticated account and hands jobs to the queue.

    Usage::

        service = Service(store=store, storage=storage, queue=queue, costs=DEFAULT_COSTS)
        job, replayed = service.imagine(service.authenticate(key), Imagine("a red fox"))
    """

    def __init__(
        self,
        *,
        store: Store,
        storage: Storage,
        queue: Queue,
        costs: dict[str, int],
        allow_private_urls: bool = False,
        max_concurrent_jobs: int = 10,
        run_inline: RunInline | None = None,
        auth_cache_seconds: float = 0.0,
        feed: Feed | None = None,
        max_wait: float = 300.0,
        rate_limit: RateLimit | None = None,
        models: ModelTable | None = None,
    ) -> None:
        self._store = store
        self._storage = storage
        self._queue = queue
        self.costs = costs
        self._allow_private_urls = allow_private_urls
        #: Jobs that can render at once (shown to callers; excess jobs wait QUEUED).
        self.max_concurrent_jobs = max_concurrent_jobs
        self._run_inline = run_inline
        self._auth = Authenticator(store, cache_seconds=auth_cache_seconds)
        #: Wakes ``wait`` when a job changes; without one, waiters re-read every second.
        self._feed = feed
        #: The longest a synchronous request (the OpenAI dialect) waits for its job, seconds.
        self.max_wait = max_wait
        self._pictures = Pictures(storage)
        #: Requests a minute per key, counted on every authentication; None: no limit.
        self._rate_limit = rate_limit
        #: The configured models: which renders a new job (``--v``, ``--niji``, a model field).
        self.models = models or ModelTable.single("default")

    def authenticate(self, raw_key: str | None) -> Account:
        """The active account of a key, this request counted against its rate limit
        (MissingKey, InvalidKey, InactiveKey, RateLimited otherwise)."""
        account = self._auth.recent(raw_key) or self._auth.authenticate(raw_key)
        self._count(account)
        return account

    def recent_account(self, raw_key: str | None) -> Account | None:
        """As ``authenticate``, for a key remembered a moment ago, when that needs no network
        (no store, no Redis): the caller may stay on the event loop. None otherwise."""
        if self._rate_limit is not None and not self._rate_limit.local:
            return None
        account = self._auth.recent(raw_key)
        if account is not None:
            self._count(account)
        return account

    @property
    def auth_is_local(self) -> bool:
        """Whether ``authenticate`` is cheaper than a thread hop (local SQLite, no Redis)."""
        return self.reads_are_local and (self._rate_limit is None or self._rate_limit.local)

    def _count(self, account: Account) -> None:
        if self._rate_limit is not None:
            self._rate_limit.hit(account.id)

    # -- commands ---------------------------------------------------------------------------

    def imagine(
        self, account: Account, command: Imagine, idempotency: Idempotency | None = None
    ) -> tuple[Job, bool]:
        """Accept a new grid job. Returns (job, replayed)."""
        if idempotency and (replayed := self._replayed(account, idempotency)):
            return replayed, True
        text, in_prompt = parse_prompt(command.prompt)
        structured = command.flags
        if command.aspect_ratio is not None:
            structured = replace(structured, aspect_ratio=command.aspect_ratio)
        flags = structured.over(in_prompt)
        flags = replace(flags, aspect_ratio=flags.aspect_ratio or "1:1")
        parse_aspect_ratio(flags.aspect_ratio or "")
        model = self._choose_model(flags, structured, command.model)
        self._check_webhook(command.webhook)
        references = command.references
        if references is not None:
            for n, url in enumerate(references.urls):
                check_url(url, self._allow_private_urls, field=f"references.{n}")
        check_reference_count(len(references.urls if references else ()) + len(command.images))
        inline = [
            reference_image(data, field=f"images.{n}") for n, data in enumerate(command.images)
        ]
        job_id = str(uuid.uuid4())
        uploads = {f"{UPLOADS}{job_id}-reference-{n}.png": image for n, image in enumerate(inline)}
        if uploads:
            references = replace(references or References(), keys=tuple(uploads))
        params = JobParams(
            flags=flags,
            references=references,
            watermark=command.watermark,
            priority=command.priority,
        )
        job = self._new_job(account, JobKind.IMAGINE, text, params, command, job_id=job_id)
        job = replace(job, render_model=model)
        if flags.seed is not None:
            job = replace(job, seed=flags.seed)
        return self._submit_with_uploads(job, idempotency, uploads)

    def edit_image(
        self, account: Account, command: EditImage, idempotency: Idempotency | None = None
    ) -> tuple[Job, bool]:
        """Accept an edit of a caller's picture (no parent): with a mask an inpaint, else a
        variation; the picture is stored with the job, as an action's parent picture is."""
        if idempotency and (replayed := self._replayed(account, idempotency)):
            return replayed, True
        mask_data, mask_field = _edit_mask_source(command)
        kind = JobKind.INPAINT if mask_data is not None else JobKind.VARIATION
        check_strength(kind, command.strength)
        text, in_prompt = parse_prompt(command.prompt)
        flags = replace(command.flags.over(in_prompt), aspect_ratio=None)  # the picture's shape
        model = self._choose_model(flags, command.flags, command.model)
        self._check_webhook(command.webhook)
        ratio = parse_aspect_ratio(command.aspect_ratio) if command.aspect_ratio else None
        picture, sent = edit_picture(command.image, field="image", ratio=ratio)
        mask = None
        if mask_data is not None:
            mask = edit_mask(mask_data, sent, picture.size, field=mask_field, ratio=ratio)
        job_id = str(uuid.uuid4())
        key = f"{UPLOADS}{job_id}-source.png"
        params = JobParams(
            flags=flags,
            action=ActionArgs(strength=command.strength),
            source=Source(key, picture.width, picture.height),
            priority=command.priority,
        )
        job = self._new_job(account, kind, text, params, command, job_id=job_id)
        job = replace(job, render_model=model)
        if flags.seed is not None:
            job = replace(job, seed=flags.seed)
        return self._submit_with_uploads(job, idempotency, {key: picture}, mask)

    def act(
        self, account: Account, command: Act, idempotency: Idempotency | None = None
    ) -> tuple[Job, bool]:
        """Accept a follow-up on a parent job, after every rule has passed."""
        if idempotency and (replayed := self._replayed(account, idempotency)):
            return replayed, True
        return self._act(account, command, idempotency)

    def hold(self, account: Account, command: Act) -> HeldAction:
        """Keep an action that waits for a confirmation (a mask, a zoom): checked against its
        parent now, with no job and no charge until ``release`` (``domain.held``)."""
        if command.action not in HOLDABLE:
            raise InvalidInput(f"{command.action.value} does not wait for a confirmation")
        self._check_parent(account, command)
        self._check_webhook(command.webhook)
        held = HeldAction(str(uuid.uuid4()), account.id, command, self._store.now())
        self._store.holds.add(held)
        return held

    def release(self, account: Account, held_id: str, command: Act) -> tuple[Job, bool]:
        """Run a held action as ``command`` (same parent and action, now with what its
        confirmation brought) under the hold's id, charged now; the hold goes with it."""
        held = self.read_held(account, held_id)
        if held.lapsed:
            raise ActionUnavailable(f"task {held_id}: {LAPSED}", held_id, command.action.value)
        if (command.parent_id, command.action) != (held.command.parent_id, held.command.action):
            raise InvalidInput(f"task {held_id} holds another action")
        return self._act(account, command, None, job_id=held.id)

    def _act(
        self,
        account: Account,
        command: Act,
        idempotency: Idempotency | None,
        job_id: str | None = None,
    ) -> tuple[Job, bool]:
        parent = self._check_parent(account, command)
        self._check_webhook(command.webhook)
        mask = self._mask(parent, command) if command.action is JobKind.INPAINT else None
        prompt, params = follow_up_prompt(parent, command), follow_up_params(parent, command)
        job = self._new_job(account, command.action, prompt, params, command, parent.id, job_id)
        job = replace(job, render_model=parent.render_model)  # the parent's model draws on
        if command.action in (JobKind.UPSAMPLE, JobKind.UPSCALE):
            # One grid image (an upsample), or that image enlarged: it carries the grid's seed.
            job = replace(job, seed=parent.seed)
        return self._submit(job, idempotency, mask, consumes=job_id)

    def _check_parent(self, account: Account, command: Act) -> Job:
        """The parent, once the action's values and the parent's kind, state and pictures
        pass."""
        check_args(command.action, command.args)  # a bad value is a 400 whatever the parent
        parent = self._store.jobs.get_owned(account.id, command.parent_id)
        check_parent(parent, command.action, command.args.index)
        if command.action is JobKind.UPSCALE:
            assert parent.result is not None
            width, height = parent.result.width, parent.result.height
            check_upscale(width, height, command.args.factor, command.args.mode)
        self._check_images(parent, command)
        return parent

    def cancel(self, account: Account, job_id: str) -> Job:
        """Stop one of the account's jobs, refunded once: a queued one never starts, a running
        one stops at its worker's next step. A finished job is ActionUnavailable (409)."""
        job = self.read(account, job_id)
        if not job.status.is_terminal():
            cancelled = self._store.jobs.cancel(job.id, CANCELLED)
            if cancelled is not None:
                if self._feed is not None:
                    self._feed.publish(job.id)
                return cancelled
            job = self.read(account, job_id)  # it ended meanwhile
        raise ActionUnavailable(
            f"job {job.id} is {job.status.value}: only a queued or running job can be cancelled",
            job.id,
            "cancel",
        )

    def upscale_image(
        self, account: Account, command: UpscaleImage, idempotency: Idempotency | None = None
    ) -> tuple[Job, bool]:
        """Accept an upscale of a caller's image by URL: no parent; the worker downloads it.

        Its size is known only once downloaded, so the worker refuses (and refunds) a too
        large image; the URL itself is checked against the outbound policy now.
        """
        if idempotency and (replayed := self._replayed(account, idempotency)):
            return replayed, True
        check_upscale_options(command.factor, command.mode)
        check_url(command.image_url, self._allow_private_urls, field="image_url")
        self._check_webhook(command.webhook)
        params = JobParams(
            action=ActionArgs(factor=command.factor, mode=command.mode),
            image_url=command.image_url,
            priority=command.priority,
        )
        job = self._new_job(account, JobKind.UPSCALE, "", params, command)
        job = replace(job, render_model=self.models.choose(Flags()))  # the default refines
        return self._submit(job, idempotency)

    # -- helpers ----------------------------------------------------------------------------

    def _choose_model(self, flags: Flags, structured: Flags, named: str | None) -> str | None:
        """The model of a new job (``domain.models``); an unknown one is refused (400) before
        anything is charged or stored, naming the dialect's field if it asked for it."""
        field = "version" if asked_for(structured) else "prompt"
        return self.models.choose(flags, named, field)

    def _replayed(self, account: Account, idempotency: Idempotency) -> Job | None:
        """A replay answers before validation; the create transaction checks again."""
        return self._store.jobs.replay(account.id, idempotency)

    def _check_webhook(self, webhook: Webhook | None) -> None:
        if webhook is not None:
            check_url(webhook.url, self._allow_private_urls, field="webhook_url")

    def _check_images(self, parent: Job, command: Act) -> None:
        """The parent pictures the action starts from must still be stored."""
        assert parent.result is not None
        keys = parent.result.images
        index = command.args.index
        if command.action is JobKind.REROLL:
            source = parent.params.source
            if source is None:
                return  # a reroll of a generated grid needs no picture
            keys = [source.key]
        elif index is not None:
            keys = [keys[index.offset]] if index.offset < len(keys) else []
        if not keys or not all(self._storage.exists(key) for key in keys):
            raise ActionUnavailable(
                f"the images of parent job {parent.id} are no longer stored",
                parent.id,
                command.action.value,
            )

    def _mask(self, parent: Job, command: Act) -> bytes:
        assert parent.result is not None
        if command.mask is None:
            raise InvalidMask("mask is required to vary a region", "mask")
        size = (parent.result.width, parent.result.height)
        return decode_mask(command.mask, size, canvas=command.canvas_mask)

    def _new_job(
        self,
        account: Account,
        kind: JobKind,
        prompt: str,
        params: JobParams,
        command: Imagine | Act | UpscaleImage | EditImage,
        parent_id: str | None = None,
        job_id: str | None = None,
    ) -> Job:
        return Job(
            id=job_id or str(uuid.uuid4()),
            account_id=account.id,
            kind=kind,
            status=JobStatus.QUEUED,
            prompt=prompt,
            params=params,
            input=command.input,
            dialect=command.dialect,
            seed=secrets.randbelow(2**31),
            cost=self.costs[kind.value],
            created_at=self._store.now(),
            parent_id=parent_id,
            webhook=command.webhook,
            webhook_status="pending" if command.webhook else None,
        )

    def _submit_with_uploads(
        self,
        job: Job,
        idempotency: Idempotency | None,
        uploads: dict[str, Image.Image],
        mask: bytes | None = None,
    ) -> tuple[Job, bool]:
        """Store the caller's images under the job's keys, then the job; the images go again
        if the job is not created (refused, or an idempotent replay won)."""
        for key, image in uploads.items():
            self._storage.put(key, encode_png(image))
        try:
            stored, replayed = self._submit(job, idempotency, mask)
        except BaseException:
            self._forget(uploads)
            raise
        if replayed:
            self._forget(uploads)
        return stored, replayed

    def _forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._storage.delete(key)

    def _submit(
        self,
        job: Job,
        idempotency: Idempotency | None,
        mask: bytes | None = None,
        consumes: str | None = None,
    ) -> tuple[Job, bool]:
        inline = (
            job.kind is JobKind.UPSAMPLE
            and self._run_inline is not None
            and not job.params.watermark  # drawing a watermark is real work: queue it
        )
        if inline:  # insert it already claimed: one transaction fewer on the hot path
            job = job.moved(JobStatus.PROCESSING, attempt=1, started_at=job.created_at)
        stored, replayed = self._store.jobs.create(job, idempotency, mask, consumes)
        if replayed:
            return stored, True
        if inline and self._run_inline is not None:
            self._run_inline(stored, None)
            # Accepted as QUEUED, like every submission; a GET shows it already finished.
            return replace(stored, status=JobStatus.QUEUED), False
        self._queue.enqueue(stored.id, stored.params.priority, stored.render_model)
        return stored, False


def _edit_mask_source(command: EditImage) -> tuple[bytes | None, str]:
    """The caller's mask and its field; or the picture itself when its transparency is the
    mask (and it has some)."""
    if command.mask is not None:
        return command.mask, "mask"
    if command.transparency_is_mask and has_transparency(command.image, field="image"):
        return command.image, "image"
    return None, "mask"
