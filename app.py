"""The IntelliPost Chalice app: blueprints and middleware, nothing else."""

from chalice.app import Chalice

from chalicelib.api.http import http_middleware
from chalicelib.observability import event_middleware
from functions import api, content, failures, images, ingest, publish

app = Chalice(app_name="intellipost")
app.register_middleware(http_middleware, "http")
app.register_middleware(event_middleware, "s3")
app.register_middleware(event_middleware, "scheduled")
app.register_middleware(event_middleware, "sqs")
app.register_blueprint(api.blueprint, url_prefix=api.PREFIX)
# The steps in the pipeline's order: the local event runtime gives a free worker to the latest one.
app.register_blueprint(ingest.blueprint)
app.register_blueprint(images.blueprint)
app.register_blueprint(content.blueprint)
app.register_blueprint(publish.blueprint)
app.register_blueprint(failures.blueprint)
