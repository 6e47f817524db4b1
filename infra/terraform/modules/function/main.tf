# One gen2 Cloud Function built from build/functions/<name> (written by `keluhan package`).

locals {
  # Cloud Run service names allow no underscore; the folder name stays the entry point.
  service_name = replace(var.function.name, "_", "-")
}

data "archive_file" "source" {
  type        = "zip"
  source_dir  = var.function.source_dir
  output_path = "${var.archive_dir}/${var.function.name}.zip"
}

resource "google_storage_bucket_object" "source" {
  # The content hash in the name makes a changed source a new object, hence a new deployment.
  name   = "functions/${var.function.name}-${data.archive_file.source.output_md5}.zip"
  bucket = var.source_bucket
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "this" {
  project     = var.project_id
  location    = var.region
  name        = local.service_name
  description = var.function.description
  labels      = var.labels

  build_config {
    runtime         = "python311"
    entry_point     = var.function.name
    service_account = var.function.build_service_account
    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    # Scale to zero: traffic is bursty and a cold start costs the citizen about a second.
    min_instance_count               = 0
    max_instance_count               = var.function.max_instances
    max_instance_request_concurrency = 1
    available_memory                 = var.function.memory
    timeout_seconds                  = var.function.timeout_s
    service_account_email            = var.function.service_account_email
    # Pub/Sub push counts as internal traffic, so event functions need no public ingress.
    ingress_settings               = var.function.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = var.function.environment

    dynamic "secret_environment_variables" {
      for_each = var.function.secret_environment
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }
}

resource "google_cloud_run_service_iam_member" "invoker" {
  # Keyed by a static name: the member (a service account email) may be unknown until apply.
  for_each = var.function.invokers
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = each.value
}
