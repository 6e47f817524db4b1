variable "project_id" {
  description = "Google Cloud project that hosts the function."
  type        = string
}

variable "region" {
  description = "Region of the function and its Cloud Run service."
  type        = string
}

variable "source_bucket" {
  description = "Private bucket that holds the zipped function sources."
  type        = string
}

variable "archive_dir" {
  description = "Local directory where the source zip is written before upload."
  type        = string
}

variable "function" {
  description = "One deployed function: its folder name (also the entry point), source directory built by `keluhan package`, sizing, identity and environment."
  type = object({
    name                  = string
    description           = optional(string, "")
    source_dir            = string
    public                = bool
    timeout_s             = number
    memory                = optional(string, "512Mi")
    max_instances         = optional(number, 10)
    service_account_email = string
    build_service_account = string
    environment           = optional(map(string), {})
    secret_environment    = optional(map(string), {})
    invokers              = optional(map(string), {})
  })
}

variable "labels" {
  description = "Labels set on the function."
  type        = map(string)
  default     = {}
}
