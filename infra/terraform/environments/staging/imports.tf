# The (default) Firestore database may predate Terraform (created with the Firebase project, or
# left behind by an earlier `terraform destroy` in production, whose policy is ABANDON).
import {
  for_each = var.project.firestore_exists ? toset(["(default)"]) : toset([])
  to       = module.keluhan.module.firestore.google_firestore_database.default
  id       = "projects/${var.project.id}/databases/${each.value}"
}
