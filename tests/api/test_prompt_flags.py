"""Prompt flags through the Apiframe v2 API: recorded, applied, refused when malformed."""

from __future__ import annotations

from PIL import ImageChops

from tests.flows import balance, download, finished, generate


def test_ar_flag_sets_the_shape_and_the_structured_field_wins(client, headers):
    wide = finished(client, headers, generate(client, headers, prompt="a beach --ar 16:9"))
    assert download(client, wide["result"]["images"][0]).size == (1368, 768)
    square = finished(
        client,
        headers,
        generate(
            client, headers, prompt="a beach --ar 16:9", midjourneyParams={"aspect_ratio": "1:1"}
        ),
    )
    assert download(client, square["result"]["images"][0]).size == (1024, 1024)
    assert wide["input"]["prompt"] == "a beach --ar 16:9"  # echoed as sent


def test_seed_flag_makes_a_grid_reproducible(client, headers, runtime):
    first = finished(client, headers, generate(client, headers, prompt="a lighthouse --seed 1234"))
    again = finished(client, headers, generate(client, headers, prompt="a lighthouse --seed 1234"))
    other = finished(client, headers, generate(client, headers, prompt="a lighthouse --seed 1235"))
    for n in range(4):
        a = download(client, first["result"]["images"][n])
        assert (
            ImageChops.difference(a, download(client, again["result"]["images"][n])).getbbox()
            is None
        )
        assert ImageChops.difference(a, download(client, other["result"]["images"][n])).getbbox()
    job = runtime.store.jobs.get(first["id"])
    assert job is not None and job.seed == 1234 and job.prompt == "a lighthouse"


def test_flags_are_recorded_and_kept_by_follow_ups(client, headers, runtime):
    grid = finished(
        client, headers, generate(client, headers, prompt="city --tile --chaos 30 --no red")
    )
    job = runtime.store.jobs.get(grid["id"])
    assert job is not None
    flags = job.params.flags
    assert flags.tile is True and flags.chaos == 30 and flags.negative == ("red",)
    response = client.post(
        "/v2/images/midjourney/action",
        json={"parentJobId": grid["id"], "action": "variation", "index": 1},
        headers=headers,
    )
    child = runtime.store.jobs.get(response.json()["jobId"])
    assert child is not None
    assert child.params.flags.tile is True and child.params.flags.chaos == 30


def test_malformed_flag_is_a_400_on_prompt_and_costs_nothing(client, headers):
    before = balance(client, headers)
    response = client.post(
        "/v2/images/generate",
        json={"model": "midjourney", "prompt": "a cat --chaos 500"},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["details"]["prompt"] == [
        "--chaos takes a whole number from 0 to 100; got '500'"
    ]
    assert balance(client, headers) == before
