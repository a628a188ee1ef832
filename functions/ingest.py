"""The ingest function: runs for every object created under uploads/."""

from __future__ import annotations

from chalice.app import Blueprint, S3Event

from chalicelib.config import required
from chalicelib.domain.keys import UPLOADS_PREFIX
from chalicelib.ingest import receive_upload

blueprint = Blueprint(__name__)


@blueprint.on_s3_event(
    bucket=required("MEDIA_BUCKET"),
    events=["s3:ObjectCreated:*"],
    prefix=UPLOADS_PREFIX,
    name="ingest",
)
def ingest(event: S3Event) -> None:
    receive_upload(event.key)
