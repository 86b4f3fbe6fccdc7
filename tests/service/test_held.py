"""The service's held actions (a button waiting for its confirmation), batch reads that skip
unknown ids, the queue position of a job, canvas masks, and the seed an upscale carries."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from selfjourney.domain.accounts import Account
from selfjourney.domain.commands import Act, Imagine
from selfjourney.domain.costs import DEFAULT_COSTS
from selfjourney.domain.errors import (
    ActionUnavailable,
    InsufficientCredits,
    InvalidInput,
    InvalidMask,
    InvalidParent,
    NotFound,
)
from selfjourney.domain.held import HOLD_SECONDS
from selfjourney.domain.kinds import JobKind
from selfjourney.domain.params import ActionArgs, GridIndex
from selfjourney.domain.status import JobStatus
from selfjourney.service import Service
from selfjourney.storage.local import LocalStorage
from selfjourney.store import Store
from tests.clock import FakeClock
from tests.service.test_service import FakeQueue, _finish


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed_store(database_url: str, clock: FakeClock) -> Iterator[Store]:
    """SQLite and PostgreSQL: the hold's delete, the queue count and the batch read are SQL."""
    s = Store.connect(database_url, clock)
    yield s
    s.close()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def service(timed_store: Store, storage: LocalStorage, queue: FakeQueue) -> Service:
    return Service(store=timed_store, storage=storage, queue=queue, costs=dict(DEFAULT_COSTS))


@pytest.fixture
def account(timed_store: Store) -> Account:
    account, _ = timed_store.accounts.create("test", credits=100)
    return account


def _credits(store: Store, account: Account) -> int:
    return store.accounts.get(account.id).credits


def _upsample(service: Service, store: Store, storage: LocalStorage, account: Account):
    """A finished 64x36 grid and its finished upsample of image 2."""
    grid, _ = service.imagine(account, Imagine("a red fox"))
    grid = _finish(store, storage, grid, images=4)
    picked, _ = service.act(account, Act(grid.id, JobKind.UPSAMPLE, ActionArgs(GridIndex(2))))
    return grid, _finish(store, storage, picked, images=1)


def _mask(size: tuple[int, int], mode: str = "L", fill: object = 255) -> str:
    out = io.BytesIO()
    Image.new(mode, size, fill).save(out, format="PNG")  # type: ignore[arg-type]
    return base64.b64encode(out.getvalue()).decode()


def test_a_held_action_costs_nothing_until_released_under_its_own_id(
    service, timed_store, storage, queue, account
):
    _, upsample = _upsample(service, timed_store, storage, account)
    before, queued = _credits(timed_store, account), len(queue.enqueued)
    held = service.hold(account, Act(upsample.id, JobKind.INPAINT, input={"customId": "x"}))
    assert _credits(timed_store, account) == before and len(queue.enqueued) == queued
    assert service.read_held(account, held.id).command.input == {"customId": "x"}
    with pytest.raises(NotFound):
        service.read(account, held.id)  # no job yet

    release = Act(upsample.id, JobKind.INPAINT, mask=_mask((64, 36)), prompt="a door")
    job, _ = service.release(account, held.id, release)
    assert job.id == held.id and job.kind is JobKind.INPAINT and job.prompt == "a door"
    assert job.parent_id == upsample.id and queue.enqueued[-1] == (held.id, 0)
    assert _credits(timed_store, account) == before - DEFAULT_COSTS["inpaint"]
    with pytest.raises(NotFound):
        service.read_held(account, held.id)  # the hold went with its job
    with pytest.raises(NotFound):
        service.release(account, held.id, release)


def test_a_hold_is_checked_against_its_parent_and_stores_nothing_when_refused(
    service, timed_store, storage, account
):
    grid, upsample = _upsample(service, timed_store, storage, account)
    with pytest.raises(InvalidParent):
        service.hold(account, Act(grid.id, JobKind.INPAINT))  # a grid: needs an upsample
    with pytest.raises(InvalidInput, match="does not wait"):
        service.hold(account, Act(upsample.id, JobKind.PAN))
    with pytest.raises(NotFound):
        service.hold(account, Act("nope", JobKind.OUTPAINT))
    other, _ = timed_store.accounts.create("other", credits=100)
    with pytest.raises(NotFound):
        service.hold(other, Act(upsample.id, JobKind.OUTPAINT))
    assert timed_store.holds.get_many(["nope"]) == []


