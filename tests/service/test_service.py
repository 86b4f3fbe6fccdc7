"""The service called directly, as a dialect calls it: commands become stored, paid-for jobs in
a (fake) queue, refusals cost nothing, reads see only the caller's jobs."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Act, Idempotency, Imagine, UpscaleImage
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import (
    ActionUnavailable,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    InvalidMask,
    InvalidParent,
    NotFound,
    UnsafeUrl,
)
from selfjourney.domain.flags import Flags
from selfjourney.domain.jobs import Job, Result, Webhook
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex, References
from selfjourney.domain.sizes import Direction
from selfjourney.domain.status import JobStatus
from selfjourney.service import Service
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store


class FakeQueue:
    """Records what the service hands over; runs nothing."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, int]] = []

    def enqueue(self, job_id: str, priority: int = 0, model: str | None = None) -> None:
        self.enqueued.append((job_id, priority))


class Inline:
    """Records the jobs the service asks to run in the request's thread."""

    def __init__(self) -> None:
        self.ran: list[Job] = []

    def __call__(self, job: Job, mask: bytes | None) -> None:
        self.ran.append(job)


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def service(store: Store, storage: LocalStorage, queue: FakeQueue) -> Service:
    return Service(store=store, storage=storage, queue=queue, costs=dict(DEFAULT_COSTS))


@pytest.fixture
def account(store: Store) -> Account:
    account, _ = store.accounts.create("test", credits=100)
    return account


def _balance(store: Store, account: Account) -> int:
    return store.accounts.get(account.id).credits


def _finished_grid(store: Store, storage: LocalStorage, account: Account, service: Service) -> Job:
    """A grid job as a worker leaves it: claimed, its four images stored, COMPLETED."""
    job, _ = service.imagine(account, Imagine("a red fox --chaos 20", aspect_ratio="16:9"))
    return _finish(store, storage, job, images=4)


def _finish(store: Store, storage: LocalStorage, job: Job, images: int) -> Job:
    """Do a worker's part: claim the job, store 64x36 images, complete it."""
    claimed = store.jobs.claim(job.id, lease=30)
    assert claimed is not None
    keys = [f"images/{job.id}-{n}.png" for n in range(1, images + 1)]
    for key in keys:
        storage.put(key, _png((64, 36)))
    grid = f"images/{job.id}-grid.png" if images == 4 else None
    result = Result(keys, grid, 64, 36, [{"n": n} for n in range(1, images + 1)])
    assert store.jobs.complete(claimed[0].moved(JobStatus.COMPLETED, result=result), [])
    found = store.jobs.get(job.id)
    assert found is not None
    return found


def _png(size: tuple[int, int], colour: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, colour).save(out, format="PNG")
    return out.getvalue()


def test_imagine_stores_a_paid_job_and_queues_it(service, store, queue, account):
    job, replayed = service.imagine(
        account,
        Imagine("a lighthouse --ar 2:3 --seed 42 --chaos 5", flags=Flags(chaos=50), priority=2),
    )
    assert not replayed and job.status is JobStatus.QUEUED and job.kind is JobKind.IMAGINE
    assert queue.enqueued == [(job.id, 2)]
    assert _balance(store, account) == 100 - DEFAULT_COSTS["imagine"]
    stored = store.jobs.get(job.id)
    assert stored is not None and stored.prompt == "a lighthouse" and stored.seed == 42
    flags = stored.params.flags
    assert (flags.aspect_ratio, flags.chaos, flags.seed) == ("2:3", 50, 42)  # the field wins
    assert stored.params.priority == 2


def test_imagine_defaults_to_a_square_and_the_structured_ratio_wins(service, account):
    plain, _ = service.imagine(account, Imagine("a cat"))
    assert plain.params.flags.aspect_ratio == "1:1"
    wide, _ = service.imagine(account, Imagine("a cat --ar 1:2", aspect_ratio="16:9"))
    assert wide.params.flags.aspect_ratio == "16:9"


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (Imagine("a cat --chaos 500"), InvalidInput),
        (Imagine("a cat", aspect_ratio="9:1"), InvalidInput),
        (Imagine("a cat", webhook=Webhook("http://10.0.0.1/hook")), UnsafeUrl),
        (Imagine("a cat", references=References(("file:///etc/passwd",))), UnsafeUrl),
    ],
    ids=["flag", "ratio", "webhook", "reference"],
)
def test_a_refused_imagine_costs_nothing_and_queues_nothing(
    service, store, queue, account, command, error
):
    with pytest.raises(error):
        service.imagine(account, command)
    assert queue.enqueued == [] and _balance(store, account) == 100


def test_an_unaffordable_job_is_refused_whole(service, store, queue):
    poor, _ = store.accounts.create("poor", credits=10)
    with pytest.raises(InsufficientCredits) as caught:
        service.imagine(poor, Imagine("a cat"))
    assert (caught.value.required, caught.value.available) == (16, 10)
    assert queue.enqueued == [] and service.list_jobs(poor).jobs == []


def test_an_idempotency_key_replays_the_first_job(service, queue, account):
    key = Idempotency("k1", "fingerprint-a")
    first, replayed = service.imagine(account, Imagine("a cat"), key)
    again, replayed_again = service.imagine(account, Imagine("a cat"), key)
    assert (replayed, replayed_again) == (False, True) and again.id == first.id
    assert len(queue.enqueued) == 1
    with pytest.raises(IdempotencyConflict):
        service.imagine(account, Imagine("a dog"), Idempotency("k1", "fingerprint-b"))


