# The whole Keluhan system in one project: APIs, identities, buckets, database, topics,
# functions and their push subscriptions. Environment roots call this module.

locals {
  labels        = { app = "keluhan", environment = var.environment }
  photo_bucket  = coalesce(var.photo.bucket_name, "${var.project.id}-keluhan-photos")
  source_bucket = "${var.project.id}-keluhan-functions"
  publishers    = merge([for name, fn in local.functions : { for topic in fn.publishes : "${name}/${topic}" => { function = name, topic = topic } }]...)
  # One bucket grant per (function, prefix); the role carries what the mode needs.
  photo_grants = merge([for name, fn in local.functions : { for prefix, mode in fn.photo_access : "${name}/${prefix}" => { function = name, prefix = prefix, mode = mode } }]...)
  photo_roles = {
    read   = "roles/storage.objectViewer"
    create = "roles/storage.objectCreator"
    write  = "roles/storage.objectUser"
  }

  # Every function reads one Settings object from these KELUHAN_* environment variables.
  settings_environment = { for field, value in var.settings : "KELUHAN_${upper(field)}" => tostring(value) }
  common_environment = {
    KELUHAN_PROJECT_ID   = var.project.id
    KELUHAN_PHOTO_BUCKET = module.storage.photo_bucket
    # Behind API Gateway the caller's token arrives in X-Forwarded-Authorization (front.tf).
    KELUHAN_FORWARDED_AUTHORIZATION = tostring(local.api_gateway)
  }
  # Data files copied by `keluhan package`; /workspace is where the function's source runs.
  function_environment = {
    enrich_geo = {
      KELUHAN_GEO_DIR    = "/workspace/geo"
      KELUHAN_GEO_BUNDLE = var.geo.bundle_file == "" ? "" : "/workspace/geo/${var.geo.bundle_file}"
    }
    war_room = {
      KELUHAN_GEO_DIR    = "/workspace/geo"
      KELUHAN_GEO_BUNDLE = var.geo.bundle_file == "" ? "" : "/workspace/geo/${var.geo.bundle_file}"
    }
    route_report = {
      KELUHAN_ROUTING_RULES_FILE = "/workspace/fixtures/routing_rules.json"
    }
  }
  # Receiver URLs and tokens live in Secret Manager, never in code or Terraform state.
  secret_environment = {
    forward_report = {
      KELUHAN_FORWARD_TARGETS = google_secret_manager_secret.forward_targets.secret_id
    }
  }
}

resource "google_project_service" "api" {
  for_each = toset(concat([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "identitytoolkit.googleapis.com", # check_revoked=True looks each signed-in user up
    "fcm.googleapis.com",             # push notifications (FCM HTTP v1)
    "bigquery.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    ], local.api_gateway ? [
    "apigateway.googleapis.com", # the public front (front.tf)
    "servicecontrol.googleapis.com",
    "servicemanagement.googleapis.com",
  ] : []))
  project            = var.project.id
  service            = each.value
  disable_on_destroy = false
}

locals {
  # The project id, read through the API resources: whatever takes it from here waits for every API
  # to be on, by reference. (A module-level depends_on would instead defer every data source in the
  # module whenever anything it lists changes: the source zips, hence every function's source
  # object, would be replaced by an IAM-only change.)
  project_id = one(distinct([for api in google_project_service.api : api.project]))
}

# The Pub/Sub service agent signs push tokens, moves dead letters and writes to BigQuery: created
# here rather than assumed (a project gets it on first use otherwise). google-beta only.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  project  = local.project_id
  service  = "pubsub.googleapis.com"
}

resource "google_service_account" "function" {
  for_each     = local.functions
  project      = var.project.id
  account_id   = "fn-${replace(each.key, "_", "-")}"
  display_name = "Keluhan function ${each.key}"
  depends_on   = [google_project_service.api]
}

resource "google_service_account" "pubsub_push" {
  project      = var.project.id
  account_id   = "keluhan-pubsub-push"
  display_name = "Keluhan Pub/Sub push (invokes the event functions)"
  depends_on   = [google_project_service.api]
}

resource "google_service_account" "build" {
  project      = var.project.id
  account_id   = "keluhan-function-build"
  display_name = "Keluhan function builds"
  depends_on   = [google_project_service.api]
}

resource "google_secret_manager_secret" "forward_targets" {
  project   = var.project.id
  secret_id = "keluhan-forward-targets"
  labels    = local.labels
  replication {
    auto {}
  }
  depends_on = [google_project_service.api]
}

# A placeholder so the first deploy starts; ops add the real version (see docs/deploy.md).
resource "google_secret_manager_secret_version" "forward_targets_placeholder" {
  secret      = google_secret_manager_secret.forward_targets.id
  secret_data = "{}"
}

