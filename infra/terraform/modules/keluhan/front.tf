# How the public HTTP functions are reached (variable public_front).
#
# all_users: `allUsers` may invoke each one (the functions check Firebase ID tokens, channel
# credentials and Open311 keys themselves). An organisation with Domain Restricted Sharing
# (constraints/iam.allowedPolicyMemberDomains) refuses that grant.
#
# api_gateway: one API Gateway per public function, invoking it with the ID token of the gateway
# account, the only invoker it has; the caller's token reaches the function as
# X-Forwarded-Authorization (KELUHAN_FORWARDED_AUTHORIZATION). Every function keeps its own
# checks; nothing is public at the IAM level.

locals {
  api_gateway    = var.public_front.kind == "api_gateway"
  http_functions = { for name, fn in local.functions : name => fn if fn.trigger == "http" }
  fronted        = local.api_gateway ? local.http_functions : {}
  # run.invoker on each public function's Cloud Run service (gen2 functions are invoked through it).
  http_invokers = local.api_gateway ? { for account in google_service_account.gateway : "api_gateway" => account.member } : { public = "allUsers" }
  # Where clients call each public function: its gateway, else the function itself.
  public_urls = merge(
    { for name, fn in local.http_functions : name => module.function[name].url },
    { for name, gateway in google_api_gateway_gateway.front : name => "https://${gateway.default_hostname}" },
  )
}

resource "google_service_account" "gateway" {
  count        = local.api_gateway ? 1 : 0
  project      = var.project.id
  account_id   = "keluhan-api-gateway"
  display_name = "Keluhan API Gateway (invokes the public HTTP functions)"
  depends_on   = [google_project_service.api]
}

module "gateway_openapi" {
  source = "../gateway_openapi"
  backends = {
    for name, fn in local.fronted : name => { address = module.function[name].uri, deadline_s = fn.timeout_s }
  }
}

resource "google_api_gateway_api" "front" {
  provider     = google-beta
  for_each     = local.fronted
  project      = local.project_id
  api_id       = "keluhan-${replace(each.key, "_", "-")}"
  display_name = "Keluhan ${each.key}"
  labels       = local.labels
}

# A config cannot be changed, only replaced: a new one (new id from the prefix) before the old goes.
resource "google_api_gateway_api_config" "front" {
  provider             = google-beta
  for_each             = local.fronted
  project              = local.project_id
  api                  = google_api_gateway_api.front[each.key].api_id
  api_config_id_prefix = "${replace(each.key, "_", "-")}-"
  labels               = local.labels

  openapi_documents {
    document {
      path     = "${each.key}.json"
      contents = base64encode(module.gateway_openapi.documents[each.key])
    }
  }

  gateway_config {
    backend_config {
      google_service_account = google_service_account.gateway[0].email
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "front" {
  provider     = google-beta
  for_each     = local.fronted
  project      = local.project_id
  region       = var.public_front.region
  gateway_id   = "keluhan-${replace(each.key, "_", "-")}"
  display_name = "Keluhan ${each.key}"
  api_config   = google_api_gateway_api_config.front[each.key].id
  labels       = local.labels
}

# An API's managed service is a service of the project like any other: on, so that the gateway's
# calls are served and reported (https://cloud.google.com/api-gateway/docs/secure-traffic-gcloud).
resource "google_project_service" "front" {
  for_each           = google_api_gateway_api.front
  project            = local.project_id
  service            = each.value.managed_service
  disable_on_destroy = false
}
