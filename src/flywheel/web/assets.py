"""Vendored front-end assets: which npm files the app serves, copying them in, and checking them."""

from __future__ import annotations

import argparse
import json
import mimetypes
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
STATIC_URL = "/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
MANIFEST_NAME = "manifest.json"


class VendorFile(NamedTuple):
    package: str  # npm package name, as in package.json
    source: str  # path inside node_modules/<package>/
    target: str  # path inside the vendor folder, i.e. the URL under VENDOR_URL


# The one list of what is copied from node_modules. Licences travel with the code they cover.
VENDOR_FILES: tuple[VendorFile, ...] = (
    VendorFile("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
    VendorFile("htmx.org", "LICENSE", "licenses/htmx.org/LICENSE"),
    VendorFile("echarts", "dist/echarts.min.js", "echarts.min.js"),
    VendorFile("echarts", "LICENSE", "licenses/echarts/LICENSE"),
    VendorFile("echarts", "NOTICE", "licenses/echarts/NOTICE"),
    VendorFile("swagger-ui-dist", "swagger-ui.css", "swagger-ui.css"),
    VendorFile("swagger-ui-dist", "swagger-ui-bundle.js", "swagger-ui-bundle.js"),
    VendorFile(
        "swagger-ui-dist", "swagger-ui-standalone-preset.js", "swagger-ui-standalone-preset.js"
    ),
    VendorFile("swagger-ui-dist", "favicon-32x32.png", "favicon-32x32.png"),
    VendorFile("swagger-ui-dist", "LICENSE", "licenses/swagger-ui-dist/LICENSE"),
    VendorFile("swagger-ui-dist", "NOTICE", "licenses/swagger-ui-dist/NOTICE"),
)


class VendorAssetsMissing(FileNotFoundError):
    """node_modules lacks files the app needs: ``npm ci`` has not run or a package changed layout."""

    def __init__(self, missing: Sequence[Path]) -> None:
        self.missing = list(missing)
        listed = ", ".join(str(path) for path in self.missing)
        super().__init__(f"missing in node_modules (run `npm ci`): {listed}")


def vendor_url(target: str) -> str:
    """The URL the app serves a vendored file at, e.g. ``/static/vendor/htmx.min.js``."""
    return f"{VENDOR_URL}/{target}"


def copy_vendor_assets(node_modules: Path, target: Path) -> dict[str, str]:
    """Replace ``target`` with exactly the files of VENDOR_FILES and a manifest of versions.

    Nothing is touched unless every source exists, so a failed copy leaves the old folder whole.
    Returns the version of each package copied.
    """
    missing = [
        node_modules / item.package / item.source
        for item in VENDOR_FILES
        if not (node_modules / item.package / item.source).is_file()
    ]
    if missing:
        raise VendorAssetsMissing(missing)
    versions = {
        package: _package_version(node_modules / package)
        for package in sorted({item.package for item in VENDOR_FILES})
    }
    # A clean folder: files dropped from the list (or left by an older version) must not linger.
    if target.exists():
        shutil.rmtree(target)
    for item in VENDOR_FILES:
        destination = target / item.target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / item.package / item.source, destination)
    manifest = {"packages": versions, "files": [item.target for item in VENDOR_FILES]}
    (target / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return versions


def register_media_types() -> None:
    """Fix the types of the files we serve instead of trusting the host's table.

    Static files are typed by ``mimetypes``, which reads the OS registry: on some Windows hosts
    ``.js`` comes out as ``text/plain``, and browsers refuse such scripts under ``nosniff``.
    """
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("text/css", ".css")


def missing_vendor_assets(target: Path = VENDOR_DIR) -> list[str]:
    """The listed files absent from ``target``; empty when the app can serve its pages."""
    return [item.target for item in VENDOR_FILES if not (target / item.target).is_file()]


def _package_version(package_dir: Path) -> str:
    metadata = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    return str(metadata["version"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flywheel.web.assets",
        description="Copy the front-end files the app serves from node_modules (after `npm ci`).",
    )
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    parser.add_argument("--target", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    try:
        versions = copy_vendor_assets(args.node_modules, args.target)
    except VendorAssetsMissing as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    size = sum(path.stat().st_size for path in args.target.rglob("*") if path.is_file())
    packages = ", ".join(f"{name} {version}" for name, version in versions.items())
    sys.stdout.write(
        f"copied {len(VENDOR_FILES)} files ({size / 1024:,.0f} KiB) to {args.target}: {packages}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
