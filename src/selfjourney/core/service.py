"""The dialect-neutral core: every request becomes an Imagine or an Act here.

Rules (parents, costs, idempotency, credits) live here once; dialects only translate.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from selfjourney.core.accounts import Account
from selfjourney.core.errors import ActionUnavailable, MissingKey
from selfjourney.core.flags import parse_prompt
from selfjourney.core.jobs import (
    Act,
    Idempotency,
    Imagine,
    Job,
    JobKind,
    JobStatus,
    UpscaleImage,
    Webhook,
)
from selfjourney.core.masks import decode_mask
from selfjourney.core.rules import (
    check_parent,
    check_strength,
    check_upscale,
    check_upscale_options,
    check_zoom_ratio,
)
from selfjourney.core.sizes import parse_aspect_ratio
from selfjourney.queue.base import Queue
from selfjourney.storage.base import Storage
from selfjourney.store import Store
from selfjourney.store.jobs import Page
from selfjourney.webhooks.guard import check_url


class Service:
    """Accepts commands for an authenticated account and hands jobs to the queue."""

    def __init__(
        self,
        store: Store,
        storage: Storage,
        queue: Queue,
        costs: dict[str, int],
        allow_private_webhooks: bool = False,
        max_concurrent_jobs: int = 10,
        run_inline: Callable[[Job], None] | None = None,
        auth_cache_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.storage = storage
        self.queue = queue
        self.costs = costs
        self.allow_private_webhooks = allow_private_webhooks
        self.max_concurrent_jobs = max_concurrent_jobs
        #: Runs an upsample in the request's thread: it is a file copy, not a render.
        self.run_inline = run_inline
        self.auth_cache_seconds = auth_cache_seconds
        self._recent: dict[str, tuple[float, Account]] = {}

    def authenticate(self, raw_key: str | None) -> Account:
        """The active account of a key; remembered for ``auth_cache_seconds``."""
        if not raw_key:
            raise MissingKey()
        account = self.store.accounts.authenticate(raw_key)
        if self.auth_cache_seconds > 0:
            if len(self._recent) > 10_000:
                self._recent.clear()
            self._recent[raw_key] = (time.monotonic() + self.auth_cache_seconds, account)
        return account

    def recent_account(self, raw_key: str | None) -> Account | None:
        """An account authenticated less than ``auth_cache_seconds`` ago, without the store.

        So a key revoked from another process keeps working for at most that long.
        """
        if not raw_key:
            return None
        found = self._recent.get(raw_key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def account(self, account_id: str) -> Account:
        return self.store.accounts.get(account_id)

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
        ratio = flags.aspect_ratio or "1:1"
        parse_aspect_ratio(ratio)
        self._check_webhook(command.webhook)
        self._check_references(command)
        job = self._new_job(
            account,
            JobKind.IMAGINE,
            prompt=text,
            params={**flags.to_params(), **_imagine_params(command), "aspect_ratio": ratio},
            input=command.input,
            dialect=command.dialect,
            webhook=command.webhook,
        )
        if flags.seed is not None:
            job = replace(job, seed=flags.seed)
        return self._submit(job, idempotency)

    def act(
        self, account: Account, command: Act, idempotency: Idempotency | None = None
    ) -> tuple[Job, bool]:
        """Accept a follow-up on a parent job, after every rule has passed."""
        if idempotency and (replayed := self._replayed(account, idempotency)):
            return replayed, True
        # The command's own values first: a bad value is a 400 whatever the parent is.
        check_strength(command.action, command.strength)
        check_zoom_ratio(command.zoom_ratio, command.aspect_ratio)
        parent = self.store.jobs.get_owned(account.id, command.parent_id)
        check_parent(parent, command.action, command.index)
        if command.action is JobKind.UPSCALE:
            assert parent.result is not None
            check_upscale(parent.result.width, parent.result.height, command.factor, command.mode)
        self._check_images(parent, command)
        self._check_webhook(command.webhook)
        mask = None
        if command.action is JobKind.INPAINT:
            assert parent.result is not None and command.mask is not None
            mask = decode_mask(command.mask, (parent.result.width, parent.result.height))
        job = self._new_job(
            account,
            command.action,
            prompt=_child_prompt(parent, command),
            params=_child_params(parent, command),
            input=command.input,
            dialect=command.dialect,
            webhook=command.webhook,
            parent_id=parent.id,
        )
        if command.action is JobKind.UPSAMPLE:  # one image of the grid: the grid's seed
            job = replace(job, seed=parent.seed)
        return self._submit(job, idempotency, mask)

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
        check_url(command.image_url, self.allow_private_webhooks, field="image_url")
        self._check_webhook(command.webhook)
        params: dict[str, Any] = {
            "factor": command.factor,
            "mode": command.mode,
            "image_url": command.image_url,
        }
        if command.priority:
            params["priority"] = command.priority
        job = self._new_job(
            account,
            JobKind.UPSCALE,
            prompt="",
            params=params,
            input=command.input,
            dialect=command.dialect,
            webhook=command.webhook,
        )
        return self._submit(job, idempotency)

    def job(self, account: Account, job_id: str) -> Job:
        return self.store.jobs.get_owned(account.id, job_id)

    def jobs(
        self,
        account: Account,
        limit: int = 20,
        cursor: str | None = None,
        status: str | None = None,
        model: str | None = None,
        search: str | None = None,
    ) -> Page:
        return self.store.jobs.page(account.id, limit, cursor, status, model, search)

    def images_made(self, account: Account) -> int:
        return self.store.jobs.images_made(account.id)

    def models_used(self, account: Account) -> list[str]:
        return self.store.jobs.models(account.id)

    def url(self, key: str) -> str:
        return self.storage.url(key)

    def _replayed(self, account: Account, idempotency: Idempotency) -> Job | None:
        """A replay answers before validation; the create transaction checks again."""
        return self.store.jobs.replay(account.id, idempotency)

    def _check_references(self, command: Imagine) -> None:
        if command.references is None:
            return
        for n, url in enumerate(command.references.urls):
            check_url(url, self.allow_private_webhooks, field=f"references.{n}")

    def _check_webhook(self, webhook: Webhook | None) -> None:
        if webhook is not None:
            check_url(webhook.url, self.allow_private_webhooks, field="webhook_url")

    def _check_images(self, parent: Job, command: Act) -> None:
        assert parent.result is not None
        keys = parent.result.images
        if command.action is JobKind.REROLL:
            keys = [parent.params["source"]["key"]] if "source" in parent.params else []
            if not keys:
                return  # a reroll of a generated grid needs no picture
        elif command.index is not None:
            keys = [keys[command.index - 1]] if command.index <= len(keys) else []
        if not keys or not all(self.storage.exists(key) for key in keys):
            raise ActionUnavailable(
                f"the images of parent job {parent.id} are no longer stored",
                parent.id,
                command.action.value,
            )

    def _new_job(
        self,
        account: Account,
        kind: JobKind,
        prompt: str,
        params: dict[str, Any],
        input: dict[str, Any],
        dialect: str,
        webhook: Webhook | None,
        parent_id: str | None = None,
    ) -> Job:
        return Job(
            id=str(uuid.uuid4()),
            account_id=account.id,
            kind=kind,
            status=JobStatus.QUEUED,
            prompt=prompt,
            params=params,
            input=input,
            dialect=dialect,
            seed=secrets.randbelow(2**31),
            cost=self.costs[kind.value],
            created_at=self.store.db.now(),
            parent_id=parent_id,
            webhook=webhook,
            webhook_status="pending" if webhook else None,
        )

    def _submit(
        self, job: Job, idempotency: Idempotency | None, mask: bytes | None = None
    ) -> tuple[Job, bool]:
        inline = (
            job.kind is JobKind.UPSAMPLE
            and self.run_inline is not None
            and not job.params.get("watermark")  # drawing a watermark is real work: queue it
        )
        if inline:  # insert it already claimed: one transaction fewer on the hot path
            job = job.moved(JobStatus.PROCESSING, attempt=1, started_at=job.created_at)
        stored, replayed = self.store.jobs.create(job, idempotency, mask)
        if replayed:
            return stored, True
        if inline and self.run_inline is not None:
            self.run_inline(stored)
            # Accepted as QUEUED, like every submission; a GET shows it already finished.
            return replace(stored, status=JobStatus.QUEUED), False
        self.queue.enqueue(stored.id, int(stored.params.get("priority", 0)))
        return stored, False


#: Render parameters a follow-up keeps from its parent (the picture's look stays the same).
_INHERITED = ("chaos", "stylize", "weird", "tile", "negative", "niji", "version")


def _imagine_params(command: Imagine) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if command.watermark:
        params["watermark"] = command.watermark
    if command.references is not None:
        params["references"] = {
            "urls": list(command.references.urls),
            "mode": command.references.mode,
            "weight": command.references.weight,
        }
    if command.priority:
        params["priority"] = command.priority
    return params


def _child_prompt(parent: Job, command: Act) -> str:
    if command.prompt:
        return parse_prompt(command.prompt)[0]
    return parent.prompt


def _child_params(parent: Job, command: Act) -> dict[str, Any]:
    """A reroll repeats its parent's job; other actions keep its look and start from a picture."""
    if command.action is JobKind.REROLL:
        of = parent.params.get("of", parent.kind.value)
        return {**parent.params, "of": of, **_action_params(command)}
    inherited = {key: parent.params[key] for key in _INHERITED if key in parent.params}
    return {**inherited, **_action_params(command), "source": _source(parent, command)}


def _source(parent: Job, command: Act) -> dict[str, Any]:
    """The parent picture the action starts from, fixed at accept time (saves a read later)."""
    assert parent.result is not None
    index = (command.index or 1) - 1
    recipes = parent.result.recipes
    return {
        "key": parent.result.images[index],
        "width": parent.result.width,
        "height": parent.result.height,
        "recipe": recipes[index] if index < len(recipes) else {},
    }


#: The action's own fields kept in the job's params (when set): what the render reads back.
_ACTION_FIELDS = (
    *("index", "zoom_ratio", "aspect_ratio", "prompt", "factor", "mode", "strength"),
    *("watermark", "priority"),
)


def _action_params(command: Act) -> dict[str, Any]:
    params: dict[str, Any] = {
        name: getattr(command, name)
        for name in _ACTION_FIELDS
        if getattr(command, name) not in (None, "", 0)
    }
    if command.direction is not None:
        params["direction"] = command.direction.value
    return params
