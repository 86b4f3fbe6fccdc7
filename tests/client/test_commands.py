"""``selfjourney imagine``, ``act`` and ``jobs`` as real subprocesses against a real server:
the files they write (decoded, sized), their stdout and stderr, their exit status."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

from PIL import Image, ImageChops

from selfjourney.domain.sizes import grid_image_size
from tests.client.site import Site, image_size
from tests.live import SELFJOURNEY, command_env, free_port, run_cli

ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def sj(site: Site, key: str, *args: str | Path, cwd: Path, check: bool = True):
    """A client command with the server and key in the environment."""
    env = {"SELFJOURNEY_SERVER": site.server.url, "SELFJOURNEY_API_KEY": key}
    return run_cli(*args, cwd=cwd, env=env, check=check)


def saved(stdout: str, cwd: Path) -> list[Path]:
    """The paths printed on stdout, one a line, resolved against the command's directory."""
    return [cwd / line for line in stdout.splitlines()]


def job_of(path: Path) -> str:
    match = re.match(rf"({ID})-", path.name)
    assert match is not None, path
    return match[1]


def assert_grid(paths: list[Path], size: tuple[int, int]) -> str:
    """A grid job's five files: the 2x2 composite, then images 1-4; returns the job id."""
    job = job_of(paths[0])
    assert [p.name for p in paths] == [f"{job}-grid.png", *(f"{job}-{n}.png" for n in range(1, 5))]
    assert image_size(paths[0]) == (2 * size[0], 2 * size[1])
    assert [image_size(p) for p in paths[1:]] == [size] * 4
    return job


def test_imagine_right_after_make_serve_needs_no_flags(site: Site) -> None:
    """``make serve`` bootstraps ./data/dev-api-key; only the port differs from the default."""
    run_cli("keys", "bootstrap", "--data-dir", site.data_dir, cwd=site.root)
    env = {"SELFJOURNEY_PORT": str(site.server.port)}
    done = run_cli("imagine", "a fox in the snow", "--upsample", "2", cwd=site.root, env=env)

    paths = saved(done.stdout, site.root)
    assert len(paths) == 6 and all(path.parent == site.root for path in paths)
    grid = assert_grid(paths[:5], (1024, 1024))
    upsample = paths[5]
    assert re.fullmatch(rf"{ID}-1\.png", upsample.name) and job_of(upsample) != grid
    with Image.open(paths[2]) as second, Image.open(upsample) as copy:
        assert ImageChops.difference(second.convert("RGB"), copy.convert("RGB")).getbbox() is None
    # Progress on stderr: the job, then a bar to 100 %.
    assert f"imagine: job {grid}" in done.stderr
    assert re.search(r"imagine: 100%\|", done.stderr), done.stderr
    assert f"upsample 2: job {job_of(upsample)}" in done.stderr


def test_imagine_with_flags_an_aspect_ratio_and_an_output_directory(site: Site, tmp_path: Path):
    args = (
        "--server",
        site.server.url,
        "--key",
        site.key,
        "--out",
        "new/dir",
        "--ar",
        "16:9",
        "-q",
    )
    done = run_cli("imagine", "a lighthouse", *args, cwd=tmp_path)
    paths = saved(done.stdout, tmp_path)
    assert all(path.parent == tmp_path / "new" / "dir" for path in paths)
    assert_grid(paths, grid_image_size("16:9"))
    assert done.stderr == ""  # --quiet: no progress


def test_act_presses_every_button(site: Site, tmp_path: Path) -> None:
    key = site.key

    def act(job: str, *args: str | Path) -> list[Path]:
        done = sj(site, key, "act", job, *args, "--out", "out", cwd=tmp_path)
        assert re.search(r": 100%\|", done.stderr), done.stderr
        return saved(done.stdout, tmp_path)

    grid = assert_grid(
        saved(sj(site, key, "imagine", "a harbour", cwd=tmp_path).stdout, tmp_path), (1024, 1024)
    )
    [upsample] = act(grid, "upsample", "1")
    assert image_size(upsample) == (1024, 1024)
    up = job_of(upsample)

    assert_grid(act(grid, "variation", "3"), (1024, 1024))
    assert_grid(act(grid, "variation", "3", "--strong"), (1024, 1024))
    assert_grid(act(grid, "reroll"), (1024, 1024))
    assert_grid(act(up, "pan", "left"), (1536, 1024))
    assert_grid(act(up, "zoom", "2"), (1024, 1024))
    assert_grid(act(up, "zoom", "1.25"), (1024, 1024))  # not in v2: through v1's /outpaint

    mask = Image.new("L", (1024, 1024), 0)
    mask.paste(255, (256, 256, 768, 768))
    mask.save(tmp_path / "mask.png")
    assert_grid(act(up, "inpaint", "--mask", "mask.png", "--prompt", "a red door"), (1024, 1024))

    [bigger] = act(up, "upscale", "2x")
    assert image_size(bigger) == (2048, 2048)


