# Part of the stack's edge with cdn.tf (see there: covered by a plan in the emulator run).
#
# Throttling for the REST API that chalice.tf.json creates (aws_api_gateway_rest_api.rest_api, its
# stage made by aws_api_gateway_deployment.rest_api with `api_gateway_stage` from
# .chalice/config.json). API Gateway answers 429 past these rates before the function runs, per
# stage, for all callers together; the per-seller limits live in the app (rate_limits table).
#
# API Gateway is HTTPS only, and so is every path to it through CloudFront (panel.tf). Request
# bodies: API Gateway refuses more than 10 MB and the app refuses JSON bodies above 64 KB; photos
# never come this way, they go straight to S3 through presigned POST forms whose policy caps each
# file (content-length-range, chalicelib/store/blobs.py).

locals {
  # The API's stage-wide metrics, for the alarms (alarms.tf). REST APIs report by name, and chalice
  # names the API after the app in every stage: keep dev and prod in separate accounts or these
  # alarms see both.
  api_dimensions = {
    ApiName = aws_api_gateway_rest_api.rest_api.name
    Stage   = aws_api_gateway_deployment.rest_api.stage_name
  }

  # Requests per second (steady) and burst for the whole stage.
  api_throttle = { rate = 10, burst = 20 }

  # Creating a product or adding photos costs the pipeline work (and AI money) later, so these two
  # routes get less. Paths as in functions/api/products.py under the /api/v1 prefix.
  api_route_throttles = {
    create_product = { method = "POST", path = "/api/v1/products", rate = 2, burst = 5 }
    add_images     = { method = "POST", path = "/api/v1/products/{product_id}/images", rate = 2, burst = 5 }
  }
}

resource "aws_api_gateway_method_settings" "all" {
  rest_api_id = aws_api_gateway_rest_api.rest_api.id
  stage_name  = aws_api_gateway_deployment.rest_api.stage_name
  method_path = "*/*"

  settings {
    # Detailed (per-method) metrics cost a custom metric each; the stage-wide metrics the alarms use
    # (alarms.tf) come without them.
    metrics_enabled        = false
    throttling_rate_limit  = local.api_throttle.rate
    throttling_burst_limit = local.api_throttle.burst
  }
}

resource "aws_api_gateway_method_settings" "route" {
  for_each = local.api_route_throttles

  rest_api_id = aws_api_gateway_rest_api.rest_api.id
  stage_name  = aws_api_gateway_deployment.rest_api.stage_name
  # A method override is "<resource path with every / as ~1>/<METHOD>".
  method_path = "${replace(each.value.path, "/", "~1")}/${each.value.method}"

  settings {
    metrics_enabled        = false
    throttling_rate_limit  = each.value.rate
    throttling_burst_limit = each.value.burst
  }

  # A method's own settings override the stage-wide ones; written after them. (The provider retries
  # API Gateway's ConflictException when these update the one stage at the same time.)
  depends_on = [aws_api_gateway_method_settings.all]
}
