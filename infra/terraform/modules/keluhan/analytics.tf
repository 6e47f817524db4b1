# report-status-changed streamed to BigQuery by a Pub/Sub BigQuery subscription: ad-hoc analysis
# of every status change in a real analytics engine, with no code of ours in between. The table's
# columns are the message's JSON fields (see shared/keluhan/usecases/events.py: status_changed).

resource "google_bigquery_dataset" "analytics" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption at rest; rows are status changes (report id, statuses, roles, times), no personal data worth a customer key's rotation and availability risk
  project    = var.project.id
  dataset_id = "keluhan_${var.environment}"
  # A disposable environment's dataset goes with `terraform destroy`; production's refuses while
  # it holds tables (the provider's default) and the table's deletion protection is on.
  delete_contents_on_destroy = var.disposable
  location                   = var.project.firestore_location
  description                = "Keluhan: every report status change, streamed from Pub/Sub."
  labels                     = local.labels
  depends_on                 = [google_project_service.api]
}

resource "google_bigquery_table" "status_changes" {
  #checkov:skip=CKV_GCP_80:Google-managed encryption at rest, as for the dataset (no personal data in these rows)
  #checkov:skip=CKV_GCP_121:deletion protection is on everywhere but a disposable environment (staging), whose destroy must delete the table
  project             = var.project.id
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "status_changes"
  description         = "One row per report-status-changed message (report_id, seq) plus Pub/Sub metadata."
  deletion_protection = !var.disposable
  labels              = local.labels

  time_partitioning {
    type  = "DAY"
    field = "publish_time"
  }

  schema = jsonencode([
    { name = "data", type = "JSON", mode = "NULLABLE", description = "The message body: report_id, seq, from, to, action, role, by, at, assignee." },
    { name = "attributes", type = "JSON", mode = "NULLABLE", description = "Message attributes: report_id, seq, from, to, action." },
    { name = "subscription_name", type = "STRING", mode = "NULLABLE", description = "Pub/Sub metadata." },
    { name = "message_id", type = "STRING", mode = "NULLABLE", description = "Pub/Sub metadata; a redelivery repeats (report_id, seq), dedupe on those." },
    { name = "publish_time", type = "TIMESTAMP", mode = "NULLABLE", description = "Pub/Sub metadata." },
  ])
}

# The Pub/Sub service agent writes the rows.
resource "google_bigquery_dataset_iam_member" "pubsub_writes_analytics" {
  project    = var.project.id
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = module.pubsub.pubsub_service_agent
}

resource "google_pubsub_subscription" "status_changes_to_bigquery" {
  project = var.project.id
  name    = "bigquery--report-status-changed"
  topic   = module.pubsub.topic_ids["report-status-changed"]
  labels  = local.labels

  bigquery_config {
    table          = "${var.project.id}.${google_bigquery_table.status_changes.dataset_id}.${google_bigquery_table.status_changes.table_id}"
    write_metadata = true
  }

  # Never expire: a quiet month (31 days without a status change) must not delete the stream.
  expiration_policy {
    ttl = ""
  }

  depends_on = [google_bigquery_dataset_iam_member.pubsub_writes_analytics]
}
