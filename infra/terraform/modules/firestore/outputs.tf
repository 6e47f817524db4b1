output "database" {
  description = "Resource name of the Firestore database."
  value       = google_firestore_database.default.name
}

output "rules_release" {
  description = "Name of the rules release that applies the ruleset to the database."
  value       = google_firebaserules_release.firestore.name
}

output "database_id" {
  description = "Id of the Firestore database resource (projects/<project>/databases/(default)); unknown in a plan that replaces it."
  value       = google_firestore_database.default.id
}
