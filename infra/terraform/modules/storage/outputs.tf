output "photo_bucket" {
  description = "Name of the private photo bucket (KELUHAN_PHOTO_BUCKET)."
  value       = google_storage_bucket.photos.name
}

output "source_bucket" {
  description = "Name of the bucket holding the function sources."
  value       = google_storage_bucket.sources.name
}

output "photo_bucket_id" {
  description = "Id of the photo bucket resource; unknown in a plan that replaces it."
  value       = google_storage_bucket.photos.id
}
