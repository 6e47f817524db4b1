# Firebase Authentication (Identity Platform): which sign-ins exist and who may sign up.
# Citizens sign up with e-mail and password (or anonymously, which may not submit); staff roles
# are custom claims that count only on a verified e-mail (keluhan.adapters.auth, firestore.rules,
# `keluhan users grant`), so an address registered first by someone else never carries one.

variable "auth" {
  description = "Firebase Authentication: e-mail/password sign-in, anonymous sign-in, whether clients may sign themselves up, and the web domains allowed to sign in."
  type = object({
    email_sign_in      = optional(bool, true)
    anonymous_sign_in  = optional(bool, true)
    client_signup      = optional(bool, true)
    authorized_domains = optional(list(string), [])
  })
  default = {}
}

resource "google_project_service" "identity" {
  project            = var.project.id
  service            = "identitytoolkit.googleapis.com"
  disable_on_destroy = false
}

resource "google_identity_platform_config" "auth" {
  project                    = var.project.id
  autodelete_anonymous_users = true
  authorized_domains         = var.auth.authorized_domains

  sign_in {
    allow_duplicate_emails = false
    email {
      enabled           = var.auth.email_sign_in
      password_required = true
    }
    anonymous {
      enabled = var.auth.anonymous_sign_in
    }
  }

  client {
    permissions {
      disabled_user_signup   = !var.auth.client_signup
      disabled_user_deletion = true
    }
  }

  depends_on = [google_project_service.identity]
}
