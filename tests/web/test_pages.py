"""The pages without a browser: what ``/``, ``/docs`` and ``/redoc`` send, that they name only
this server's files, that those files ship with the package, and an OpenAPI document whose
references all resolve (ReDoc refuses to render one that does not)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from selfjourney.api import pages

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "selfjourney"
LINKED = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*'([^']+)'""")


def _linked(html: str) -> list[str]:
    return [a or b for a, b in LINKED.findall(html)]


def test_the_playground_is_served_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    linked = _linked(response.text)
    assert "/playground/playground.js" in linked and "/playground/playground.css" in linked
    for url in linked:
        if url.startswith("/playground/"):
            assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_name_only_this_servers_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    linked = _linked(response.text)
    assert linked and all(url.startswith("/") for url in linked), linked
    for url in linked:
        served = client.get(url)
        assert served.status_code == 200 and served.content, url
    assert "fonts.googleapis" not in response.text


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_in_the_openapi_document_resolves(client):
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref


def test_the_playground_ships_as_package_data():
    """A non-editable install has the playground: every file matches a package-data pattern."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["selfjourney"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern)}
    files = [path for path in pages.PLAYGROUND.iterdir() if path.is_file()]
    assert {"index.html", "playground.js", "playground.css"} <= {path.name for path in files}
    assert all(path in shipped for path in files), sorted(set(files) - shipped)
