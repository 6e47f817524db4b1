output "function_urls" {
  description = "HTTPS URL of every function itself, by folder name (behind API Gateway only the gateway may call the public ones: see public_urls)."
  value       = { for name, fn in module.function : name => fn.url }
}

output "submit_report_url" {
  description = "Where the apps POST a report."
  value       = local.public_urls["submit_report"]
}

output "get_report_url" {
  description = "Where the apps GET a report's status and timeline."
  value       = local.public_urls["get_report"]
}

output "list_my_reports_url" {
  description = "Where the apps GET the signed-in reporter's own reports."
  value       = local.public_urls["list_my_reports"]
}

output "nearby_reports_url" {
  description = "Where the apps GET open public reports near a point."
  value       = local.public_urls["nearby_reports"]
}

output "open311_url" {
  description = "The public Open311 GeoReport v2 endpoint (services.json, requests.json, …); it also takes posts with an api_key."
  value       = local.public_urls["open311"]
}

output "open311_intake_url" {
  description = "The Open311 endpoint for intake channels (POST requests.json with an api_key, services.json), on instances public reads cannot take."
  value       = local.public_urls["open311_intake"]
}

output "photo_bucket" {
  description = "Name of the private photo bucket."
  value       = module.storage.photo_bucket
}

output "source_bucket" {
  description = "Name of the bucket holding the function sources."
  value       = module.storage.source_bucket
}

output "topics" {
  description = "Topic ids by name, dead-letter topics included."
  value       = module.pubsub.topic_ids
}

output "subscriptions" {
  description = "Names of the push subscriptions (`<function>--<topic>`)."
  value       = module.pubsub.subscription_names
}

output "forward_targets_secret" {
  description = "Secret Manager secret holding KELUHAN_FORWARD_TARGETS (receiver URLs and tokens)."
  value       = google_secret_manager_secret.forward_targets.id
}

output "service_accounts" {
  description = "Runtime service account email of every function, by folder name."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "public_urls" {
  description = "Where clients call each public HTTP function: its API Gateway (public_front.kind = api_gateway) or the function itself."
  value       = local.public_urls
}
