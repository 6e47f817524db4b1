# Topics, dead-letter topics and push subscriptions, as keluhan.topology describes them.
#
# Explicit push subscriptions rather than Eventarc triggers: a gen2 function's Eventarc
# trigger cannot carry a dead-letter policy, and push is what the local stack runs.

locals {
  pubsub_agent      = var.service_agent
  dead_lettered     = { for name, sub in var.subscriptions : name => sub if sub.dead_letter_topic != null }
  dead_letter_names = toset([for sub in values(local.dead_lettered) : sub.dead_letter_topic])
}

resource "google_pubsub_topic" "this" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption at rest; events carry report ids and stage results, no key is worth its rotation and availability risk here
  for_each = toset(var.topics)
  project  = var.project_id
  name     = each.value
  labels   = var.labels
}

resource "google_pubsub_subscription" "push" {
  for_each             = var.subscriptions
  project              = var.project_id
  name                 = each.key
  topic                = google_pubsub_topic.this[each.value.topic].id
  ack_deadline_seconds = each.value.ack_deadline_s
  labels               = var.labels

  message_retention_duration = var.message_retention

  push_config {
    push_endpoint = each.value.push_endpoint
    oidc_token {
      service_account_email = var.push_service_account_email
      audience              = each.value.push_audience
    }
  }

  retry_policy {
    minimum_backoff = "${each.value.min_backoff_s}s"
    maximum_backoff = "${each.value.max_backoff_s}s"
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter_topic == null ? [] : [each.value]
    content {
      dead_letter_topic     = google_pubsub_topic.this[dead_letter_policy.value.dead_letter_topic].id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }

  # A subscription nobody pulls from must not expire: push subscriptions are never "active".
  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent forwards undeliverable messages: it publishes to the dead-letter
# topic and acknowledges on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_names
  project  = var.project_id
  topic    = google_pubsub_topic.this[each.value].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.dead_lettered
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The service agent mints the push OIDC tokens as the push service account: an ID token only
# (iam.serviceAccounts.getOpenIdToken), never access tokens or signatures, so the role that
# carries that one permission rather than Token Creator.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.push_service_account_email}"
  role               = "roles/iam.serviceAccountOpenIdTokenCreator"
  member             = local.pubsub_agent
}
