# The private photo bucket, its upload notification, and the bucket for function sources.

data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_storage_bucket" "photos" {
  #checkov:skip=CKV_GCP_62:access is recorded by Data Access audit logs (google_project_iam_audit_config.storage in modules/keluhan), not by usage-log objects in another bucket
  #checkov:skip=CKV_GCP_78:versioning would keep noncurrent originals with the reporter's EXIF past the deletion rule; derivatives are rebuilt from the report
  project                     = var.project_id
  name                        = var.photo.bucket_name
  location                    = var.location
  labels                      = var.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.disposable

  # Originals carry the reporter's EXIF (device, GPS); only the cleaned copies are kept for good.
  dynamic "lifecycle_rule" {
    for_each = var.photo.delete_originals_after_days > 0 ? [var.photo.delete_originals_after_days] : []
    content {
      condition {
        age            = lifecycle_rule.value
        matches_prefix = [var.photo.incoming_prefix, "resolution/"] # proof photos carry EXIF too
      }
      action {
        type = "Delete"
      }
    }
  }

  # Native apps need no CORS; a web client PUTting to a signed URL does.
  dynamic "cors" {
    for_each = length(var.photo.cors_origins) > 0 ? [var.photo.cors_origins] : []
    content {
      origin = cors.value
      method = ["PUT"]
      # The signed PUT binds both headers; a browser's preflight must be allowed to send them.
      response_header = ["Content-Type", "x-goog-content-length-range"]
      max_age_seconds = 3600
    }
  }
}

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:holds only build inputs written by Terraform; Data Access audit logs record reads (modules/keluhan)
  #checkov:skip=CKV_GCP_78:objects are named by content hash and never overwritten, so there is nothing for versioning to keep
  project                     = var.project_id
  name                        = var.source_bucket_name
  location                    = var.location
  labels                      = var.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.disposable
}

# Cloud Storage's service agent publishes the notifications.
resource "google_pubsub_topic_iam_member" "gcs_publisher" {
  topic  = var.notification_topic_id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_notification" "photo_uploaded" {
  bucket             = google_storage_bucket.photos.name
  topic              = var.notification_topic_id
  payload_format     = "JSON_API_V1"
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = var.photo.incoming_prefix
  depends_on         = [google_pubsub_topic_iam_member.gcs_publisher]
}

# SKPD proof photos of a fix (act_on_report's `resolve`) reach verify_photo the same way.
resource "google_storage_notification" "proof_uploaded" {
  bucket             = google_storage_bucket.photos.name
  topic              = var.notification_topic_id
  payload_format     = "JSON_API_V1"
  event_types        = ["OBJECT_FINALIZE"]
  object_name_prefix = "resolution/"
  depends_on         = [google_pubsub_topic_iam_member.gcs_publisher]
}
