terraform {
  required_version = ">= 1.7" # import blocks with for_each
  required_providers {
    google  = { source = "hashicorp/google", version = "~> 6.50" } # the schema tests/unit checks against
    archive = { source = "hashicorp/archive", version = "~> 2.4" }
  }
  # The state bucket is given at init: terraform init -backend-config="bucket=<state bucket>".
  backend "gcs" {
    prefix = "keluhan/staging"
  }
}

provider "google" {
  project = var.project.id
  region  = var.project.region
  # The Firebase Rules API (and other client-billed APIs) needs a quota project with user credentials.
  user_project_override = true
  billing_project       = var.project.id
}
