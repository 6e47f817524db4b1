output "function_urls" {
  description = "HTTPS URL of every function, by folder name."
  value       = { for name, fn in module.function : name => fn.url }
}

output "submit_report_url" {
  description = "Where the apps POST a report."
  value       = module.function["submit_report"].url
}

output "get_report_url" {
  description = "Where the apps GET a report's status and timeline."
  value       = module.function["get_report"].url
}

output "open311_url" {
  description = "The public Open311 GeoReport v2 endpoint (services.json, requests.json, …); it also takes posts with an api_key."
  value       = module.function["open311"].url
}

output "open311_intake_url" {
  description = "The Open311 endpoint for intake channels (POST requests.json with an api_key, services.json), on instances public reads cannot take."
  value       = module.function["open311_intake"].url
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
