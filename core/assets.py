"""Front-end files fetched from the npm registry at set-up (never committed, never from a CDN).

htmx is pinned to one 2.x release and checked against the registry's published SHA-512
integrity before it is unpacked into ``core/static/vendor/``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"


@dataclass(frozen=True)
class Asset:
    name: str
    tarball: str
    integrity: str  # the npm "dist.integrity" (sha512, base64)
    member: str  # the file inside the tarball
    target: str  # the file name under static/vendor/


HTMX = Asset(
    name="htmx.org@2.0.11",
    tarball="https://registry.npmjs.org/htmx.org/-/htmx.org-2.0.11.tgz",
    integrity="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
    member="package/dist/htmx.min.js",
    target="htmx.min.js",
)
ASSETS = (HTMX,)


def missing() -> list[Asset]:
    return [a for a in ASSETS if not (VENDOR / a.target).exists()]


def fetch(asset: Asset, timeout: float = 60) -> Path:
    """Download ``asset``, check its integrity, and unpack the one file the app serves."""
    with urllib.request.urlopen(asset.tarball, timeout=timeout) as response:  # noqa: S310 - fixed https URL
        data = response.read()
    algorithm, expected = asset.integrity.split("-", 1)
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{asset.name}: integrity check failed (got {algorithm}-{digest})")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(asset.member)
        if member is None:
            raise RuntimeError(f"{asset.name}: {asset.member} is not in the package")
        content = member.read()
    VENDOR.mkdir(parents=True, exist_ok=True)
    target = VENDOR / asset.target
    target.write_bytes(content)
    return target
