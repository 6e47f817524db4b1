output "submit_report_url" {
  description = "Where the apps POST a report."
  value       = module.keluhan.submit_report_url
}

output "get_report_url" {
  description = "Where the apps GET a report's status and timeline."
  value       = module.keluhan.get_report_url
}

output "list_my_reports_url" {
  description = "Where the apps GET the signed-in reporter's own reports."
  value       = module.keluhan.list_my_reports_url
}

output "nearby_reports_url" {
  description = "Where the apps GET open public reports near a point."
  value       = module.keluhan.nearby_reports_url
}

output "open311_url" {
  description = "The public Open311 GeoReport v2 endpoint (services.json, requests.json, …); it also takes posts with an api_key."
  value       = module.keluhan.open311_url
}

output "open311_intake_url" {
  description = "The Open311 endpoint for intake channels (POST requests.json with an api_key, services.json), on instances public reads cannot take."
  value       = module.keluhan.open311_intake_url
}

output "function_urls" {
  description = "HTTPS URL of every function, by folder name."
  value       = module.keluhan.function_urls
}

output "photo_bucket" {
  description = "Name of the private photo bucket."
  value       = module.keluhan.photo_bucket
}

output "topics" {
  description = "Topic ids by name, dead-letter topics included."
  value       = module.keluhan.topics
}

output "subscriptions" {
  description = "Names of the push subscriptions."
  value       = module.keluhan.subscriptions
}

output "forward_targets_secret" {
  description = "Secret to which ops add the KELUHAN_FORWARD_TARGETS JSON (receiver URLs and tokens)."
  value       = module.keluhan.forward_targets_secret
}

output "public_urls" {
  description = "Where clients call each public HTTP function: its API Gateway, or the function itself."
  value       = module.keluhan.public_urls
}
