# Production: the whole system in one project. Run `keluhan package` before plan/apply.

locals {
  repo_root = abspath("${path.root}/../../../..")
}

module "keluhan" {
  source      = "../../modules/keluhan"
  environment = "prod"
  project     = var.project
  disposable  = false
  paths = {
    build_dir    = "${local.repo_root}/build/functions"
    rules_file   = "${local.repo_root}/firestore.rules"
    indexes_file = "${local.repo_root}/firestore.indexes.json"
    archive_dir  = "${local.repo_root}/build/archives/prod"
  }
  # Tunables default to the module's (which equal keluhan.settings.Settings); override here, reviewed.
  photo    = {}
  settings = {}
  geo      = {}
  scaling  = { max_instances = 20 }
  # Where Domain Restricted Sharing forbids allUsers: { kind = "api_gateway" } (docs/deploy.md).
  public_front = { kind = "all_users" }
  firestore = {
    delete_protection      = true
    point_in_time_recovery = true
  }
}
