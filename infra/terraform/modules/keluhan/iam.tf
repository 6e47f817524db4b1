# Least privilege: each function's account gets what its stage touches, nothing more.

# Who read or wrote which photo is in Cloud Logging (Data Access audit logs of Cloud Storage).
resource "google_project_iam_audit_config" "storage" {
  project = local.project_id
  service = "storage.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

# Firestore: read-only for a function that only queries (topology `firestore`), else read-write.
locals {
  firestore_roles = {
    read  = "roles/datastore.viewer"
    write = "roles/datastore.user"
  }
}

resource "google_project_iam_member" "firestore" {
  for_each = local.functions
  project  = var.project.id
  role     = local.firestore_roles[each.value.firestore]
  member   = google_service_account.function[each.key].member
}

# ID tokens are verified with check_revoked=True: firebase_admin looks the user up in Firebase Auth
# (identitytoolkit accounts:lookup, firebaseauth.users.get) on every signed-in request.
resource "google_project_iam_member" "reads_users" {
  for_each = { for name, fn in local.functions : name => fn if fn.reads_users }
  project  = local.project_id
  role     = "roles/firebaseauth.viewer"
  member   = google_service_account.function[each.key].member
}

# Push notifications through Firebase Cloud Messaging HTTP v1 (messages:send). `try`: only the
# functions that push name the attribute.
resource "google_project_iam_member" "sends_push" {
  for_each = { for name, fn in local.functions : name => fn if try(fn.sends_push, false) }
  project  = local.project_id
  role     = "roles/firebasecloudmessaging.admin"
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

# Photo access is scoped to the prefix the code touches (topology `photo_access`): an IAM
# condition on the object name, so no function reads originals it has no business with.
resource "google_storage_bucket_iam_member" "photos" {
  for_each = local.photo_grants
  bucket   = module.storage.photo_bucket
  role     = local.photo_roles[each.value.mode]
  member   = google_service_account.function[each.value.function].member
  condition {
    title       = "${each.value.function} ${each.value.mode} ${each.value.prefix}"
    description = "Only objects under ${each.value.prefix}"
    expression  = "resource.name.startsWith(\"projects/_/buckets/${module.storage.photo_bucket}/objects/${each.value.prefix}\")"
  }
}

# V4 signed URLs are signed through IAM signBlob by the runtime account itself (no key file):
# submit_report's upload URLs, forward_report's links to the clean photo. signBlob only: the
# predefined Token Creator role would also let the account mint access and ID tokens as itself.
resource "google_project_iam_custom_role" "sign_blob" {
  project     = local.project_id
  role_id     = "keluhanSignBlob"
  title       = "Keluhan: sign blobs (V4 signed URLs)"
  description = "Only iam.serviceAccounts.signBlob, granted to a function's account on itself."
  permissions = ["iam.serviceAccounts.signBlob"]
}

resource "google_service_account_iam_member" "signs_urls" {
  for_each           = { for name, fn in local.functions : name => fn if fn.signs_urls }
  service_account_id = google_service_account.function[each.key].name
  role               = google_project_iam_custom_role.sign_blob.id
  member             = google_service_account.function[each.key].member
}

resource "google_secret_manager_secret_iam_member" "forward_targets" {
  for_each  = local.secret_environment
  project   = var.project.id
  secret_id = google_secret_manager_secret.forward_targets.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.key].member
}

# A dedicated build account: new projects no longer give Cloud Build a default one that works.
# The roles Google documents for a user-specified build account of a function: build logs,
# the image in Artifact Registry, and the source and build cache in Cloud Storage.
resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/artifactregistry.writer",
    "roles/logging.logWriter",
    "roles/storage.objectAdmin",
  ])
  project = var.project.id
  role    = each.value
  member  = google_service_account.build.member
  # Builds read the sources and keep their cache in the gcf-v2-* buckets Cloud Functions makes:
  # the storage role holds there only, never on the photos or the Terraform state bucket.
  dynamic "condition" {
    for_each = each.value == "roles/storage.objectAdmin" ? [local.source_bucket] : []
    content {
      title      = "function sources and build buckets only"
      expression = "resource.name.startsWith(\"projects/_/buckets/${condition.value}\") || resource.name.startsWith(\"projects/_/buckets/gcf-v2-\")"
    }
  }
}
