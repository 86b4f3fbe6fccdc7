"""Every button, pressed by its customId as the chatgpt-web-midjourney-proxy client presses it
(poll fetch, press, poll), checked on the decoded images (spec §6, §7, §13)."""

from __future__ import annotations

from PIL import Image, ImageChops

from selfjourney.domain.costs import DEFAULT_COSTS
from tests.mjproxy.steps import (
    button,
    credits,
    data_url,
    envelope,
    fetch,
    finished,
    image,
    press,
    press_modal,
    submit,
)

UPSAMPLE_BUTTONS = [
    "Upscale (Subtle)",
    "Upscale (Creative)",
    "Upscale (4x)",
    "Vary (Subtle)",
    "Vary (Strong)",
    "Vary (Region)",
    "Zoom Out 2x",
    "Zoom Out 1.5x",
    "Custom Zoom",
    "⬅️",
    "➡️",
    "⬆️",
    "⬇️",
]


def _quadrant(grid: Image.Image, n: int) -> Image.Image:
    width, height = grid.width // 2, grid.height // 2
    x, y = ((n - 1) % 2) * width, ((n - 1) // 2) * height
    return grid.crop((x, y, x + width, y + height))


def test_u2_is_exactly_the_top_right_image_of_the_grid(client, grid, upsample):
    composite = image(client, grid["imageUrl"])
    picture = image(client, upsample["imageUrl"])
    assert ImageChops.difference(_quadrant(composite, 2), picture).getbbox() is None
    assert (upsample["action"], upsample["parentId"]) == ("UPSCALE", grid["id"])
    assert upsample["customId"] == f"MJ::JOB::upsample::2::{grid['id']}"
    assert upsample["description"] == f"/up {grid['id']} U2"
    assert upsample["imageUrls"] is None and upsample["seed"] == grid["seed"]
    labels = [b["label"] or b["emoji"] for b in upsample["buttons"]]
    assert labels == UPSAMPLE_BUTTONS  # square: no Make Square


def test_v1_to_v4_make_a_variation_grid_plain_strong_or_subtle(client, secret, grid):
    size = image(client, grid["imageUrls"][2]["url"]).size
    for strong, expected in [(None, "V3"), (True, "Vary (Strong)"), (False, "Vary (Subtle)")]:
        extra = {} if strong is None else {"strong": strong}
        task = finished(client, secret, press(client, secret, grid, "V3", **extra))
        assert (task["action"], task["parentId"]) == ("VARIATION", grid["id"])
        assert task["description"] == f"/up {grid['id']} {expected}"
        assert len(task["imageUrls"]) == 4
        assert image(client, task["imageUrls"][0]["url"]).size == size


def test_reroll_repeats_the_grid_with_a_new_seed(client, secret, grid):
    task = finished(client, secret, press(client, secret, grid, "🔄"))
    assert (task["action"], task["parentId"]) == ("REROLL", grid["id"])
    assert task["seed"] != grid["seed"] and len(task["imageUrls"]) == 4
    assert image(client, task["imageUrl"]).tobytes() != image(client, grid["imageUrl"]).tobytes()


def test_vary_subtle_and_strong_on_an_upsample(client, secret, upsample):
    size = image(client, upsample["imageUrl"]).size
    for label in ("Vary (Subtle)", "Vary (Strong)"):
        before = credits(client, secret)
        task = finished(client, secret, press(client, secret, upsample, label))
        assert task["action"] == "VARIATION" and task["parentId"] == upsample["id"]  # pressed
        assert task["customId"] == button(upsample, label)
        assert task["description"] == f"/up {upsample['id']} {label}"
        assert image(client, task["imageUrls"][0]["url"]).size == size
        assert credits(client, secret) == before - DEFAULT_COSTS["variation"]


def test_pan_widens_or_heightens_by_half_a_side(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    wide, tall = (source.width * 3 // 2, source.height), (source.width, source.height * 3 // 2)
    for arrow, direction, size in [
        ("⬅️", "left", wide),
        ("➡️", "right", wide),
        ("⬆️", "up", tall),
        ("⬇️", "down", tall),
    ]:
        task = finished(client, secret, press(client, secret, upsample, arrow))
        assert task["action"] == "PAN" and task["description"].endswith(f"pan_{direction}")
        assert image(client, task["imageUrls"][0]["url"]).size == size


def test_zoom_out_keeps_the_size(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    for label in ("Zoom Out 2x", "Zoom Out 1.5x"):
        task = finished(client, secret, press(client, secret, upsample, label))
        assert (task["action"], task["description"]) == ("ZOOM", f"/up {upsample['id']} {label}")
        assert {image(client, item["url"]).size for item in task["imageUrls"]} == {source.size}


def test_make_square_on_a_wide_upsample(client, secret):
    wide = finished(client, secret, submit(client, secret, prompt="a harbour --ar 2:1"))
    upsample = finished(client, secret, press(client, secret, wide, "U1"))
    source = image(client, upsample["imageUrl"])
    task = finished(client, secret, press(client, secret, upsample, "Make Square"))
    picture = image(client, task["imageUrls"][0]["url"])
    assert picture.width == picture.height and source.width > 1.9 * source.height
    assert task["customId"] == f"MJ::Outpaint::100::1::{upsample['id']}::SOLO"


def test_upscale_buttons(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    for label, factor, named in [
        ("Upscale (Subtle)", 2, "Upscale (Subtle 2x)"),
        ("Upscale (Creative)", 2, "Upscale (Creative 2x)"),
        ("Upscale (4x)", 4, "Upscale (Subtle 4x)"),
    ]:
        task = finished(client, secret, press(client, secret, upsample, label))
        assert (task["action"], task["buttons"], task["imageUrls"]) == ("UPSCALE_HD", [], None)
        assert task["description"] == f"/up {upsample['id']} {named}"
        picture = image(client, task["imageUrl"])
        assert picture.size == (source.width * factor, source.height * factor)
        assert task["seed"] == upsample["seed"]


def test_every_trueai_upscale_variant_is_accepted(client, secret, upsample):
    for variant, factor in [
        ("v5_2x", 2),
        ("v6_2x_subtle", 2),
        ("v6r1_2x_creative", 2),
        ("v5_4x", 4),
    ]:
        custom_id = f"MJ::JOB::upsample_{variant}::1::{upsample['id']}"
        task_id = submit(
            client, secret, "/mj/submit/action", taskId=upsample["id"], customId=custom_id
        )
        task = finished(client, secret, task_id)
        assert task["customId"] == custom_id
        assert (
            image(client, task["imageUrl"]).width
            == image(client, upsample["imageUrl"]).width * factor
        )


def test_vary_region_leaves_every_pixel_outside_the_mask_unchanged(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    before = credits(client, secret)
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    assert credits(client, secret) == before  # the 21 is free
    waiting = fetch(client, secret, modal_id)
    assert (waiting["status"], waiting["progress"], waiting["action"]) == (
        "MODAL",
        "0%",
        "VARIATION",
    )
    assert (waiting["parentId"], waiting["prompt"], waiting["buttons"]) == (upsample["id"], "", [])
    # The web client's canvas: white strokes on a transparent layer, at twice the size.
    mask = Image.new("RGBA", (source.width * 2, source.height * 2), (255, 255, 255, 0))
    box = (source.width // 2, source.height // 2, source.width, source.height)  # in source px
    mask.paste((255, 255, 255, 255), (box[0] * 2, box[1] * 2, box[2] * 2, box[3] * 2))
    body = {"taskId": modal_id, "maskBase64": data_url(mask), "prompt": "a red door"}
    answer = envelope(client.post("/mj/submit/modal", json=body, headers=secret))
    assert (answer["code"], answer["result"]) == (1, modal_id)
    assert credits(client, secret) == before - DEFAULT_COSTS["inpaint"]
    task = finished(client, secret, modal_id)
    assert (task["action"], task["parentId"], task["prompt"]) == (
        "VARIATION",
        upsample["id"],
        "a red door",
    )
    assert task["customId"] == button(upsample, "Vary (Region)")
    labels = [b["label"] for b in task["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4"]  # no reroll: mask gone
    keep = Image.new("L", source.size, 255)
    keep.paste(0, box)
    for item in task["imageUrls"]:
        picture = image(client, item["url"])
        assert picture.size == source.size
        outside = ImageChops.difference(picture, source)
        outside.paste((0, 0, 0), box)
        assert outside.getbbox() is None  # unchanged outside the mask
        assert ImageChops.difference(picture.crop(box), source.crop(box)).getbbox() is not None


def test_vary_region_with_a_white_on_black_mask_and_no_prompt(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    modal_id = press_modal(client, secret, upsample, "Vary (Region)")
    mask = Image.new("L", source.size, 0)
    mask.paste(255, (0, 0, 20, 20))
    body = {"taskId": modal_id, "maskBase64": data_url(mask).split(",", 1)[1]}  # bare base64
    assert envelope(client.post("/mj/submit/modal", json=body, headers=secret))["code"] == 1
    task = finished(client, secret, modal_id)
    assert task["prompt"] == upsample["prompt"]  # a blank prompt keeps the parent's


def test_custom_zoom_through_the_modal(client, secret, upsample):
    source = image(client, upsample["imageUrl"])
    modal_id = press_modal(client, secret, upsample, "Custom Zoom")
    waiting = fetch(client, secret, modal_id)
    assert (waiting["status"], waiting["action"]) == ("MODAL", "ZOOM")
    assert waiting["prompt"] == upsample["prompt"]  # what the form starts from
    # The web client pre-fills "<task prompt> --zoom 1.8"; here with a new shape.
    body = {"taskId": modal_id, "prompt": f"{waiting['prompt']} --zoom 1.8 --ar 2:1"}
    answer = envelope(client.post("/mj/submit/modal", json=body, headers=secret))
    assert (answer["code"], answer["result"]) == (1, modal_id)
    task = finished(client, secret, modal_id)
    picture = image(client, task["imageUrls"][0]["url"])
    assert task["action"] == "ZOOM" and abs(picture.width / picture.height - 2) < 0.15
    plain = press_modal(client, secret, upsample, "Custom Zoom")
    body = {"taskId": plain, "prompt": "a lighthouse --zoom 1.25"}
    assert envelope(client.post("/mj/submit/modal", json=body, headers=secret))["code"] == 1
    zoomed = finished(client, secret, plain)
    assert image(client, zoomed["imageUrls"][0]["url"]).size == source.size


def test_the_legacy_change_routes_press_the_same_buttons(client, secret, grid):
    upscale = submit(
        client, secret, "/mj/submit/change", taskId=grid["id"], action="UPSCALE", index=4
    )
    variation = submit(
        client, secret, "/mj/submit/change", taskId=grid["id"], action="VARIATION", index=1
    )
    reroll = submit(client, secret, "/mj/submit/simple-change", content=f"{grid['id']} r")
    simple = submit(client, secret, "/mj/submit/simple-change", content=f"{grid['id']} U3")
    tasks = [finished(client, secret, task_id) for task_id in (upscale, variation, reroll, simple)]
    assert [task["customId"] for task in tasks] == [
        button(grid, "U4"),
        button(grid, "V1"),
        button(grid, "🔄"),
        button(grid, "U3"),
    ]
    assert [task["action"] for task in tasks] == ["UPSCALE", "VARIATION", "REROLL", "UPSCALE"]
