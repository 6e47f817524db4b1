variable "project_id" {
  description = "Google Cloud project (a Firebase project) that hosts the database."
  type        = string
}

variable "database" {
  description = "The (default) Firestore database in native mode: its location, whether it may be deleted (and whether `terraform destroy` deletes it), and the security rules and composite indexes files deployed with it."
  type = object({
    location_id            = string
    delete_protection      = bool
    point_in_time_recovery = bool
    disposable             = bool
    rules_file             = string
    indexes_file           = string
  })
}
