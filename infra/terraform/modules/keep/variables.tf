variable "protect" {
  description = "True to refuse every plan that destroys or replaces the watched resources (production); false adds no guard (a disposable environment)."
  type        = bool
}

variable "ids" {
  description = "The watched resources' ids by a static name (e.g. database = its id): a change of one is a replacement of that resource."
  type        = map(string)
}
