output "database" {
  description = "Resource name of the Firestore database."
  value       = google_firestore_database.default.name
}

output "rules_release" {
  description = "Name of the rules release that applies the ruleset to the database."
  value       = google_firebaserules_release.firestore.name
}
