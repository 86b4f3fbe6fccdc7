"""The playground at ``/`` in a real browser, found the way a screen reader finds it: by role and
name. One visit as a person would make it: a key, a prompt, live progress, the grid, U2, a pan,
a vary-region mask painted with the mouse, the gallery; screenshots of each step.

The server renders with a pretend-GPU delay, so progress is seen between 0 and 100.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.web.conftest import STARTER_CREDITS, Site

#: Midjourney's costs here: a grid 16, an upsample 4.
GRID, UPSAMPLE = 16, 4
RENDER_TIMEOUT = 30_000  # ms: a render, with the delay, on a busy machine


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _heading(page: Any, text: str) -> Any:
    return page.get_by_role("heading", name=re.compile(f"^{re.escape(text)} · "))


def _title(page: Any, text: str) -> Any:
    """A gallery item's own link (its children's links name them without the dot)."""
    return page.get_by_role("link", name=re.compile(f"^{re.escape(text)} · "))


def _natural_width(page: Any, alt: str) -> int:
    image = page.get_by_role("img", name=alt)
    _expect()(image).to_be_visible()
    image.evaluate("img => img.decode()")  # loaded
    width: int = image.evaluate("img => img.naturalWidth")
    return width


def _paint(page: Any, canvas: Any) -> None:
    """A stroke across the middle of the picture, with the mouse."""
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.35 * w, y + 0.4 * h)
    page.mouse.down()
    page.mouse.move(x + 0.65 * w, y + 0.6 * h, steps=12)
    page.mouse.up()


def test_a_visit_from_prompt_to_gallery(browser: Any, site: Site, screenshots: Path):
    expect = _expect()
    page = site.page(browser)
    page.goto(site.url + "/")

    # A wrong key is refused in the API's own words; the right one shows the credits.
    key = page.get_by_label("API key")
    key.fill("afk_not-a-key")
    expect(page.get_by_role("alert")).to_have_text("Invalid API key")
    key.fill(site.key)
    credits = page.get_by_text(re.compile(r"^Credits: "))
    expect(credits).to_have_text(f"Credits: {STARTER_CREDITS}")
    expect(page.get_by_role("alert")).to_be_hidden()

    page.get_by_label("Prompt").fill("a lighthouse on a cliff at sunset --seed 7")
    page.get_by_label("Aspect ratio").select_option("3:2")
    page.get_by_role("button", name="Imagine").click()

    # Live progress: the bar moves between 0 and 100 while the grid renders.
    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_have_attribute("value", re.compile(r"^[1-9]\d?$"), timeout=RENDER_TIMEOUT)
    page.screenshot(path=screenshots / "1-progress.png")
    u2 = page.get_by_role("button", name="U2", exact=True)
    expect(u2).to_be_enabled(timeout=RENDER_TIMEOUT)
    expect(progress).to_have_attribute("value", "100")
    expect(_heading(page, "Imagine")).to_be_visible()
    for name in ("U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "Reroll"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
    assert _natural_width(page, "Image 2 of the grid") == 1256  # 3:2 at about 1 MP
    expect(page.get_by_role("button", name="Pan left")).to_be_hidden()  # not on a grid
    page.screenshot(path=screenshots / "2-grid.png")

    u2.click()
    expect(_heading(page, "Upsample U2")).to_be_visible()
    for name in ("Pan left", "Pan right", "Pan up", "Pan down", "Zoom out 1.5x", "Zoom out 2x"):
        expect(page.get_by_role("button", name=name)).to_be_enabled()
    for name in ("Vary region", "Upscale 2x", "Vary subtle", "Vary strong"):
        expect(page.get_by_role("button", name=name)).to_be_enabled()
    # 1256 px wide: a 4x upscale would pass the 4096 px cap, so it is not offered.
    expect(page.get_by_role("button", name="Upscale 4x")).to_be_disabled()
    expect(page.get_by_role("button", name="U1", exact=True)).to_be_hidden()
    assert _natural_width(page, "Upsample U2") == 1256
    page.screenshot(path=screenshots / "3-upsample.png")

    page.get_by_role("button", name="Pan left").click()
    expect(_heading(page, "Pan left")).to_be_visible()
    expect(page.get_by_role("button", name="U1", exact=True)).to_be_enabled(timeout=RENDER_TIMEOUT)
    # Half a side more, in multiples of 8.
    assert abs(_natural_width(page, "Image 1 of the grid") - 1256 * 3 / 2) <= 8
    page.screenshot(path=screenshots / "4-pan.png")

    # Back to the upsample by its link, then vary a region painted on it.
    page.get_by_role("link", name=re.compile(r"^job [0-9a-f]{8}$")).click()
    expect(_heading(page, "Upsample U2")).to_be_visible()
    page.get_by_role("button", name="Vary region").click()
    submit = page.get_by_role("button", name="Submit region")
    expect(submit).to_be_disabled()  # nothing painted yet
    _paint(page, page.get_by_label("Mask: paint the region to repaint"))
    page.get_by_label("Describe the region").fill("a red boat")
    page.screenshot(path=screenshots / "5-mask.png")
    submit.click()
    expect(_heading(page, "Vary region")).to_be_visible()
    expect(page.get_by_role("button", name="U1", exact=True)).to_be_enabled(timeout=RENDER_TIMEOUT)
    # A vary-region grid cannot be rerolled (its mask is not kept).
    expect(page.get_by_role("button", name="Reroll")).to_be_disabled()
    page.screenshot(path=screenshots / "6-vary-region.png")
    expect(credits).to_have_text(f"Credits: {STARTER_CREDITS - 3 * GRID - UPSAMPLE}")

    page.get_by_role("link", name="Gallery").click()
    gallery = page.get_by_role("list").filter(has=page.get_by_role("listitem"))
    items = gallery.get_by_role("listitem")
    expect(items).to_have_count(4)
    expect(items.nth(0)).to_contain_text("a red boat")  # newest first
    upsample = items.filter(has=_title(page, "Upsample U2"))
    expect(upsample).to_contain_text("seed 7")
    expect(upsample).to_contain_text(f"{UPSAMPLE} credits")
    expect(upsample.get_by_role("link", name=re.compile(r"^Pan left "))).to_be_visible()
    expect(upsample.get_by_role("link", name=re.compile(r"^Vary region "))).to_be_visible()
    grid = items.filter(has=_title(page, "Imagine"))
    expect(grid).to_contain_text("--ar 3:2 --seed 7")
    page.screenshot(path=screenshots / "7-gallery.png", full_page=True)

    grid.get_by_role("link", name=re.compile(r"^Imagine · ")).click()  # opens the job
    expect(_heading(page, "Imagine")).to_be_visible()
    expect(page.get_by_role("button", name="U3", exact=True)).to_be_enabled()

    page.context.close()
    assert site.page_errors == []
    assert site.outside == [], "the page reached outside this server"


def test_an_api_refusal_is_shown_in_its_own_words(browser: Any, site: Site):
    expect = _expect()
    site.runtime.store.accounts.add_credits(
        site.runtime.store.accounts.authenticate(site.key).id, -STARTER_CREDITS + 5, "adjust"
    )
    page = site.page(browser)
    page.goto(site.url + "/")
    page.get_by_label("API key").fill(site.key)
    expect(page.get_by_text("Credits: 5")).to_be_visible()
    page.get_by_label("Prompt").fill("a fox")
    page.get_by_role("button", name="Imagine").click()
    expect(page.get_by_role("alert")).to_have_text("Insufficient credits: this costs 16, 5 left")
    page.context.close()
    assert site.page_errors == []


def test_the_gallery_pages_newest_first(browser: Any, paused_site: Site):
    expect = _expect()
    with httpx.Client(base_url=paused_site.url, headers={"X-API-Key": paused_site.key}) as api:
        for n in range(14):
            body = {"model": "midjourney", "prompt": f"lantern {n}"}
            assert api.post("/v2/images/generate", json=body).status_code == 202
    page = paused_site.page(browser)
    page.goto(paused_site.url + "/#gallery")
    expect(page.get_by_role("alert")).to_have_text("Enter an API key first.")
    page.get_by_label("API key").fill(paused_site.key)  # the open gallery loads with it
    expect(page.get_by_text(re.compile(r"^Credits: \d+$"))).to_be_visible()
    items = page.get_by_role("listitem")
    expect(items).to_have_count(12)
    expect(items.nth(0)).to_contain_text("lantern 13")
    expect(items.nth(0)).to_contain_text("QUEUED")
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(14)
    expect(items.nth(13)).to_contain_text("lantern 0")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    items.nth(13).get_by_role("link", name=re.compile(r"^Imagine · ")).click()
    expect(_heading(page, "Imagine")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_have_attribute("value", "0")
    expect(page.get_by_role("button", name="U1", exact=True)).to_be_disabled()  # still queued
    page.context.close()
    assert paused_site.page_errors == []


def test_the_api_docs_work_offline(browser: Any, site: Site, screenshots: Path):
    expect = _expect()
    page = site.page(browser)
    page.goto(site.url + "/docs")
    expect(page.get_by_role("heading", name=re.compile("^selfjourney"))).to_be_visible()
    expect(page.get_by_text("/v2/jobs/{id}/events", exact=True)).to_be_visible()
    page.screenshot(path=screenshots / "docs.png")
    page.goto(site.url + "/redoc")
    expect(page.get_by_role("heading", name="selfjourney (0.1.0)")).to_be_visible(timeout=20_000)
    expect(
        page.get_by_text("Follow a job: its changes as Server-Sent Events").first
    ).to_be_attached()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    page.screenshot(path=screenshots / "redoc.png")
    page.context.close()
    assert site.page_errors == []
    assert site.outside == [], "the docs reached outside this server"
