variable "project" {
  description = "The Google Cloud project (already a Firebase project) and where things run; Jakarta is closest to Makassar. Set firestore_exists when the (default) Firestore database already exists, so that it, its rules release and the indexes listed in existing_indexes are imported rather than created."
  type = object({
    id                 = string
    region             = optional(string, "asia-southeast2")
    firestore_location = optional(string, "asia-southeast2")
    # A Firebase project often has its (default) database already: Terraform then adopts it.
    firestore_exists = optional(bool, false)
    # Indexes of that database that exist already: position in firestore.indexes.json → its id.
    existing_indexes = optional(map(object({ collection = string, id = string })), {})
  })

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project.id))
    error_message = "project.id must be a Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter."
  }
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.project.region))
    error_message = "project.region must be a Cloud Functions region such as asia-southeast2."
  }
  validation {
    condition     = length(var.project.existing_indexes) == 0 || var.project.firestore_exists
    error_message = "project.existing_indexes only applies with firestore_exists = true."
  }
}
