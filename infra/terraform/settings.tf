# The settings Terraform knows, as SSM parameters the functions read: chalicelib/config.py declares
# them (Source.TERRAFORM) and .chalice/config.json names each as NAME_PARAMETER. Secrets are not
# here: the operator puts them as SecureString parameters (README: Secrets), so no secret value ever
# passes through Terraform's state.

variable "mercadolibre_client_id" {
  description = "The MercadoLibre app's id (developers.mercadolibre.com: the App ID of your app)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.mercadolibre_client_id))
    error_message = "A MercadoLibre app id is a number, e.g. 1234567890123456."
  }
}

locals {
  # The callback route (functions/api/marketplace.py) on the panel's origin, which CloudFront sends
  # to the API: it must match, character for character, the redirect URI registered with the app.
  mercadolibre_redirect_uri = "${local.panel_origin}/api/v1/ml/callback"

  settings = {
    "mercadolibre-client-id"    = { value = var.mercadolibre_client_id, about = "MERCADOLIBRE_CLIENT_ID" }
    "mercadolibre-redirect-uri" = { value = local.mercadolibre_redirect_uri, about = "MERCADOLIBRE_REDIRECT_URI" }
    "panel-url"                 = { value = local.panel_origin, about = "PANEL_URL" }
  }
}

resource "aws_ssm_parameter" "settings" {
  #checkov:skip=CKV2_AWS_34:Not secrets (an app id and two public URLs): plain String parameters; every secret is a SecureString the operator puts.
  for_each = local.settings

  name        = "/intellipost/${var.stage}/${each.key}"
  description = "IntelliPost ${var.stage}: ${each.value.about} (chalicelib/config.py)"
  type        = "String"
  value       = each.value.value
}
