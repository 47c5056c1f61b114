"""Front-end assets: copied from node_modules, served by the app, and /docs loads nothing remote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from flywheel.web import assets
from flywheel.web.assets import (
    MANIFEST_NAME,
    VENDOR_FILES,
    VendorAssetsMissing,
    copy_vendor_assets,
    missing_vendor_assets,
)

_ASSET_URL = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)\"""")
_ABSOLUTE_URL = re.compile(r"https?://")


def make_node_modules(root: Path, *, versions: dict[str, str] | None = None) -> Path:
    """A fake node_modules holding every listed file (content = its own path) and a decoy each."""
    node_modules = root / "node_modules"
    versions = versions or {"htmx.org": "2.0.0", "echarts": "6.0.0", "swagger-ui-dist": "5.0.0"}
    for package, version in versions.items():
        package_dir = node_modules / package
        package_dir.mkdir(parents=True)
        (package_dir / "package.json").write_text(json.dumps({"name": package, "version": version}))
        (package_dir / "README.md").write_text("not copied")
    for item in VENDOR_FILES:
        source = node_modules / item.package / item.source
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"{item.package}/{item.source}")
    return node_modules


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


# --- the copy ------------------------------------------------------------------------------------


def test_copy_writes_exactly_the_listed_files_and_a_manifest(tmp_path: Path) -> None:
    node_modules = make_node_modules(tmp_path)
    target = tmp_path / "vendor"

    versions = copy_vendor_assets(node_modules, target)

    assert files_under(target) == {item.target for item in VENDOR_FILES} | {MANIFEST_NAME}
    for item in VENDOR_FILES:
        assert (target / item.target).read_text() == f"{item.package}/{item.source}"
    assert versions == {"echarts": "6.0.0", "htmx.org": "2.0.0", "swagger-ui-dist": "5.0.0"}
    assert json.loads((target / MANIFEST_NAME).read_text()) == {
        "packages": versions,
        "files": [item.target for item in VENDOR_FILES],
    }
    assert missing_vendor_assets(target) == []


def test_copy_removes_files_left_from_an_earlier_copy(tmp_path: Path) -> None:
    node_modules = make_node_modules(tmp_path)
    target = tmp_path / "vendor"
    (target / "licenses" / "old-package").mkdir(parents=True)
    (target / "licenses" / "old-package" / "LICENSE").write_text("stale")
    (target / "jquery.min.js").write_text("stale")

    copy_vendor_assets(node_modules, target)

    assert files_under(target) == {item.target for item in VENDOR_FILES} | {MANIFEST_NAME}


def test_copy_with_a_missing_source_names_it_and_leaves_the_target_alone(tmp_path: Path) -> None:
    node_modules = make_node_modules(tmp_path)
    (node_modules / "echarts" / "dist" / "echarts.min.js").unlink()
    target = tmp_path / "vendor"
    target.mkdir()
    (target / "htmx.min.js").write_text("previous copy")

    with pytest.raises(VendorAssetsMissing) as raised:
        copy_vendor_assets(node_modules, target)

    assert raised.value.missing == [node_modules / "echarts" / "dist" / "echarts.min.js"]
    assert "npm ci" in str(raised.value)
    assert files_under(target) == {"htmx.min.js"}
    assert (target / "htmx.min.js").read_text() == "previous copy"


def test_main_copies_and_reports_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node_modules = make_node_modules(tmp_path)
    target = tmp_path / "vendor"

    exit_code = assets.main(["--node-modules", str(node_modules), "--target", str(target)])

    assert exit_code == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert f"copied {len(VENDOR_FILES)} files" in out
    assert "htmx.org 2.0.0" in out


def test_main_without_node_modules_fails_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = assets.main(
        ["--node-modules", str(tmp_path / "nowhere"), "--target", str(tmp_path / "vendor")]
    )

    assert exit_code == 1
    assert "run `npm ci`" in capsys.readouterr().err
    assert not (tmp_path / "vendor").exists()


def test_the_list_covers_what_the_app_serves() -> None:
    targets = [item.target for item in VENDOR_FILES]

    assert len(targets) == len(set(targets))
    assert {
        "htmx.min.js",
        "echarts.min.js",
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    } <= set(targets)
    for package in {item.package for item in VENDOR_FILES}:
        assert f"licenses/{package}/LICENSE" in targets


# --- served by the app (needs `make install`: npm ci and the copy) -------------------------------


def test_the_installed_assets_are_complete() -> None:
    assert missing_vendor_assets() == [], "run `make install` to install the front-end assets"


def test_docs_page_loads_only_local_assets(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    page = response.text
    assert _ABSOLUTE_URL.findall(page) == []
    urls = _ASSET_URL.findall(page)
    assert sorted(urls) == [
        "/static/vendor/favicon-32x32.png",
        "/static/vendor/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui.css",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "url: '/openapi.json'" in page


def test_no_cdn_docs_pages_remain(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert "/docs" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/static/vendor/htmx.min.js", "text/javascript"),
        ("/static/vendor/echarts.min.js", "text/javascript"),
        ("/static/vendor/swagger-ui.css", "text/css"),
        ("/static/vendor/favicon-32x32.png", "image/png"),
    ],
)
def test_vendored_files_are_served_with_their_type(
    client: TestClient, url: str, content_type: str
) -> None:
    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    name = url.removeprefix("/static/vendor/")
    assert response.content == (assets.VENDOR_DIR / name).read_bytes()


def test_an_unknown_static_file_is_a_404(client: TestClient) -> None:
    response = client.get("/static/vendor/jquery.min.js")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_docs_without_installed_assets_says_how_to_install(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        "flywheel.web.docs.missing_vendor_assets", lambda: missing_vendor_assets(tmp_path)
    )

    response = client.get("/docs")

    assert response.status_code == 503
    assert "text/html" in response.headers["content-type"]
    assert "make install" in response.text
    assert "swagger-ui-bundle.js" in response.text
    assert client.get("/healthz").status_code == 200
