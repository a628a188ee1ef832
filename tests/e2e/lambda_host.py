"""One function of a deployed stage, run the way Lambda runs it, for the stage walk.

    python -S tests/e2e/lambda_host.py <handler> <function name> <timeout s> <memory MB>

Started with `-S` (no site-packages) and PYTHONPATH = the unzipped deployment package (and layers):
only the standard library and what `make package` shipped can be imported, as in Lambda. Its
environment is the function's, read back from the emulator's Lambda. It answers one JSON request per
line on stdin, on stdout after the marker "@@RESULT " (everything else on stdout is the function's
own logging):

- {"event": {...}}: an S3 event, handed to the handler with a context like Lambda's;
- {"http": {"method", "path", "query", "headers", "body"}}: API Gateway's proxy event for the
  route that matches `path` (routes as `app.routes` declares them), handed to the Chalice app.

Only the standard library here: nothing but the package may be imported, which is why the context
is written out again rather than taken from infra/local/runtime.py.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import time
import traceback
import uuid
from typing import Any

MARKER = "@@RESULT "


class Context:
    """What Lambda hands a handler (the parts Chalice, Powertools and the images step read)."""

    def __init__(self, name: str, timeout_seconds: int, memory_mb: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}:live"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "walk"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(app: Any, stage: str, request: dict[str, Any]) -> dict[str, Any]:
    """API Gateway's REST proxy event for a request to `path` under the app's routes."""
    path = request["path"]
    for template in sorted(app.routes, key=lambda t: t.count("{")):  # literal segments first, as API Gateway
        segments = [
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in template.split("/")
        ]
        match = re.fullmatch("/".join(segments), path)
        if match and request["method"] in app.routes[template]:
            break
    else:
        return {}
    headers = {k: v for k, v in (request.get("headers") or {}).items()}
    query = request.get("query") or None
    return {
        "resource": template,
        "path": path,
        "httpMethod": request["method"],
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": match.groupdict() or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": template,
            "httpMethod": request["method"],
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "stage-walk"},
        },
        "body": request.get("body"),
        "isBase64Encoded": False,
    }


def main(handler_path: str, name: str, timeout: str, memory: str) -> None:
    module, attribute = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module), attribute)
    print(MARKER + json.dumps({"ready": True, "python_path": sys.path}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        context = Context(name, int(timeout), int(memory))
        try:
            if "http" in request:
                event = proxy_event(handler, request["stage"], request["http"])
                if not event:
                    result = {
                        "status": 404,
                        "headers": {},
                        "body": '{"message": "Missing Authentication Token"}',
                    }
                else:
                    answer = handler(event, context)
                    result = {
                        "status": answer["statusCode"],
                        "headers": answer["headers"],
                        "body": answer["body"],
                    }
            else:
                handler(request["event"], context)
                result = {"ok": True}
        except Exception:  # the function failed, as Lambda would report it
            result = {"error": traceback.format_exc()}
        print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
