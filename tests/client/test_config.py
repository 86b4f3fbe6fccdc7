"""Where the client finds its server and key: flag, else environment, else the local dev key."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfjourney.client.config import ClientEnv, Connection, connect
from selfjourney.client.errors import ClientError, NoKey


def dev_key(data_dir: Path, key: str = "afk_dev") -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "dev-api-key").write_text(key + "\n")
    return data_dir / "dev-api-key"


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = ClientEnv(server="http://env:1", api_key="afk_env", data_dir=tmp_path)
    got = connect(server="https://flag.example/", key="afk_flag", data_dir=None, env=env)
    assert got == Connection("https://flag.example", "afk_flag", "--key")


def test_the_environment_wins_over_the_dev_key(tmp_path: Path) -> None:
    dev_key(tmp_path)
    env = ClientEnv(server="http://127.0.0.1:9000", api_key="afk_env", data_dir=tmp_path)
    got = connect(server=None, key=None, data_dir=None, env=env)
    assert got == Connection("http://127.0.0.1:9000", "afk_env", "SELFJOURNEY_API_KEY")


def test_by_default_the_local_server_and_its_dev_key(tmp_path: Path) -> None:
    path = dev_key(tmp_path / "data")
    got = connect(server=None, key=None, data_dir=tmp_path / "data", env=ClientEnv())
    assert got == Connection("http://127.0.0.1:8000", "afk_dev", str(path))


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("0.0.0.0", 8123, "http://127.0.0.1:8123"),
        ("::", 8000, "http://[::1]:8000"),
        ("localhost", 80, "http://localhost:80"),
    ],
)
def test_the_local_server_is_where_serve_listens(
    tmp_path: Path, host: str, port: int, url: str
) -> None:
    dev_key(tmp_path)
    env = ClientEnv(host=host, port=port, data_dir=tmp_path)
    assert connect(server=None, key=None, data_dir=None, env=env).server == url


def test_a_bare_host_gets_http() -> None:
    got = connect(server="127.0.0.1:8000", key="afk_k", data_dir=None, env=ClientEnv())
    assert got.server == "http://127.0.0.1:8000"


def test_the_dev_key_is_never_sent_to_a_remote_server(tmp_path: Path) -> None:
    dev_key(tmp_path)
    with pytest.raises(NoKey, match="no API key for https://images.example.com: pass --key"):
        connect(server="https://images.example.com", key=None, data_dir=tmp_path, env=ClientEnv())


def test_no_key_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(NoKey) as refused:
        connect(server=None, key=None, data_dir=tmp_path / "data", env=ClientEnv())
    message = str(refused.value)
    assert str(tmp_path / "data" / "dev-api-key") in message
    assert "SELFJOURNEY_API_KEY" in message and "make serve" in message


def test_the_environment_is_read_once_into_a_value() -> None:
    environ = {
        "SELFJOURNEY_SERVER": "https://images.example.com",
        "SELFJOURNEY_API_KEY": "afk_env",
        "SELFJOURNEY_DATA_DIR": "/srv/sj",
        "SELFJOURNEY_HOST": "0.0.0.0",
        "SELFJOURNEY_PORT": "9000",
        "SELFJOURNEY_WORKERS": "4",  # the server's: ignored
    }
    assert ClientEnv.from_environ(environ) == ClientEnv(
        "https://images.example.com", "afk_env", Path("/srv/sj"), "0.0.0.0", 9000
    )
    assert ClientEnv.from_environ({}) == ClientEnv()
    assert ClientEnv.from_environ({"SELFJOURNEY_SERVER": ""}).server is None


def test_a_port_that_is_not_a_number_is_named() -> None:
    with pytest.raises(ClientError, match="SELFJOURNEY_PORT must be a port number, not 'http'"):
        ClientEnv.from_environ({"SELFJOURNEY_PORT": "http"})
