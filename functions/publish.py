"""The publish function: runs for every publish job an approval writes."""

from __future__ import annotations

from chalice.app import Blueprint, S3Event

from chalicelib.config import required
from chalicelib.publish import process_publish_job

blueprint = Blueprint(__name__)


@blueprint.on_s3_event(
    bucket=required("MEDIA_BUCKET"),
    events=["s3:ObjectCreated:*"],
    prefix="jobs/publish/",
    suffix=".json",
    name="publish",
)
def publish(event: S3Event) -> None:
    process_publish_job(event.key)
