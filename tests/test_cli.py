"""The ``selfjourney`` command end to end: real subprocesses on a fresh data dir per test."""

from __future__ import annotations

import re
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

from selfjourney import __version__
from selfjourney.cli import PROCEDURAL_NOTE, banner
from selfjourney.config import Settings
from tests.live import LedgerLine, LiveServer, create_key, credits_show, run_cli

KEY = re.compile(r"^afk_[A-Za-z0-9_-]{32,}$")
STARTER_CREDITS = 1000


def keys_list(data_dir: Path) -> list[str]:
    """The rows of ``keys list``, below its header."""
    out = run_cli("keys", "list", "--data-dir", data_dir, cwd=data_dir.parent).stdout
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "KEY", "STATE", "CREDITS", "NAME"], out
    for row in rows:  # each column starts under its name; CREDITS is right-aligned
        for column in ("KEY", "STATE", "NAME"):
            start = header.index(column)
            assert row[start] != " " and row[start - 2 : start] == "  ", (column, out)
        assert row[header.index("CREDITS") + len("CREDITS") - 1].isdigit(), out
    return rows


def create(data_dir: Path, credits: int, name: str = "test") -> tuple[str, str]:
    """(id, key) of a new key, from the two lines ``keys create`` prints."""
    args: list[str | Path] = ["keys", "create", "--credits", str(credits), "--name", name]
    done = run_cli(*args, "--data-dir", data_dir, cwd=data_dir.parent)
    created = re.fullmatch(
        rf"created key (\S+) \({name}\) with {credits} credits\n(\S+)\n", done.stdout
    )
    assert created is not None, done.stdout
    return str(uuid.UUID(created[1])), created[2]


def database_bytes(data_dir: Path) -> bytes:
    """The SQLite file with its WAL and shared-memory files, if any are left."""
    files = sorted(data_dir.glob("selfjourney.db*"))
    assert data_dir / "selfjourney.db" in files
    return b"".join(path.read_bytes() for path in files)


