variable "project_id" {
  description = "Google Cloud project that owns the buckets."
  type        = string
}

variable "location" {
  description = "Location of the buckets (a region, close to the functions)."
  type        = string
}

variable "photo" {
  description = "The private photo bucket: its name, where uploads land, how long originals are kept, and the web origins allowed to PUT to signed URLs."
  type = object({
    bucket_name                 = string
    incoming_prefix             = string
    delete_originals_after_days = number
    cors_origins                = list(string)
  })
}

variable "source_bucket_name" {
  description = "Name of the private bucket that holds the zipped function sources."
  type        = string
}

variable "notification_topic_id" {
  description = "Topic id (projects/…/topics/photo-uploaded) that receives the object-finalize notifications."
  type        = string
}

variable "labels" {
  description = "Labels set on the buckets."
  type        = map(string)
  default     = {}
}

variable "disposable" {
  description = "True where the environment may be destroyed and recreated (staging): `terraform destroy` empties and deletes the buckets."
  type        = bool
  default     = false
}
