"""The images function: runs for every images job the pipeline writes."""

from __future__ import annotations

from chalice.app import Blueprint, S3Event

from chalicelib.config import required
from chalicelib.images import process_images_job

blueprint = Blueprint(__name__)


@blueprint.on_s3_event(
    bucket=required("MEDIA_BUCKET"),
    events=["s3:ObjectCreated:*"],
    prefix="jobs/images/",
    suffix=".json",
    name="images",
)
def images(event: S3Event) -> None:
    # Lambda's context (a stand-in locally) bounds PhotoRoom by the time this invocation has left.
    process_images_job(event.key, getattr(event.context, "get_remaining_time_in_millis", None))