def test_jobs_lists_the_keys_jobs_newest_first(site: Site, tmp_path: Path) -> None:
    key = site.new_key()
    grid = job_of(saved(sj(site, key, "imagine", "a kite", "-q", cwd=tmp_path).stdout, tmp_path)[0])
    up = job_of(
        saved(sj(site, key, "act", grid, "upsample", "4", "-q", cwd=tmp_path).stdout, tmp_path)[0]
    )

    header, *rows = sj(site, key, "jobs", cwd=tmp_path).stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "CREATED", "(UTC)", "CREDITS", "RESULT"]
    assert [row.split()[0] for row in rows] == [up, grid]
    assert rows[0].split()[1:2] + rows[0].split()[-3:] == ["COMPLETED", "4", "1", "image"]
    assert rows[1].split()[-4:] == ["16", "grid,", "4", "images"]
    assert sj(site, key, "jobs", "--status", "failed", cwd=tmp_path).stdout.splitlines() == [header]


def test_failures_exit_1_with_the_servers_message(site: Site, tmp_path: Path) -> None:
    key, broke = site.key, site.new_key(credits=0)
    made = sj(site, key, "imagine", "a bell", "-q", "--out", "setup", cwd=tmp_path).stdout
    grid = job_of(saved(made, tmp_path)[0])
    cases = [
        (("jobs", "--key", "afk_nope"), "Invalid API key (the key from --key) (HTTP 401)"),
        (
            ("act", "00000000-0000-4000-8000-000000000000", "upsample", "1"),
            "Job not found (HTTP 404)",
        ),
        (
            ("act", grid, "pan", "left"),
            f"pan needs an upsample job (U1-U4); job {grid} is a 4-image grid",
        ),
        (("act", grid, "pan", "sideways"), "pan takes a direction: up, down, left, right"),
        (("act", grid, "inpaint", "--mask", "missing.png"), "cannot read the mask missing.png"),
    ]
    for args, message in cases:
        done = sj(site, key, *args, cwd=tmp_path, check=False)
        assert (done.returncode, done.stdout) == (1, ""), done
        assert done.stderr.startswith(f"error: {message}"), done.stderr
        assert "Traceback" not in done.stderr

    poor = sj(site, broke, "imagine", "a bell", cwd=tmp_path, check=False)
    assert poor.returncode == 1
    assert poor.stderr == "error: Insufficient credits: this costs 16, 0 left (HTTP 402)\n"
    assert list(tmp_path.glob("*.png")) == []  # nothing written by a failure


def test_an_unknown_action_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("act", "some-job", "fly", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "invalid choice: 'fly'" in done.stderr


def test_no_server_says_where_it_looked_and_how_to_start_one(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run_cli("jobs", "--server", url, "--key", "afk_x", cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: cannot reach the selfjourney server at {url}: connection refused "
        "(is it running? `make serve` starts one; or pass --server URL)\n"
    )


def test_no_key_says_where_it_looked(tmp_path: Path) -> None:
    done = run_cli("imagine", "a fox", cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: no API key: pass --key KEY or set SELFJOURNEY_API_KEY")
    assert "data/dev-api-key" in done.stderr and "make serve" in done.stderr


def test_ctrl_c_leaves_the_job_running_on_the_server(tmp_path: Path) -> None:
    """A paused server (no workers) keeps the job queued while the client waits."""
    from tests.live import LiveServer, create_key

    key = create_key(tmp_path / "data", 100)
    with LiveServer(tmp_path / "data", workers=0) as server:
        env = {"SELFJOURNEY_SERVER": server.url, "SELFJOURNEY_API_KEY": key}
        process = subprocess.Popen(
            [str(SELFJOURNEY), "imagine", "a slow fox"],
            cwd=tmp_path,
            env=command_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            line = process.stderr.readline()  # "imagine: job <id>", once submitted
            job = re.fullmatch(rf"imagine: job ({ID})\n", line)
            assert job is not None, line
            time.sleep(0.3)  # into the wait
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
        with server.client(key) as client:
            assert client.get(f"/v2/jobs/{job[1]}").json()["status"] == "QUEUED"
    assert process.returncode == 130 and out == ""
    assert err.splitlines()[-1] == (
        f"interrupted: job {job[1]} goes on on the server (see `selfjourney jobs`)"
    )
    assert "Traceback" not in err
