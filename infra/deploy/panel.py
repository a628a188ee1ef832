"""The panel in AWS: build `web/`, upload `web/build` to the panel bucket, invalidate `index.html`.

The order keeps the panel whole at every moment a browser may load it:

1. hashed assets under `_app/immutable/` first (a year of caching: a name never changes content;
   those already in the bucket stay as they are), then the other files, `index.html` last, so no
   page is served that names an asset not there yet;
2. only then are files the new build no longer has deleted;
3. then CloudFront forgets `/index.html` and `/` (everything else that is not immutable is sent
   with `Cache-Control: no-cache`, so browsers revalidate it).

The bucket is versioned (panel.tf): `restore` puts back the versions this upload replaced or
deleted and removes the files it added, which is how a failed deploy brings the old panel back.
"""

from __future__ import annotations

import mimetypes
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.environment import ROOT

WEB_DIR = ROOT / "web"
IMMUTABLE_PREFIX = "_app/immutable/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ENTRY = "index.html"
INVALIDATED = ("/index.html", "/")
NODE_MIN = (20, 19)

# What browsers need to hear, whatever the machine's mime.types says (some map .js to
# application/javascript, none know .webmanifest).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}

Run = Callable[..., subprocess.CompletedProcess[str]]


class PanelError(RuntimeError):
    def __init__(self, message: str, upload: PanelUpload | None = None) -> None:
        super().__init__(message)
        self.upload = upload  # what had changed when it failed, for `restore_panel`


# --- building -----------------------------------------------------------------------------------


def node_problem(run: Run = subprocess.run) -> str:
    """Why this machine cannot build the panel, in words; empty when it can."""
    advice = (
        "install Node.js 20.19 or newer (Debian 13+ / Ubuntu 25.04+: apt-get install nodejs npm; "
        "older releases ship Node 18: nodesource or nvm install 22)"
    )
    try:
        result = run(["node", "--version"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return f"Node.js: `node` is not on PATH; {advice}"
    match = re.match(r"v(\d+)\.(\d+)", (result.stdout or "").strip())
    if result.returncode != 0 or not match:
        return f"Node.js: `node --version` did not answer a version; {advice}"
    if (int(match[1]), int(match[2])) < NODE_MIN:
        return f"Node.js: the panel needs 20.19 or newer, found {result.stdout.strip()}; {advice}"
    return ""


def build_panel(web_dir: Path = WEB_DIR, run: Run = subprocess.run) -> Path:
    """`npm ci && npm run build` in web/; returns the folder to upload."""
    problem = node_problem(run)
    if problem:
        raise PanelError(problem)
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
        try:
            result = run(command, cwd=web_dir, text=True, check=False)
        except FileNotFoundError:
            raise PanelError("npm is not on PATH: it comes with Node.js (apt-get install npm)") from None
        if result.returncode != 0:
            raise PanelError(f"`{' '.join(command)}` in {web_dir} failed with exit code {result.returncode}")
    build = web_dir / "build"
    if not (build / ENTRY).is_file():
        raise PanelError(f"the panel build wrote no {build / ENTRY}")
    return build


# --- uploading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFile:
    key: str
    path: Path
    content_type: str
    cache_control: str


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def upload_order(build_dir: Path) -> list[PanelFile]:
    """Every file of the build: immutable assets, then the rest, HTML after it, index.html last."""
    files = []
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        key = path.relative_to(build_dir).as_posix()
        cache = IMMUTABLE if key.startswith(IMMUTABLE_PREFIX) else REVALIDATE
        files.append(PanelFile(key, path, content_type(key), cache))

    def rank(item: PanelFile) -> tuple[int, str]:
        if item.cache_control == IMMUTABLE:
            return 0, item.key
        if item.key == ENTRY:
            return 3, item.key
        return (2 if item.key.endswith(".html") else 1), item.key

    if not any(item.key == ENTRY for item in files):
        raise PanelError(f"{build_dir} has no {ENTRY}: build the panel first")
    return sorted(files, key=rank)


@dataclass
class PanelUpload:
    bucket: str
    uploaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # immutable files the bucket already had
    deleted: list[str] = field(default_factory=list)
    # For `restore`: the version each replaced or deleted key had, and the keys that are new.
    previous: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)


def current_versions(s3: Any, bucket: str) -> dict[str, str]:
    """Key -> version id of every object the bucket serves now (delete markers excluded)."""
    versions: dict[str, str] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            if version["IsLatest"]:
                versions[version["Key"]] = version["VersionId"]
    return versions


def upload_panel(s3: Any, bucket: str, build_dir: Path) -> PanelUpload:
    """Upload `build_dir` in the order above, then delete what the build no longer has."""
    files = upload_order(build_dir)
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        raise PanelError(
            f"bucket {bucket} is not versioned (panel.tf versions it): a failed deploy could not "
            "bring the previous panel back"
        )
    before = current_versions(s3, bucket)
    upload = PanelUpload(bucket)
    try:
        _put_files(s3, bucket, files, before, upload)
        _delete_stale(s3, bucket, sorted(set(before) - {item.key for item in files}), before, upload)
    except PanelError as error:
        error.upload = upload
        raise
    except Exception as error:
        raise PanelError(
            f"uploading the panel to {bucket} failed ({type(error).__name__}: {error})", upload
        ) from error
    return upload


def _put_files(
    s3: Any, bucket: str, files: list[PanelFile], before: dict[str, str], upload: PanelUpload
) -> None:
    for item in files:
        if item.cache_control == IMMUTABLE and item.key in before:
            upload.kept.append(item.key)  # a hashed name: same name, same content
            continue
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.path.read_bytes(),
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )
        if item.key in before:
            upload.previous[item.key] = before[item.key]
        else:
            upload.added.append(item.key)
        upload.uploaded.append(item.key)


