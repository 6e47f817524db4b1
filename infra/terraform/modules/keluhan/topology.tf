# The deployed functions, topics and subscriptions. Everything under "topology" mirrors
# shared/keluhan/topology.py exactly; tests/unit/test_terraform.py fails on any difference.

locals {
  functions = {
    submit_report = {
      # topology
      trigger   = "http"
      topics    = []
      publishes = ["report-accepted", "report-status-changed"]
      timeout_s = 30
      # deployment
      memory       = "512Mi"
      photo_access = { "incoming/" = "create", "derived/" = "read" } # V4 signed PUT URLs act as this account; thumbnails of possible duplicates
      signs_urls   = true
      reads_users  = true
      firestore    = "write"
    }
    get_report = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-status-changed"] # expiring an overdue photo wait on read
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "derived/" = "read" } # signed GET links of the proof photo's EXIF-free copy
      signs_urls   = true
      reads_users  = true
      firestore    = "write"
    }
    act_on_report = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-accepted", "report-routed", "report-status-changed"]
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "resolution/" = "create" } # signed PUT URLs for proof photos
      signs_urls   = true
      reads_users  = true
      firestore    = "write"
    }
    open311 = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-accepted", "report-status-changed"]
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "incoming/" = "create", "derived/" = "read" } # signed PUT URLs for a posted request's photo; media_url links of public thumbnails
      signs_urls   = true
      reads_users  = false
      firestore    = "write"
    }
    # open311's code again (keluhan package copies functions/open311): the channels' POSTs run on
    # instances of their own, which public reads of open311 cannot take.
    open311_intake = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-accepted", "report-status-changed"]
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "incoming/" = "create" } # signed PUT URLs for a posted request's photo
      signs_urls   = true
      reads_users  = false
      firestore    = "write"
    }
    # The WhatsApp Cloud API webhook (docs/whatsapp.md); its secrets come from Secret Manager (main.tf).
    whatsapp = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-accepted", "report-status-changed"]
      timeout_s    = 30
      memory       = "512Mi"                    # the geo index, as enrich_geo
      photo_access = { "incoming/" = "create" } # the photo fetched from the Cloud API, where the app's PUT puts it
      signs_urls   = true                       # the submission use case signs the (unused) PUT URL
      reads_users  = false
      firestore    = "write"
    }
    support_report = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-status-changed"] # the figures count supporters
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "write" # the report's supporter refs and count, supports/{ref}
    }
    comment_on_report = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-status-changed"] # a staff reply is told to the reporter
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "write" # comments/{id}; a staff reply's timeline entry on the report
    }
    list_my_reports = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "read" # one query on reporter_key
    }
    nearby_reports = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "derived/" = "read" } # short-lived signed GET links of public thumbnails
      signs_urls   = true
      reads_users  = true
      firestore    = "read" # geohash range queries, a capped number of reads
    }
    war_room = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "512Mi" # the kelurahan outlines, simplified once per instance
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "read" # the figures are queries and counts; it writes nothing
    }
    photo_links = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "derived/" = "read" } # signed GET links of EXIF-free derivatives, never incoming/
      signs_urls   = true
      reads_users  = true
      firestore    = "read" # reads the report; writes nothing
    }
    # The SKPD staff's phone page: act_on_report's moves for staff only, their queue and reports.
    work = {
      trigger      = "http"
      topics       = []
      publishes    = ["report-status-changed"]
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = { "resolution/" = "create", "derived/" = "read" } # the proof's signed PUT URL; signed GET links of the EXIF-free photos
      signs_urls   = true
      reads_users  = true
      firestore    = "write"
    }
    notification_settings = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "256Mi"
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "write" # devices/{uid}/tokens, preferences/{uid}
    }
    subscriptions = {
      trigger      = "http"
      topics       = []
      publishes    = []
      timeout_s    = 30
      memory       = "512Mi" # the kelurahan layer (a kelurahan's kode, a circle's centre in the city)
      photo_access = {}
      signs_urls   = false
      reads_users  = true
      firestore    = "write"
    }
    verify_photo = {
      trigger               = "pubsub"
      topics                = ["photo-uploaded"]
      publishes             = ["report-accepted", "report-status-changed"]
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "1Gi" # full decode of a 12 MP photo plus hash, copy and thumbnail
      photo_access          = { "incoming/" = "read", "resolution/" = "read", "derived/" = "write" }
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
    }
    enrich_geo = {
      trigger               = "pubsub"
      topics                = ["report-accepted"]
      publishes             = ["report-located", "report-status-changed"]
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "512Mi" # boundary layers held in memory
      photo_access          = {}
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
    }
    route_report = {
      trigger               = "pubsub"
      topics                = ["report-located"]
      publishes             = ["report-routed", "report-status-changed"]
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "256Mi"
      photo_access          = {}
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
    }
    forward_report = {
      trigger               = "pubsub"
      topics                = ["report-routed"]
      publishes             = ["report-status-changed"] # a delivery given up on
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 5
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "256Mi"
      photo_access          = { "derived/" = "read" } # receivers fetch the clean copy by signed GET
      signs_urls            = true
      reads_users           = false
      firestore             = "write"
    }
    notify = {
      trigger               = "pubsub"
      topics                = ["report-status-changed"]
      publishes             = []
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "256Mi"
      photo_access          = {}
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
      sends_push            = true # FCM HTTP v1 (firebase-admin messaging)
    }
    record_figures = {
      trigger               = "pubsub"
      topics                = ["report-status-changed"]
      publishes             = []
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 5
      dead_letter           = true
      memory                = "256Mi"
      photo_access          = {}
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
    }
    sweep_reports = {
      trigger               = "pubsub"
      topics                = ["sweep-tick"]
      publishes             = ["photo-uploaded", "report-accepted", "report-located", "report-routed", "report-status-changed"]
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 0
      dead_letter           = false # a missed tick is caught up by the next one
      memory                = "256Mi"
      photo_access          = { "incoming/" = "read", "resolution/" = "read" } # the reconciler looks for uploads whose notification was lost
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
      sends_push            = true # attempts the pushes that are due
    }
    record_dead_letter = {
      trigger               = "pubsub"
      topics                = ["photo-uploaded-dead-letter", "report-accepted-dead-letter", "report-located-dead-letter", "report-routed-dead-letter", "report-status-changed-dead-letter"]
      publishes             = ["report-status-changed"] # a forwarding given up on
      timeout_s             = 30
      ack_deadline_s        = 60
      min_backoff_s         = 1
      max_backoff_s         = 10
      max_delivery_attempts = 0
      dead_letter           = false
      memory                = "256Mi"
      photo_access          = {}
      signs_urls            = false
      reads_users           = false
      firestore             = "write"
    }
  }

  stage_topics       = ["photo-uploaded", "report-accepted", "report-located", "report-routed", "report-status-changed", "sweep-tick"]
  dead_letter_topics = ["photo-uploaded-dead-letter", "report-accepted-dead-letter", "report-located-dead-letter", "report-routed-dead-letter", "report-status-changed-dead-letter"]

  # One push subscription per (function, topic), named `<function>--<topic>`.
  subscriptions = {
    "verify_photo--photo-uploaded"                          = { function = "verify_photo", topic = "photo-uploaded", dead_letter_topic = "photo-uploaded-dead-letter" }
    "enrich_geo--report-accepted"                           = { function = "enrich_geo", topic = "report-accepted", dead_letter_topic = "report-accepted-dead-letter" }
    "route_report--report-located"                          = { function = "route_report", topic = "report-located", dead_letter_topic = "report-located-dead-letter" }
    "forward_report--report-routed"                         = { function = "forward_report", topic = "report-routed", dead_letter_topic = "report-routed-dead-letter" }
    "notify--report-status-changed"                         = { function = "notify", topic = "report-status-changed", dead_letter_topic = "report-status-changed-dead-letter" }
    "record_figures--report-status-changed"                 = { function = "record_figures", topic = "report-status-changed", dead_letter_topic = "report-status-changed-dead-letter" }
    "record_dead_letter--report-status-changed-dead-letter" = { function = "record_dead_letter", topic = "report-status-changed-dead-letter", dead_letter_topic = null }
    "sweep_reports--sweep-tick"                             = { function = "sweep_reports", topic = "sweep-tick", dead_letter_topic = null }
    "record_dead_letter--photo-uploaded-dead-letter"        = { function = "record_dead_letter", topic = "photo-uploaded-dead-letter", dead_letter_topic = null }
    "record_dead_letter--report-accepted-dead-letter"       = { function = "record_dead_letter", topic = "report-accepted-dead-letter", dead_letter_topic = null }
    "record_dead_letter--report-located-dead-letter"        = { function = "record_dead_letter", topic = "report-located-dead-letter", dead_letter_topic = null }
    "record_dead_letter--report-routed-dead-letter"         = { function = "record_dead_letter", topic = "report-routed-dead-letter", dead_letter_topic = null }
  }
}
