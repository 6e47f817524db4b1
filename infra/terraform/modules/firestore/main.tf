# The (default) Firestore database and its security rules: SKPD tools read it directly.

resource "google_firestore_database" "default" {
  project                           = var.project_id
  name                              = "(default)"
  location_id                       = var.database.location_id
  type                              = "FIRESTORE_NATIVE"
  delete_protection_state           = var.database.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  point_in_time_recovery_enablement = var.database.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  # Production: `terraform destroy` leaves the reports in place, deleting them is a deliberate
  # act. A disposable environment (staging) deletes the database with everything else.
  deletion_policy = var.database.disposable ? "DELETE" : "ABANDON"
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id
  source {
    files {
      name    = "firestore.rules"
      content = file(var.database.rules_file)
    }
  }
  lifecycle {
    create_before_destroy = true
  }
  depends_on = [google_firestore_database.default]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"
  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

# The composite indexes the queries need (the emulator does not enforce them): one file,
# firestore.indexes.json, shared with the Firebase CLI.
resource "google_firestore_index" "composite" {
  for_each   = { for i, index in jsondecode(file(var.database.indexes_file)).indexes : tostring(i) => index }
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = each.value.collectionGroup
  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "arrayConfig", null)
    }
  }
}

# Single-field index settings the file overrides: the area subscriptions' match keys are queried
# across every user's subscriptions/{uid}/areas (a collection group), which automatic indexes do
# not cover.
resource "google_firestore_field" "override" {
  for_each   = { for o in jsondecode(file(var.database.indexes_file)).fieldOverrides : "${o.collectionGroup}.${o.fieldPath}" => o }
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath
  index_config {
    dynamic "indexes" {
      for_each = each.value.indexes
      content {
        array_config = lookup(indexes.value, "arrayConfig", null)
        order        = lookup(indexes.value, "order", null)
        query_scope  = indexes.value.queryScope
      }
    }
  }
}