def _delete_stale(
    s3: Any, bucket: str, stale: list[str], before: dict[str, str], upload: PanelUpload
) -> None:
    for start in range(0, len(stale), 1000):  # DeleteObjects takes 1000 keys at a time
        batch = stale[start : start + 1000]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch]})
        failed = {error["Key"]: error.get("Code", "?") for error in answer.get("Errors", [])}
        for key in batch:
            if key not in failed:
                upload.previous[key] = before[key]
                upload.deleted.append(key)
        if failed:
            key, code = next(iter(failed.items()))
            raise PanelError(f"deleting {key} from {bucket} failed: {code}")


def restore_panel(s3: Any, upload: PanelUpload) -> list[str]:
    """The panel as it was before `upload`: its versions back (index.html last), new files gone."""
    lines = []
    for key in sorted(upload.previous, key=lambda key: (key == ENTRY, key)):
        s3.copy_object(
            Bucket=upload.bucket,
            Key=key,
            CopySource={"Bucket": upload.bucket, "Key": key, "VersionId": upload.previous[key]},
            MetadataDirective="COPY",
        )
    if upload.previous:
        lines.append(f"panel: {len(upload.previous)} files back to the versions they had")
    for start in range(0, len(upload.added), 1000):
        batch = upload.added[start : start + 1000]
        s3.delete_objects(Bucket=upload.bucket, Delete={"Objects": [{"Key": key} for key in batch]})
    if upload.added:
        lines.append(f"panel: {len(upload.added)} files this deploy added removed")
    return lines or ["panel: nothing had changed"]


def invalidate(cloudfront: Any, distribution_id: str, reference: str) -> str:
    """CloudFront forgets the entry page; returns the invalidation id."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATED), "Items": list(INVALIDATED)},
            "CallerReference": reference,
        },
    )
    return str(answer["Invalidation"]["Id"])


class PanelSite:
    """The deploy's panel step: upload a built panel to the stage's bucket and distribution."""

    def __init__(self, s3: Any, cloudfront: Any, build_dir: Path) -> None:
        self.s3 = s3
        self.cloudfront = cloudfront
        self.build_dir = build_dir

    def publish(self, bucket: str, distribution_id: str, reference: str) -> tuple[PanelUpload, str]:
        upload = upload_panel(self.s3, bucket, self.build_dir)
        return upload, invalidate(self.cloudfront, distribution_id, reference)

    def restore(self, upload: PanelUpload, distribution_id: str, reference: str) -> list[str]:
        lines = restore_panel(self.s3, upload)
        invalidate(self.cloudfront, distribution_id, f"{reference}-rollback")
        return lines
