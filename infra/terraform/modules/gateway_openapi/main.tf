# The API Gateway configuration (OpenAPI 2.0, the version API Gateway takes) of each public HTTP
# function: plain Terraform expressions, no resources, so tests plan it with Terraform alone.
#
# One document per function: every path, `/` and `/{path=**}` (any depth), GET, POST and DELETE, goes to
# that function's run.app URI with the request path appended, exactly the path the function
# sees when called directly (war_room's /stats.json, open311's /requests.json). The gateway
# calls it with an ID token of its own service account for that audience (Cloud Run's invoker
# check) and passes the caller's Authorization on as X-Forwarded-Authorization
# (https://cloud.google.com/api-gateway/docs/oasv2-extensions#x-google-backend). No security
# requirement at the gateway: the functions check Firebase ID tokens and Open311 keys themselves.

locals {
  methods = ["get", "post", "delete"] # DELETE: support_report's withdrawal
  answer = {
    default = { description = "The function's own answer (docs/openapi.json, docs/open311.md)." }
  }
  documents = {
    for name, backend in var.backends : name => jsonencode({
      swagger  = "2.0"
      info     = { title = "keluhan-${replace(name, "_", "-")}", version = "1.0.0", description = "Keluhan ${name}, behind API Gateway." }
      schemes  = ["https"]
      produces = ["application/json"]
      x-google-backend = {
        address          = backend.address
        jwt_audience     = backend.address
        path_translation = "APPEND_PATH_TO_ADDRESS"
        deadline         = backend.deadline_s
      }
      paths = {
        "/" = { for method in local.methods : method => {
          operationId = "${name}_${method}_root"
          responses   = local.answer
        } }
        "/{path=**}" = merge(
          { parameters = [{ name = "path", in = "path", required = true, type = "string" }] },
          { for method in local.methods : method => {
            operationId = "${name}_${method}_path"
            responses   = local.answer
          } },
        )
      }
    })
  }
}
