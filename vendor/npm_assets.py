"""Refresh the front-end files vendored from npm (``make refresh-npm-assets``).

The app and the tests never reach npm: the files below are committed. This script, run by
hand when a version changes, fetches each pinned package with ``npm pack``, checks the
tarball against the registry's integrity (pinned here, so a republished tarball is refused),
and copies only the files listed into the repository, with the package's licence and a
VERSION.txt saying where each came from.

    python vendor/npm_assets.py            # fetch, verify, copy
    python vendor/npm_assets.py --check    # only compare the committed files with the pins
"""
from __future__ import annotations

import base64
import hashlib
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: The Polaris icons the templates use (app/web/polaris.py renders them inline).
ICONS = (
    "AlertCircleIcon", "AlertDiamondIcon", "AlertTriangleIcon", "ArrowLeftIcon", "CheckIcon",
    "CheckSmallIcon", "ChevronLeftIcon", "ChevronRightIcon", "InfoIcon", "InventoryIcon",
    "OrderIcon", "PackageIcon", "SelectIcon",
)

#: package spec -> (integrity from the registry, destination, {file in package: name there}).
PACKAGES = {
    "htmx.org@2.0.11": (
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt63"
        "6dtamA==",
        "app/static/vendor/htmx", {"dist/htmx.min.js": "htmx.min.js"}),
    "@shopify/polaris@13.9.5": (
        "sha512-UN+rT2q1r/uF0Xia8MaCl2nDxatuzbjunS5WYcv4qw8VBvThTxDVURgpwOuvutSrvu138pwScOAah933"
        "vqlYkg==",
        "app/static/vendor/polaris", {"build/esm/styles.css": "styles.css"}),
    "@shopify/polaris-icons@9.3.1": (
        "sha512-16BIFAT93LJ8X4YRXz5cR9ZPHeErMg3DYS0gyTPNPkd0E5IBPoTxPINjn2b4Mr9Sc1x4RfI4AqPcV8ut"
        "0D1J5w==",
        "app/static/vendor/polaris-icons",
        {f"dist/svg/{name}.svg": f"{name}.svg" for name in ICONS}),
    # Tests only (tests/e2e/accessibility.py injects it into the page): not served.
    "axe-core@4.11.0": (
        "sha512-ilYanEU8vxxBexpJd8cWM4ElSQq4QctCLKih0TSfjIfCQTeyH/6zVrmIJfLPrKTKJRbiG+cfnZbQIjAl"
        "JmF1jQ==",
        "tests/vendor/axe-core", {"axe.min.js": "axe.min.js"}),
}

LICENCES = ("LICENSE", "LICENSE.md", "LICENSE.txt")


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def refresh(spec: str, integrity: str, dest: str, files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        name = subprocess.run(["npm", "pack", "--silent", spec], cwd=tmp, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
        data = (pathlib.Path(tmp) / name).read_bytes()
        if _integrity(data) != integrity:
            sys.exit(f"{spec}: tarball integrity {_integrity(data)} is not the pinned "
                     f"{integrity}: nothing copied")
        out = ROOT / dest
        out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(pathlib.Path(tmp) / name) as tar:
            members = {m.name.removeprefix("package/"): m for m in tar.getmembers()}
            for source, target in files.items():
                (out / target).write_bytes(tar.extractfile(members[source]).read())
            for licence in LICENCES:
                if licence in members:
                    shutil.copyfileobj(tar.extractfile(members[licence]),
                                       (out / licence).open("wb"))
        listed = "\n".join(f"  {s} -> {t}" for s, t in files.items())
        (out / "VERSION.txt").write_text(
            f"{spec} (npm), tarball {_integrity(data)}\n"
            f"fetched with: python vendor/npm_assets.py (make refresh-npm-assets)\n"
            f"files:\n{listed}\n")
        print(f"{spec}: {len(files)} file(s) -> {dest}")


def check() -> int:
    missing = [f"{dest}/{target}" for _, (_, dest, files) in PACKAGES.items()
               for target in files.values() if not (ROOT / dest / target).is_file()]
    for path in missing:
        print(f"missing: {path}")
    return 1 if missing else 0


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(check())
    for spec, (integrity, dest, files) in PACKAGES.items():
        refresh(spec, integrity, dest, files)
