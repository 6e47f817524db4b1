terraform {
  required_version = ">= 1.7" # import blocks with for_each
  required_providers {
    google      = { source = "hashicorp/google", version = "~> 6.50" }      # the schema tests/unit checks against
    google-beta = { source = "hashicorp/google-beta", version = "~> 6.50" } # the Pub/Sub service identity
    archive     = { source = "hashicorp/archive", version = "~> 2.4" }
    time        = { source = "hashicorp/time", version = "~> 0.13" } # waits for IAM propagation
  }
  # The state bucket is given at init: terraform init -backend-config="bucket=<state bucket>".
  backend "gcs" {
    prefix = "keluhan/prod"
  }
}

provider "google" {
  project = var.project.id
  region  = var.project.region
  # The Firebase Rules API (and other client-billed APIs) needs a quota project with user credentials.
  user_project_override = true
  billing_project       = var.project.id
}

provider "google-beta" {
  project               = var.project.id
  region                = var.project.region
  user_project_override = true
  billing_project       = var.project.id
}
