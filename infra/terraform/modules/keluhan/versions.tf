terraform {
  required_version = ">= 1.5"
  required_providers {
    google      = { source = "hashicorp/google", version = ">= 6.0, < 8.0" }
    google-beta = { source = "hashicorp/google-beta", version = ">= 6.0, < 8.0" } # google_project_service_identity
    archive     = { source = "hashicorp/archive", version = "~> 2.4" }
    time        = { source = "hashicorp/time", version = "~> 0.13" } # time_sleep
  }
}
