variable "project" {
  description = "The Google Cloud project (already a Firebase project) and where things run; Jakarta is closest to Makassar. Set firestore_exists when the (default) Firestore database already exists, so that it is imported rather than created."
  type = object({
    id                 = string
    region             = optional(string, "asia-southeast2")
    firestore_location = optional(string, "asia-southeast2")
    # A Firebase project often has its (default) database already: Terraform then adopts it.
    firestore_exists = optional(bool, false)
  })
}