def test_keys_create_prints_the_key_last_and_keeps_only_a_hash(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = run_cli(
        "keys", "create", "--name", "alice", "--credits", "50", "--data-dir", data_dir, cwd=tmp_path
    )
    *_, key = done.stdout.splitlines()
    assert KEY.match(key), done.stdout
    assert re.search(r"created key [0-9a-f-]{36} \(alice\) with 50 credits", done.stdout)
    stored = database_bytes(data_dir)
    assert key.encode() not in stored
    assert key[12:].encode() not in stored  # not even the secret part without its prefix


def test_keys_list_shows_a_prefix_never_the_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = [
        (*create(data_dir, 10, "alice"), 10, "alice"),
        (*create(data_dir, 20, "bob"), 20, "bob"),
    ]
    lines = keys_list(data_dir)
    assert len(lines) == 2, lines
    for line, (key_id, key, credits, name) in zip(lines, made, strict=True):
        assert key not in line
        fields = line.split()
        shown = fields[1].removesuffix("…")
        assert key.startswith(shown) and shown != fields[1], line
        assert len(shown) <= 16, f"the listing reveals too much of the key: {line}"
        assert fields[0] == key_id
        assert fields[2:] == ["active", str(credits), name]


def test_keys_revoke_takes_the_name_or_id_that_keys_list_shows(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    alice_id, _ = create(data_dir, 10, "alice")
    bob_id, _ = create(data_dir, 10, "bob")
    first, second = create(data_dir, 1, "ci")[0], create(data_dir, 1, "ci")[0]
    shown = {row.split()[0]: row.split() for row in keys_list(data_dir)}

    by_name = run_cli("keys", "revoke", "alice", "--data-dir", data_dir, cwd=tmp_path)
    assert by_name.stdout == f"revoked key {alice_id} (alice)\n"
    prefix = shown[bob_id][1]  # "afk_abcdefgh…", as listed
    by_prefix = run_cli("keys", "revoke", prefix, "--data-dir", data_dir, cwd=tmp_path)
    assert by_prefix.stdout == f"revoked key {bob_id} (bob)\n"
    shared = run_cli("keys", "revoke", "ci", "--data-dir", data_dir, cwd=tmp_path, check=False)
    assert shared.returncode == 1
    assert shared.stderr == f"error: 2 API keys are named 'ci': give the id ({first}, {second})\n"
    states = [row.split()[2] for row in keys_list(data_dir)]
    assert states == ["revoked", "revoked", "active", "active"]


def test_version_and_a_help_for_users(tmp_path: Path) -> None:
    assert run_cli("--version", cwd=tmp_path).stdout == f"selfjourney {__version__}\n"
    shown = run_cli("--help", cwd=tmp_path).stdout
    for command in ("serve", "keys", "credits", "imagine", "act", "jobs", "mcp"):
        assert re.search(rf"^    {command} ", shown, re.M), shown
    assert "Settings" not in shown and "``" not in shown  # no notes for the code's readers


def test_credits_add_and_show_keep_balance_and_ledger(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key_id, key = create(data_dir, 100)
    prefix = keys_list(data_dir)[0].split()[1].removesuffix("…")

    added = run_cli("credits", "add", key_id, "50", "--data-dir", data_dir, cwd=tmp_path)
    assert added.stdout.strip().endswith(": 150 credits"), added.stdout
    removed = run_cli("credits", "add", prefix, "-30", "--data-dir", data_dir, cwd=tmp_path)
    assert removed.stdout.strip().endswith(": 120 credits"), removed.stdout
    overdraw = run_cli(
        "credits", "add", key, "-500", "--data-dir", data_dir, cwd=tmp_path, check=False
    )
    assert overdraw.returncode == 1
    assert overdraw.stderr == "error: cannot remove 500 credits: the balance is lower\n"

    balance, ledger = credits_show(data_dir, key)
    assert balance == 120
    assert ledger == [
        LedgerLine(100, "grant", 100, None),
        LedgerLine(50, "grant", 150, None),
        LedgerLine(-30, "adjust", 120, None),
    ]


def test_revoked_key_is_refused_by_a_running_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (revoked_id, revoked), kept = create(data_dir, 100), create_key(data_dir, 100)
    with LiveServer(data_dir, workers=0) as server:
        with server.client(revoked) as client:
            assert client.get("/v2/me").status_code == 200
            done = run_cli("keys", "revoke", revoked, "--data-dir", data_dir, cwd=tmp_path)
            assert done.stdout == f"revoked key {revoked_id} (test)\n"
            me = client.get("/v2/me")
            assert (me.status_code, me.json()) == (403, {"error": "API key is inactive"})
            generate = client.post(
                "/v2/images/generate", json={"model": "midjourney", "prompt": "a cat"}
            )
            assert (generate.status_code, generate.json()) == (403, me.json())
        with server.client(kept) as client:
            assert client.get("/v2/me").status_code == 200
    states = [line.split()[2] for line in keys_list(data_dir)]
    assert states == ["revoked", "active"]


def test_keys_bootstrap_creates_the_dev_key_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = run_cli("keys", "bootstrap", "--data-dir", data_dir, cwd=tmp_path)
    *_, key = first.stdout.splitlines()
    assert KEY.match(key), first.stdout
    assert f"with {STARTER_CREDITS} credits" in first.stdout
    key_file = data_dir / "dev-api-key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    second = run_cli("keys", "bootstrap", "--data-dir", data_dir, cwd=tmp_path)
    assert second.stdout.splitlines()[-1] == key
    # Found again, not made anew: "development key (1000 credits)", not "created ...".
    assert second.stdout.startswith(f"development key ({STARTER_CREDITS} credits)")


def test_data_dir_can_come_from_the_environment(tmp_path: Path) -> None:
    data_dir = tmp_path / "from-env"
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {"SELFJOURNEY_DATA_DIR": str(data_dir)}
    created = run_cli("keys", "create", "--credits", "7", cwd=elsewhere, env=env)
    key = created.stdout.splitlines()[-1]
    assert (data_dir / "selfjourney.db").is_file()
    assert list(elsewhere.iterdir()) == []  # no ./data beside the caller
    shown = run_cli("credits", "show", key, cwd=elsewhere, env=env)
    assert shown.stdout.splitlines()[0].endswith(": 7 credits")


def test_unknown_key_is_a_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for command in (["credits", "show"], ["keys", "revoke"]):
        done = run_cli(
            *command, "afk_no-such-key", "--data-dir", data_dir, cwd=tmp_path, check=False
        )
        assert done.returncode == 1, done
        assert done.stdout == ""
        assert done.stderr == "error: API key 'afk_no-such-…' not found\n"


def test_serve_prints_its_url_at_start(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data", workers=0) as server:
        banner = server.log()
    lines = banner.splitlines()
    assert f"selfjourney {server.url}  (API docs: {server.url}/docs)" in lines
    assert any(line.startswith(f"playground {server.url}/ ") for line in lines), banner
    # The procedural engine says what it draws, and how to get real pictures.
    assert "abstract placeholder pictures" in banner
    assert "make serve ENGINE=diffusers MODEL=stabilityai/sd-turbo" in banner


def _settings(**values: Any) -> Settings:
    return Settings(**values)


def test_only_the_procedural_engine_explains_itself() -> None:
    settings = _settings(engine="diffusers", port=9000)
    lines = banner(settings, "diffusers stabilityai/sd-turbo on cuda, upscaler lanczos")
    assert lines == [
        "engine diffusers stabilityai/sd-turbo on cuda, upscaler lanczos",
        "selfjourney http://127.0.0.1:9000  (API docs: http://127.0.0.1:9000/docs)",
        "playground http://127.0.0.1:9000/  (paste the key into it; make serve prints one)",
    ]
    procedural = banner(_settings(port=9000), "procedural, upscaler lanczos")
    assert procedural[1:4] == list(PROCEDURAL_NOTE)
    assert "about 5 GB" in procedural[3] and "CPU works but is slow" in procedural[3]


def test_keys_create_refuses_negative_credits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = run_cli(
        "keys", "create", "--credits", "-5", "--data-dir", data_dir, cwd=tmp_path, check=False
    )
    assert done.returncode != 0, done.stdout
    assert "credits" in done.stderr


def test_invalid_setting_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    env = {"SELFJOURNEY_WORKERS": "99"}
    done = run_cli(
        "keys", "list", "--data-dir", tmp_path / "data", cwd=tmp_path, env=env, check=False
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error:") and "workers" in done.stderr, done.stderr


def test_the_diffusers_engine_without_torch_is_a_clear_error(tmp_path: Path) -> None:
    """A ``torch`` that cannot be imported stands in for an install without the extra."""
    fake = tmp_path / "no-torch" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named torch")\n')
    done = run_cli(
        *("serve", "--engine", "diffusers", "--data-dir", tmp_path / "data"),
        cwd=tmp_path,
        env={"PYTHONPATH": str(fake.parent)},
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: the diffusers engine needs torch")


def test_make_serve_passes_port_engine_and_model(tmp_path: Path) -> None:
    """``make serve PORT= ENGINE= MODEL=`` (a dry run: nothing is installed or started)."""
    root = Path(__file__).resolve().parents[1]
    venv = tmp_path / "venv"

    def dry_run(*variables: str) -> list[str]:
        done = subprocess.run(
            [
                "make",
                "-n",
                "--no-print-directory",
                "-C",
                str(root),
                "serve",
                f"VENV={venv}",
                *variables,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.splitlines()

    plain = dry_run()
    assert plain[-1].split() == [f"{venv}/bin/selfjourney", "serve"]
    assert not any("[diffusers]" in line for line in plain)
    real = dry_run("PORT=8080", "ENGINE=diffusers", "MODEL=stabilityai/sd-turbo")
    assert real[-1].split() == [
        f"{venv}/bin/selfjourney",
        *("serve", "--port", "8080", "--engine", "diffusers", "--model", "stabilityai/sd-turbo"),
    ]
    assert any(".[diffusers]" in line for line in real)  # the engine's extra is installed first