def test_act_starts_from_the_chosen_grid_image(service, store, storage, queue, account):
    grid = _finished_grid(store, storage, account, service)
    act = Act(grid.id, JobKind.VARIATION, ActionArgs(index=GridIndex(3), strength="strong"))
    job, _ = service.act(account, act)
    assert queue.enqueued[-1] == (job.id, 0) and job.parent_id == grid.id
    assert job.params.source is not None and job.params.source.key.endswith("-3.png")
    assert job.params.source.recipe == {"n": 3} and job.params.flags.chaos == 20
    assert job.params.action.strength == "strong" and job.prompt == "a red fox"


def test_an_upsample_runs_inline_already_claimed(store, storage, queue, account):
    inline = Inline()
    service = Service(
        store=store, storage=storage, queue=queue, costs=dict(DEFAULT_COSTS), run_inline=inline
    )
    grid = _finished_grid(store, storage, account, service)
    queued = len(queue.enqueued)
    job, _ = service.act(account, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(index=GridIndex(2))))
    assert job.status is JobStatus.QUEUED  # accepted as every submission is
    [ran] = inline.ran
    assert ran.id == job.id and ran.status is JobStatus.PROCESSING and ran.seed == grid.seed
    assert len(queue.enqueued) == queued  # not queued as well


def test_act_refusals_cost_nothing(service, store, storage, queue, account):
    grid = _finished_grid(store, storage, account, service)
    before, queued = _balance(store, account), len(queue.enqueued)
    refusals: list[tuple[Act, type[Exception]]] = [
        (Act("no-such-job", JobKind.UPSAMPLE, ActionArgs(index=GridIndex(1))), NotFound),
        (Act(grid.id, JobKind.UPSAMPLE), InvalidInput),  # no index
        (Act(grid.id, JobKind.PAN, ActionArgs(direction=Direction.UP)), InvalidParent),
        (
            Act(grid.id, JobKind.OUTPAINT, ActionArgs(index=GridIndex(1), zoom_ratio=3)),
            InvalidInput,
        ),
    ]
    for act, error in refusals:
        with pytest.raises(error):
            service.act(account, act)
    storage.delete(grid.result.images[0] if grid.result else "")
    with pytest.raises(ActionUnavailable, match="no longer stored"):
        service.act(account, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(index=GridIndex(1))))
    assert _balance(store, account) == before and len(queue.enqueued) == queued


def test_another_keys_job_is_not_found(service, store, storage, account):
    grid = _finished_grid(store, storage, account, service)
    other, _ = store.accounts.create("other", credits=100)
    with pytest.raises(NotFound):
        service.read(other, grid.id)
    with pytest.raises(NotFound):
        service.act(other, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(index=GridIndex(1))))
    assert _balance(store, other) == 100


def test_an_inpaint_mask_is_checked_against_the_picture(service, store, storage, account):
    grid = _finished_grid(store, storage, account, service)
    picked, _ = service.act(account, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(GridIndex(1))))
    upsample = _finish(store, storage, picked, images=1)
    before = _balance(store, account)
    for mask, message in [
        (None, "mask is required"),
        ("not base64!", "not valid base64"),
        (base64.b64encode(_png((32, 32), 255)).decode(), "must be 64x36"),
        (base64.b64encode(_png((64, 36), 0)).decode(), "no white area"),
    ]:
        with pytest.raises(InvalidMask, match=message):
            service.act(account, Act(upsample.id, JobKind.INPAINT, mask=mask))
    assert _balance(store, account) == before
    white = base64.b64encode(_png((64, 36), 255)).decode()
    job, _ = service.act(account, Act(upsample.id, JobKind.INPAINT, mask=white))
    assert job.kind is JobKind.INPAINT


def test_upscale_image_checks_its_url_and_options(service, store, queue, account):
    job, _ = service.upscale_image(account, UpscaleImage("https://images.example/a.png", 4))
    assert job.params.image_url == "https://images.example/a.png"
    assert job.params.action == ActionArgs(factor=4, mode="subtle") and job.parent_id is None
    before = _balance(store, account)
    with pytest.raises(InvalidInput, match="factor must be 2 or 4"):
        service.upscale_image(account, UpscaleImage("https://images.example/a.png", 3))
    with pytest.raises(UnsafeUrl) as caught:
        service.upscale_image(account, UpscaleImage("https://127.0.0.1/a.png", 2))
    assert caught.value.field == "image_url"
    assert _balance(store, account) == before and len(queue.enqueued) == 1


def test_reads_list_and_read_many(service, account):
    jobs = [service.imagine(account, Imagine(f"cat {n}"))[0] for n in range(3)]
    page = service.list_jobs(account, limit=2)
    assert [j.id for j in page.jobs] == [jobs[2].id, jobs[1].id] and page.next_cursor
    rest = service.list_jobs(account, limit=2, cursor=page.next_cursor)
    assert [j.id for j in rest.jobs] == [jobs[0].id] and rest.next_cursor is None
    ids = [jobs[1].id, jobs[0].id, jobs[1].id]
    assert [j.id for j in service.read_many(account, ids)] == ids
    with pytest.raises(NotFound) as caught:
        service.read_many(account, [jobs[0].id, "missing"])
    assert caught.value.job_id == "missing"
    with pytest.raises(InvalidInput, match="cursor"):
        service.list_jobs(
            account, cursor="eyJjcmVhdGVkQXQiOiAiOTk5OS0xMi0zMVQyMzo1OTo1OS0xNDowMCJ9"
        )


def test_authentication(service, store):
    account, key = store.accounts.create("k", credits=0)
    assert service.authenticate(key).id == account.id
    assert service.recent_account(key) is None  # no memory unless asked for
