# The (default) Firestore database may predate Terraform (created with the Firebase project, or
# left behind by an earlier `terraform destroy` in production, whose policy is ABANDON).
import {
  for_each = var.project.firestore_exists ? toset(["(default)"]) : toset([])
  to       = module.keluhan.module.firestore.google_firestore_database.default
  id       = "projects/${var.project.id}/databases/${each.value}"
}

# Such a project has its rules release already (the console and the Firebase CLI make one): adopt it.
import {
  for_each = var.project.firestore_exists ? toset(["cloud.firestore"]) : toset([])
  to       = module.keluhan.module.firestore.google_firebaserules_release.firestore
  id       = "projects/${var.project.id}/releases/${each.value}"
}

# Composite indexes that exist already, by their position in firestore.indexes.json, with the id
# Firestore gave them (`gcloud firestore indexes composite list`): adopted rather than created.
import {
  for_each = var.project.existing_indexes
  to       = module.keluhan.module.firestore.google_firestore_index.composite[each.key]
  id       = "projects/${var.project.id}/databases/(default)/collectionGroups/${each.value.collection}/indexes/${each.value.id}"
}