def test_a_refused_release_keeps_the_hold(service, timed_store, storage, account):
    _, upsample = _upsample(service, timed_store, storage, account)
    held = service.hold(account, Act(upsample.id, JobKind.OUTPAINT))
    with pytest.raises(InvalidInput, match="zoom ratio"):
        service.release(
            account, held.id, Act(upsample.id, JobKind.OUTPAINT, ActionArgs(zoom_ratio=3))
        )
    with pytest.raises(InvalidInput, match="another action"):
        service.release(account, held.id, Act(upsample.id, JobKind.INPAINT, mask=_mask((64, 36))))
    timed_store.accounts.add_credits(account.id, -_credits(timed_store, account) + 3)
    with pytest.raises(InsufficientCredits):
        service.release(
            account, held.id, Act(upsample.id, JobKind.OUTPAINT, ActionArgs(zoom_ratio=2))
        )
    assert service.read_held(account, held.id).command.action is JobKind.OUTPAINT


def test_a_hold_lapses_after_an_hour(service, timed_store, storage, account, clock):
    _, upsample = _upsample(service, timed_store, storage, account)
    held = service.hold(account, Act(upsample.id, JobKind.OUTPAINT))
    clock.advance(seconds=HOLD_SECONDS - 1)
    assert not service.read_held(account, held.id).lapsed
    clock.advance(seconds=1)
    assert service.read_held_found(account, [held.id])[0].lapsed
    with pytest.raises(ActionUnavailable, match="within 1 hour"):
        service.release(
            account, held.id, Act(upsample.id, JobKind.OUTPAINT, ActionArgs(zoom_ratio=2))
        )


def test_read_found_keeps_the_order_asked_and_skips_what_is_not_the_callers(
    service, timed_store, account
):
    first, _ = service.imagine(account, Imagine("one"))
    second, _ = service.imagine(account, Imagine("two"))
    other, _ = timed_store.accounts.create("other", credits=100)
    theirs, _ = service.imagine(other, Imagine("theirs"))
    ids = [second.id, "unknown", theirs.id, first.id, second.id]
    assert [job.id for job in service.read_found(account, ids)] == [second.id, first.id]
    assert service.read_found(account, []) == []


def test_waiting_ahead_counts_the_queued_jobs_that_run_first(service, timed_store, clock, account):
    low, _ = service.imagine(account, Imagine("low", priority=0))
    clock.advance(seconds=1)
    fast, _ = service.imagine(account, Imagine("fast", priority=1))
    clock.advance(seconds=1)
    later, _ = service.imagine(account, Imagine("later fast", priority=1))
    turbo, _ = service.imagine(account, Imagine("turbo", priority=2))
    assert [service.waiting_ahead(job) for job in (turbo, fast, later, low)] == [0, 1, 2, 3]
    claimed = timed_store.jobs.claim(fast.id, lease=30)
    assert claimed is not None
    assert service.waiting_ahead(fast) == 0 and service.waiting_ahead(later) == 1


def test_an_upscale_carries_its_grids_seed(service, timed_store, storage, account):
    grid, upsample = _upsample(service, timed_store, storage, account)
    act = Act(upsample.id, JobKind.UPSCALE, ActionArgs(factor=2, mode="subtle"))
    upscale, _ = service.act(account, act)
    assert upsample.seed == grid.seed and upscale.seed == grid.seed


def test_a_canvas_mask_keeps_transparent_pixels_and_takes_the_pictures_shape(
    service, timed_store, storage, account
):
    _, upsample = _upsample(service, timed_store, storage, account)

    def inpaint(mask: str) -> JobStatus:
        act = Act(upsample.id, JobKind.INPAINT, mask=mask, canvas_mask=True)
        status: JobStatus = service.act(account, act)[0].status
        return status

    # White strokes on a transparent layer, at twice the picture's size: accepted.
    layer = Image.new("RGBA", (128, 72), (255, 255, 255, 0))
    layer.paste((255, 255, 255, 255), (0, 0, 10, 10))
    out = io.BytesIO()
    layer.save(out, format="PNG")
    assert inpaint(base64.b64encode(out.getvalue()).decode()) is JobStatus.QUEUED
    with pytest.raises(InvalidMask, match="no white area"):  # white, but all transparent
        inpaint(_mask((64, 36), "RGBA", (255, 255, 255, 0)))
    with pytest.raises(InvalidMask, match="64x64 but the picture is 64x36"):
        inpaint(_mask((64, 64)))
    with pytest.raises(InvalidMask, match="must be 64x36"):  # not a canvas: the exact size
        service.act(account, Act(upsample.id, JobKind.INPAINT, mask=_mask((128, 72))))
