variable "environment" {
  description = "Environment name (prod, staging); used in labels and default resource names."
  type        = string

  validation {
    # It names the BigQuery dataset (keluhan_<environment>): letters, digits, underscores only.
    condition     = can(regex("^[a-z][a-z0-9]{0,19}$", var.environment))
    error_message = "environment must be lowercase letters and digits, starting with a letter (it names the BigQuery dataset)."
  }
}

variable "project" {
  description = "The Google Cloud project (a Firebase project) and the region of the functions, buckets and database."
  type = object({
    id                 = string
    region             = string
    firestore_location = string
  })
}

variable "paths" {
  description = "Local paths: the functions built by `keluhan package`, the Firestore rules and indexes files, and a scratch directory for the source zips."
  type = object({
    build_dir    = string
    rules_file   = string
    indexes_file = string
    archive_dir  = string
  })
}

variable "photo" {
  description = "The private photo bucket: name (null for <project>-keluhan-photos), upload prefix, days before originals are deleted (0 keeps them), web origins allowed to PUT."
  type = object({
    bucket_name                 = optional(string)
    incoming_prefix             = optional(string, "incoming/")
    delete_originals_after_days = optional(number, 30)
    cors_origins                = optional(list(string), [])
  })

  validation {
    condition     = var.photo.delete_originals_after_days >= 0 && endswith(var.photo.incoming_prefix, "/")
    error_message = "photo.delete_originals_after_days must be 0 (keep) or more, and photo.incoming_prefix must end with /."
  }
  validation {
    condition     = alltrue([for origin in var.photo.cors_origins : can(regex("^https://", origin))])
    error_message = "photo.cors_origins must be https:// origins."
  }
}

variable "settings" {
  description = "Tunables of keluhan.settings.Settings, by field name, passed to every function as KELUHAN_<FIELD>; defaults equal the Settings defaults."
  type = object({
    upload_url_ttl_s         = optional(number, 900)
    photo_wait_s             = optional(number, 86400)
    photo_max_bytes          = optional(number, 15728640)
    photo_max_age_h          = optional(number, 24)
    photo_gps_max_distance_m = optional(number, 300)
    geo_snap_distance_m      = optional(number, 150)
    geo_near_border_m        = optional(number, 20)
    geo_road_snap_m          = optional(number, 25)
    routing_rules_ttl_s      = optional(number, 30)
    forward_timeout_s        = optional(number, 10)
    max_body_bytes           = optional(number, 2097152)
  })

  validation {
    condition     = alltrue([for field, value in var.settings : value > 0])
    error_message = "Every settings value must be greater than 0."
  }
}

variable "geo" {
  description = "Geo data bundled into enrich_geo by `keluhan package`: the bundle's file name under geo/ (from `keluhan geo import`), or empty to read the GeoJSON layers copied there."
  type = object({
    bundle_file = optional(string, "")
  })
}

variable "scaling" {
  description = "Upper bound of instances per function (cost and downstream protection); every function scales to zero."
  type = object({
    max_instances = optional(number, 10)
  })

  validation {
    condition     = var.scaling.max_instances >= 1 && var.scaling.max_instances <= 100
    error_message = "scaling.max_instances must be between 1 and 100."
  }
}

variable "firestore" {
  description = "Firestore safety switches: delete protection and point-in-time recovery."
  type = object({
    delete_protection      = optional(bool, true)
    point_in_time_recovery = optional(bool, true)
  })
}

variable "disposable" {
  description = "True for an environment that can be destroyed and recreated (staging): buckets are emptied and the Firestore database deleted on `terraform destroy`. False keeps both (production)."
  type        = bool
}

variable "public_front" {
  description = "How the public HTTP functions are reached: kind all_users (allUsers may invoke them; refused where Domain Restricted Sharing is enforced) or api_gateway (one API Gateway per function, in region, the functions' only invoker; see docs/deploy.md)."
  type = object({
    kind = optional(string, "all_users")
    # API Gateway runs in a few regions only; Sydney is the nearest to Makassar.
    region = optional(string, "australia-southeast1")
  })
  default = {}

  validation {
    condition     = contains(["all_users", "api_gateway"], var.public_front.kind)
    error_message = "public_front.kind must be all_users or api_gateway."
  }
  validation {
    # https://cloud.google.com/api-gateway/docs/deployment-model#choosing_a_gcp_region
    condition = contains(["asia-northeast1", "australia-southeast1", "europe-west1", "europe-west2", "us-central1",
    "us-east1", "us-east4", "us-west2", "us-west3", "us-west4"], var.public_front.region)
    error_message = "public_front.region must be a region API Gateway runs in (asia-northeast1, australia-southeast1, europe-west1, …)."
  }
}

variable "whatsapp" {
  description = "The WhatsApp Business number the city's bot speaks from (the Cloud API's phone number id; empty: no WhatsApp sends) and the approved template for status updates outside the 24-hour window (docs/whatsapp.md). The app secret, verify token and access token are Secret Manager secrets, not variables."
  type = object({
    phone_id = optional(string, "")
    template = optional(string, "keluhan_status_update")
  })
  default = {}
}
