"""The UI router without a browser: pages, static files, their types, and no path escape."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from montesim.api.app import create_app
from montesim.api.ui import WEB_ROOT
from montesim.config import Settings

IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+["'](\.{1,2}/[^"']+)["']""", re.M | re.S)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("ui-routes"))
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def test_index_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/app.js">' in resp.text
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/static/js/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_have_their_media_types(client: TestClient, path: str, media: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith(media)
    assert resp.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api/ui.py",
        "/static/%2e%2e/api/ui.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/js",
        "/static/nope.js",
    ],
)
def test_nothing_outside_the_web_folder_is_served(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert "def " not in resp.text and "[project]" not in resp.text


def test_every_module_import_resolves_to_a_served_file(client: TestClient) -> None:
    """A renamed or missing module would only break in a browser; catch it here too."""
    modules = sorted(WEB_ROOT.rglob("*.js"))
    assert modules
    for module in modules:
        for target in IMPORT.findall(module.read_text()):
            resolved = (module.parent / target).resolve()
            assert resolved.is_file(), f"{module.relative_to(WEB_ROOT)} imports missing {target}"
            rel = resolved.relative_to(WEB_ROOT).as_posix()
            assert client.get(f"/static/{rel}").status_code == 200
    for ref in re.findall(r'(?:href|src)="(/static/[^"]+)"', client.get("/").text):
        assert client.get(ref).status_code == 200, ref
