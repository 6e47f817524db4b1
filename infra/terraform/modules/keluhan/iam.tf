# Least privilege: each function's account gets what its stage touches, nothing more.

resource "google_project_iam_member" "firestore" {
  for_each = local.functions
  project  = var.project.id
  role     = "roles/datastore.user"
  member   = google_service_account.function[each.key].member
}

resource "google_project_iam_member" "log_writer" {
  for_each = local.functions
  project  = var.project.id
  role     = "roles/logging.logWriter"
  member   = google_service_account.function[each.key].member
}

# Each function publishes only the events its stage emits (topology `publishes`).
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publishers
  project  = var.project.id
  topic    = module.pubsub.topic_ids[each.value.topic]
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function[each.value.function].member
}

resource "google_storage_bucket_iam_member" "photos" {
  for_each = local.bucket_users
  bucket   = module.storage.photo_bucket
  role     = each.value
  member   = google_service_account.function[each.key].member
}

# In production upload URLs are signed through IAM signBlob by the runtime account itself.
resource "google_service_account_iam_member" "submit_report_signs_urls" {
  service_account_id = google_service_account.function["submit_report"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function["submit_report"].member
}

resource "google_secret_manager_secret_iam_member" "forward_targets" {
  for_each  = local.secret_environment
  project   = var.project.id
  secret_id = google_secret_manager_secret.forward_targets.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}

# A dedicated build account: new projects no longer give Cloud Build a default one that works.
resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
    "roles/storage.objectViewer",
  ])
  project = var.project.id
  role    = each.value
  member  = google_service_account.build.member
}
