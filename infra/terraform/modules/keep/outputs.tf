output "guarded" {
  description = "Names of the watched resources that are guarded (empty when protect is false)."
  value       = sort(keys(terraform_data.guard))
}
