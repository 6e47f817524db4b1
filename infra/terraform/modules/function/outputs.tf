output "name" {
  description = "Deployed function id (the folder name with hyphens)."
  value       = google_cloudfunctions2_function.this.name
}

output "url" {
  description = "HTTPS URL of the function."
  value       = google_cloudfunctions2_function.this.url
}

output "uri" {
  description = "run.app URI of the function's Cloud Run service: the Pub/Sub push endpoint and OIDC audience."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}