module "pubsub" {
  source        = "../pubsub"
  project_id    = local.project_id
  service_agent = "serviceAccount:${google_project_service_identity.pubsub.email}"
  topics        = concat(local.stage_topics, local.dead_letter_topics)
  labels        = local.labels
  subscriptions = {
    for name, sub in local.subscriptions : name => {
      topic = sub.topic
      # The topic path makes functions-framework set the CloudEvent source the code reads the
      # topic from (a dead letter's stage); the OIDC audience stays the service URL.
      push_endpoint         = "${module.function[sub.function].uri}/projects/${var.project.id}/topics/${sub.topic}"
      push_audience         = module.function[sub.function].uri
      ack_deadline_s        = local.functions[sub.function].ack_deadline_s
      min_backoff_s         = local.functions[sub.function].min_backoff_s
      max_backoff_s         = local.functions[sub.function].max_backoff_s
      max_delivery_attempts = local.functions[sub.function].max_delivery_attempts
      dead_letter_topic     = sub.dead_letter_topic
    }
  }

  push_service_account_email = google_service_account.pubsub_push.email
}

module "storage" {
  source     = "../storage"
  project_id = local.project_id
  location   = var.project.region
  labels     = local.labels
  photo = {
    bucket_name                 = local.photo_bucket
    incoming_prefix             = var.photo.incoming_prefix
    delete_originals_after_days = var.photo.delete_originals_after_days
    cors_origins                = var.photo.cors_origins
  }
  source_bucket_name    = local.source_bucket
  disposable            = var.disposable
  notification_topic_id = module.pubsub.topic_ids["photo-uploaded"]
}

module "firestore" {
  source     = "../firestore"
  project_id = local.project_id
  database = {
    location_id            = var.project.firestore_location
    delete_protection      = var.firestore.delete_protection
    point_in_time_recovery = var.firestore.point_in_time_recovery
    disposable             = var.disposable
    rules_file             = var.paths.rules_file
    indexes_file           = var.paths.indexes_file
  }
}

# Production data is never destroyed or replaced by a plan: the database, the photos and the
# analytics dataset each have a prevent_destroy guard unless the environment is disposable.
module "keep" {
  source  = "../keep"
  protect = !var.disposable
  ids = {
    database  = module.firestore.database_id
    photos    = module.storage.photo_bucket_id
    analytics = google_bigquery_dataset.analytics.id
  }
}

module "function" {
  source        = "../function"
  for_each      = local.functions
  project_id    = var.project.id
  region        = var.project.region
  source_bucket = module.storage.source_bucket
  archive_dir   = var.paths.archive_dir
  labels        = local.labels
  function = {
    name                  = each.key
    source_dir            = "${var.paths.build_dir}/${each.key}"
    public                = each.value.trigger == "http"
    timeout_s             = each.value.timeout_s
    memory                = each.value.memory
    max_instances         = var.scaling.max_instances
    service_account_email = google_service_account.function[each.key].email
    # Through the wait below: the build starts once its grants have propagated.
    build_service_account = time_sleep.iam_propagation.triggers["build_account"]
    environment           = merge(local.settings_environment, local.common_environment, lookup(local.function_environment, each.key, {}))
    secret_environment    = lookup(local.secret_environment, each.key, {})
    # HTTP functions check Firebase ID tokens and channel credentials themselves; who may invoke
    # them is the public front's choice (front.tf).
    invokers = each.value.trigger == "http" ? local.http_invokers : { pubsub_push = "serviceAccount:${google_service_account.pubsub_push.email}" }
  }
}

# IAM changes take up to about 7 minutes to apply everywhere, 2 typically
# (https://cloud.google.com/iam/docs/access-change-propagation). The deploy checks that the runtime
# account can read its secret and the build account can build: every function takes its build
# account through this wait, which ends after those grants are in and have had time to spread.
resource "time_sleep" "iam_propagation" {
  create_duration = "120s"
  triggers = {
    build_account = google_service_account.build.id
  }
  depends_on = [
    google_project_iam_member.build,
    google_secret_manager_secret_iam_member.forward_targets,
    google_secret_manager_secret_version.forward_targets_placeholder,
  ]
}

# The sweep: Cloud Scheduler publishes a tick; sweep_reports expires reports whose photo never came.
resource "google_cloud_scheduler_job" "sweep" {
  project     = var.project.id
  region      = var.project.region
  name        = "keluhan-sweep-reports"
  description = "Tick for sweep_reports (expire reports whose photo never arrived)."
  schedule    = "*/5 * * * *"
  time_zone   = "Asia/Makassar"
  pubsub_target {
    topic_name = module.pubsub.topic_ids["sweep-tick"]
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.api]
}
