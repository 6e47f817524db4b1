variable "project" {
  description = "The Google Cloud project (already a Firebase project) and where things run; Jakarta is closest to Makassar."
  type = object({
    id                 = string
    region             = optional(string, "asia-southeast2")
    firestore_location = optional(string, "asia-southeast2")
  })
}
