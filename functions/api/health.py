from chalice.app import Response

from chalicelib.api.edge import answer
from chalicelib.api.schemas import DetailedHealthOut, HealthOut
from chalicelib.config import get_settings
from chalicelib.store.health import detailed_health
from functions.api import route


@route("/health", "GET", "Is the API up (touches nothing)", auth=False, response=HealthOut)
def health() -> HealthOut:
    return HealthOut(status="ok", stage=get_settings().stage)


@route(
    "/health/detailed",
    "GET",
    "Every table and bucket reachable; providers named",
    auth=False,
    response=DetailedHealthOut,
    errors=(503,),
)
def health_detailed() -> Response:
    report = DetailedHealthOut(**detailed_health())
    return answer(report, 200 if report.status == "ok" else 503)


@route("/openapi.json", "GET", "This API's OpenAPI document", auth=False)
def openapi() -> Response:
    return Response(body=route.openapi(), status_code=200)
