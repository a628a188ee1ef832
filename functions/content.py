"""The content function: runs for every content job the images step writes."""

from __future__ import annotations

from chalice.app import Blueprint, S3Event

from chalicelib.config import required
from chalicelib.content import process_content_job

blueprint = Blueprint(__name__)


@blueprint.on_s3_event(
    bucket=required("MEDIA_BUCKET"),
    events=["s3:ObjectCreated:*"],
    prefix="jobs/content/",
    suffix=".json",
    name="content",
)
def content(event: S3Event) -> None:
    process_content_job(event.key)
