# A guard that refuses any plan destroying or replacing the data it watches.
#
# `lifecycle { prevent_destroy }` takes a literal, so one module shared by staging and prod cannot
# set it on the data itself for prod only. Instead one guard per watched resource, present only
# when `protect` is true, carries `prevent_destroy = true` and is replaced whenever the watched
# resource's id changes; a planned replacement of the data has an unknown id, so it plans the
# guard's replacement, which `prevent_destroy` refuses. A destroy of the data (`terraform
# destroy`, a removed block, `-target`) destroys the guard first, which it refuses too. The plan
# fails before anything is changed: "Resource ...terraform_data.guard["database"] has
# lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed."
#
# terraform_data is built into Terraform (>= 1.4): no provider to install.

resource "terraform_data" "guard" {
  for_each         = var.protect ? var.ids : {}
  triggers_replace = each.value
  lifecycle {
    prevent_destroy = true
  }
}
