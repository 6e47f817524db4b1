output "documents" {
  description = "The OpenAPI 2.0 document (JSON) of each fronted function, by folder name."
  value       = local.documents
}
