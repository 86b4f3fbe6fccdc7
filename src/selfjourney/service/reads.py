"""The service's reads: a job, several, a page, a job awaited on the feed, an account, a
picture as a caller wants it. Mixed into ``Service``, whose constructor sets the parts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from selfjourney.domain.accounts import Account
from selfjourney.domain.errors import NotFound
from selfjourney.domain.held import HOLD_SECONDS, HeldAction
from selfjourney.domain.jobs import Job
from selfjourney.domain.pages import Cursor, Page
from selfjourney.domain.params import GridIndex
from selfjourney.domain.renditions import Rendition
from selfjourney.feed.base import Feed
from selfjourney.service.pictures import Pictures
from selfjourney.storage.base import Storage
from selfjourney.store import Store

#: A waiter reads the row again at least this often, so a lost signal only delays an answer.
REREAD_SECONDS = 1.0


class Reads:
    """What a caller can read; the parts are ``Service``'s."""

    _store: Store
    _storage: Storage
    _feed: Feed | None
    _pictures: Pictures

    @property
    def reads_are_local(self) -> bool:
        """Whether a read is cheaper than a thread hop (SQLite on this machine)."""
        return self._store.db.reads_are_local

    def read(self, account: Account, job_id: str) -> Job:
        """One of the account's jobs; NotFound for an unknown id or another key's job."""
        return self._store.jobs.get_owned(account.id, job_id)

    def read_found(self, account: Account, job_ids: list[str]) -> list[Job]:
        """The account's jobs among ``job_ids``, in one look-up, in the order asked, each
        once; unknown ids and other keys' jobs are left out (a poller's batch)."""
        found = {job.id: job for job in self._store.jobs.get_many(job_ids)}
        jobs = (found.get(job_id) for job_id in dict.fromkeys(job_ids))
        return [job for job in jobs if job is not None and job.account_id == account.id]

    def read_held(self, account: Account, held_id: str) -> HeldAction:
        """One of the account's held actions; NotFound for an unknown id or another key's."""
        return self._lapse(self._store.holds.get_owned(account.id, held_id))

    def read_held_found(self, account: Account, held_ids: list[str]) -> list[HeldAction]:
        """The account's held actions among ``held_ids`` (any order), in one look-up."""
        found = self._store.holds.get_many(held_ids)
        return [self._lapse(held) for held in found if held.account_id == account.id]

    def _lapse(self, held: HeldAction) -> HeldAction:
        lapsed = self._store.now() >= held.created_at + timedelta(seconds=HOLD_SECONDS)
        return replace(held, lapsed=lapsed)

    def waiting_ahead(self, job: Job) -> int:
        """How many queued jobs will run before ``job``: 0 unless it waits in the queue."""
        return self._store.jobs.waiting_ahead(job.id)

    def read_many(self, account: Account, job_ids: list[str]) -> list[Job]:
        """Several of the account's jobs in one look-up, in the order asked.

        NotFound names the first id that is unknown or another key's.
        """
        found = {job.id: job for job in self._store.jobs.get_many(job_ids)}
        jobs = []
        for job_id in job_ids:
            job = found.get(job_id)
            if job is None or job.account_id != account.id:
                raise NotFound(job_id)
            jobs.append(job)
        return jobs

    async def wait(
        self,
        account: Account,
        job_id: str,
        *,
        until: Callable[[Job], bool] = lambda job: job.status.is_terminal(),
        timeout: float,
    ) -> Job:
        """The job once ``until(job)`` holds (by default: it ended), or as it stands when
        ``timeout`` seconds run out.

        It waits on the feed, not on a thread, so any number of callers may wait at once; the
        row stays the truth, read again on every signal and at least every second.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._feed is None:
            return await self._poll(account, job_id, until, deadline)
        with self._feed.watch(job_id) as watch:
            job = await self._read_soon(account, job_id)
            while not until(job) and (left := deadline - loop.time()) > 0:
                await watch.wait(min(left, REREAD_SECONDS))
                job = await self._read_soon(account, job_id)
        return job

    async def _poll(
        self, account: Account, job_id: str, until: Callable[[Job], bool], deadline: float
    ) -> Job:
        loop = asyncio.get_running_loop()
        job = await self._read_soon(account, job_id)
        while not until(job) and (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, REREAD_SECONDS))
            job = await self._read_soon(account, job_id)
        return job

    async def _read_soon(self, account: Account, job_id: str) -> Job:
        """A read from the event loop: inline on local SQLite, else on a worker thread."""
        if self.reads_are_local:
            return self.read(account, job_id)
        return await asyncio.to_thread(self.read, account, job_id)

    def list_jobs(
        self,
        account: Account,
        limit: int = 20,
        cursor: str | None = None,
        status: str | None = None,
        model: str | None = None,
        search: str | None = None,
    ) -> Page:
        """The account's jobs, newest first; ``cursor`` continues a previous page."""
        after = Cursor.decode(cursor) if cursor is not None else None
        return self._store.jobs.page(account.id, limit, after, status, model, search)

    def account(self, account: Account) -> Account:
        """The account as it is now (its balance moves with every job)."""
        return self._store.accounts.get(account.id)

    def images_made(self, account: Account) -> int:
        return self._store.jobs.images_made(account.id)

    def models_used(self, account: Account) -> list[str]:
        return self._store.jobs.models(account.id)

    def url(self, key: str) -> str:
        """Where a client downloads a stored image."""
        return self._storage.url(key)

    def picture(self, job: Job, index: GridIndex, wanted: Rendition, *, coarse: int = 1) -> bytes:
        """Picture ``index`` of a finished job, encoded as ``wanted`` says (CPU work);
        ``coarse`` > 1 is a coarser stage of it at the same size."""
        return self._pictures.data(job, index, wanted, coarse=coarse)

    def picture_key(self, job: Job, index: GridIndex, wanted: Rendition) -> str:
        """A storage key (see ``url``) holding picture ``index`` as ``wanted`` says: the stored
        image itself, or a rendition stored beside it and purged with it (CPU work)."""
        return self._pictures.key(job, index, wanted)
