# The panel's CloudFront distribution: HTTPS, security headers, the SPA fallback, and /api/* sent
# to API Gateway (chalice.tf.json's REST API). Everything else reads it through `local.panel_cdn`.
#
# This file and api.tf are the stack's edge: moto, the emulator `make test` applies the stack to,
# has no CloudFront cache, origin request or response headers policies nor PublishFunction, and
# cannot import chalice's Swagger 2.0 API, so the emulator run covers these two files with a plan
# and stands in for `local.panel_cdn` and `local.api_dimensions` (infra/deploy/emulator.py).

locals {
  panel_cdn = {
    domain_name = aws_cloudfront_distribution.panel.domain_name
    arn         = aws_cloudfront_distribution.panel.arn
    id          = aws_cloudfront_distribution.panel.id
  }
}

# --- response headers ---------------------------------------------------------------------------

locals {
  # Presigned POST forms and GET links name the bucket on S3's global endpoint
  # (https://<bucket>.s3.amazonaws.com/, chalicelib/store/blobs.py); outside us-east-1 a new
  # bucket can answer from its regional name for a while, so both are allowed.
  media_origins = distinct([
    "https://${aws_s3_bucket.media.bucket_domain_name}",
    "https://${aws_s3_bucket.media.bucket_regional_domain_name}",
  ])

  # The header policy for every response of the distribution. Scripts are left to the page's own
  # <meta> policy (web/svelte.config.js, kit.csp mode "hash"): SvelteKit boots from one inline
  # script whose hash changes with every build, and a browser enforces every policy it gets, so a
  # header `script-src 'self'` (or a `default-src` it would fall back to) would block that script
  # and leave a blank page. The meta policy holds default-src 'self' and script-src 'self' plus the
  # boot script's hash; this header adds what a <meta> policy cannot (frame-ancestors) and narrows
  # connections and images to the panel itself and the media bucket.
  # style-src allows 'unsafe-inline' because Svelte writes style attributes (style: directives,
  # transitions) and app.html has one; CSP hashes cannot cover style attributes.
  panel_csp_directives = {
    "connect-src"     = concat(["'self'"], local.media_origins)
    "img-src"         = concat(["'self'", "data:", "blob:"], local.media_origins)
    "style-src"       = ["'self'", "'unsafe-inline'"]
    "font-src"        = ["'self'"]
    "object-src"      = ["'none'"]
    "base-uri"        = ["'self'"]
    "form-action"     = ["'self'"]
    "frame-ancestors" = ["'none'"]
  }
  panel_csp = join("; ", [for name, sources in local.panel_csp_directives : "${name} ${join(" ", sources)}"])
}

resource "aws_cloudfront_response_headers_policy" "panel" {
  name    = "${local.name_prefix}-panel-security"
  comment = "IntelliPost ${var.stage}: HSTS, CSP, no framing, no sniffing"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000 # one year
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_security_policy {
      content_security_policy = local.panel_csp
      override                = true
    }

    # frame-ancestors 'none' above; X-Frame-Options for browsers that predate it.
    frame_options {
      frame_option = "DENY"
      override     = true
    }

    content_type_options {
      override = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

# --- distribution -------------------------------------------------------------------------------

# CloudFront's managed policies, by the ids AWS documents for every account ("Use managed cache
# policies", "Use managed origin request policies" in the CloudFront developer guide): constants, so
# planning needs no CloudFront call.
locals {
  managed_cache_policy = {
    caching_optimized = "658327ea-f89d-4fab-a63d-7e88639e58f6" # Managed-CachingOptimized
    caching_disabled  = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # Managed-CachingDisabled
  }
  # Every viewer header (Authorization included, allowed because nothing is cached), query string and
  # cookie, except Host: API Gateway answers 403 to a Host that is not its own.
  all_viewer_except_host_policy = "b689b0a8-53d0-40ab-baf2-68738e2966ac" # Managed-AllViewerExceptHostHeader
}

# Single-page app fallback: a panel route (a path whose last segment has no file extension, e.g.
# /products/123) is answered with index.html and 200, and the client-side router takes over. Done
# here rather than with custom_error_response (403/404 -> /index.html), because error responses
# apply to the whole distribution and would turn the API's JSON 403/404 under /api/* into the panel
# page. A missing file with an extension still answers 403 from the bucket.
resource "aws_cloudfront_function" "panel_routes" {
  name    = "${local.name_prefix}-panel-routes"
  runtime = "cloudfront-js-1.0"
  comment = "Panel routes to /index.html (SPA fallback)"
  publish = true
  code    = <<-EOT
    function handler(event) {
      var request = event.request;
      var last = request.uri.split('/').pop();
      if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
      }
      return request;
    }
  EOT
}

locals {
  panel_origin_id = "panel-bucket"
  api_origin_id   = "api"
}

resource "aws_cloudfront_distribution" "panel" {
  #checkov:skip=CKV_AWS_174:On the default *.cloudfront.net certificate AWS fixes the minimum TLS version; with panel_origin and its ACM certificate it is TLSv1.2_2021.
  #checkov:skip=CKV2_AWS_42:The default *.cloudfront.net certificate unless panel_origin names a custom domain, which then needs panel_certificate_arn.
  enabled             = true
  comment             = "IntelliPost ${var.stage} panel"
  is_ipv6_enabled     = true
  price_class         = "PriceClass_100"
  default_root_object = "index.html"
  aliases             = var.panel_origin == "" ? [] : [trimprefix(var.panel_origin, "https://")]

  origin {
    origin_id                = local.panel_origin_id
    domain_name              = aws_s3_bucket.panel.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.panel.id
  }

  # The REST API from chalice.tf.json; its stage name is the path prefix API Gateway expects.
  origin {
    origin_id   = local.api_origin_id
    domain_name = "${aws_api_gateway_rest_api.rest_api.id}.execute-api.${var.region}.amazonaws.com"
    origin_path = "/${aws_api_gateway_deployment.rest_api.stage_name}"

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = local.panel_origin_id
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "redirect-to-https"
    compress                   = true
    cache_policy_id            = local.managed_cache_policy.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.panel.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.panel_routes.arn
    }
  }

  # The API: never cached, every method, HTTPS only (a redirect would turn a POST into a GET). No
  # headers policy: the API sets its own on every answer (chalicelib/http.py: CSP default-src
  # 'none', HSTS, nosniff, no-store), stricter for JSON than the panel's.
  ordered_cache_behavior {
    path_pattern             = "/api/*"
    target_origin_id         = local.api_origin_id
    allowed_methods          = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods           = ["GET", "HEAD"]
    viewer_protocol_policy   = "https-only"
    compress                 = true
    cache_policy_id          = local.managed_cache_policy.caching_disabled
    origin_request_policy_id = local.all_viewer_except_host_policy
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.panel_origin == ""
    acm_certificate_arn            = var.panel_origin == "" ? null : var.panel_certificate_arn
    ssl_support_method             = var.panel_origin == "" ? null : "sni-only"
    minimum_protocol_version       = var.panel_origin == "" ? "TLSv1" : "TLSv1.2_2021"
  }

  lifecycle {
    precondition {
      condition     = var.panel_origin == "" || var.panel_certificate_arn != ""
      error_message = "panel_origin needs panel_certificate_arn: an ACM certificate in us-east-1 for its host."
    }
  }
}
