# Staging: a smaller copy of production in its own project. Run `keluhan package` before plan/apply.

locals {
  repo_root = abspath("${path.root}/../../../..")
}

module "keluhan" {
  source      = "../../modules/keluhan"
  environment = "staging"
  project     = var.project
  disposable  = true
  paths = {
    build_dir    = "${local.repo_root}/build/functions"
    rules_file   = "${local.repo_root}/firestore.rules"
    indexes_file = "${local.repo_root}/firestore.indexes.json"
    archive_dir  = "${local.repo_root}/build/archives/staging"
  }
  # Tunables default to the module's (which equal keluhan.settings.Settings); override here, reviewed.
  photo    = {}
  settings = {}
  geo      = {}
  scaling  = { max_instances = 3 }
  # Where Domain Restricted Sharing forbids allUsers: { kind = "api_gateway" } (docs/deploy.md).
  public_front = { kind = "all_users" }
  firestore = {
    # Staging data is disposable: it can be wiped and recreated.
    delete_protection      = false
    point_in_time_recovery = false
  }
}
