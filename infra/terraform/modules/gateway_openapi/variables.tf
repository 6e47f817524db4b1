variable "backends" {
  description = "The functions to front, by folder name: each one's run.app URI (the backend address and ID-token audience) and its timeout in seconds (the gateway's deadline)."
  type = map(object({
    address    = string
    deadline_s = number
  }))
}
