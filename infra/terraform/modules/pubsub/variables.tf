variable "project_id" {
  description = "Google Cloud project that hosts the topics and subscriptions."
  type        = string
}

variable "service_agent" {
  description = "IAM member of the project's Pub/Sub service agent (google_project_service_identity): it moves dead letters and mints the push OIDC tokens."
  type        = string
}

variable "topics" {
  description = "Every topic to create, dead-letter topics included (keluhan.topology.all_topics())."
  type        = list(string)
}

variable "subscriptions" {
  description = "Push subscriptions by name (`<function>--<topic>`): topic, the push endpoint (the function's URL plus /projects/<p>/topics/<t>) and OIDC audience (the function's URL), delivery settings from keluhan.topology, and the dead-letter topic or null."
  type = map(object({
    topic                 = string
    push_endpoint         = string
    push_audience         = string
    ack_deadline_s        = number
    min_backoff_s         = number
    max_backoff_s         = number
    max_delivery_attempts = number
    dead_letter_topic     = optional(string)
  }))
}

variable "push_service_account_email" {
  description = "Service account whose OIDC token Pub/Sub sends with each push; it must be allowed to invoke the functions."
  type        = string
}

variable "message_retention" {
  description = "How long an unacknowledged message is kept (a duration such as \"604800s\")."
  type        = string
  default     = "604800s"
}

variable "labels" {
  description = "Labels set on topics and subscriptions."
  type        = map(string)
  default     = {}
}
