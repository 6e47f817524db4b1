output "topic_ids" {
  description = "Topic ids (projects/…/topics/…) by topic name."
  value       = { for name, topic in google_pubsub_topic.this : name => topic.id }
}

output "subscription_names" {
  description = "Names of the push subscriptions."
  value       = [for sub in google_pubsub_subscription.push : sub.name]
}

output "pubsub_service_agent" {
  description = "IAM member of the project's Pub/Sub service agent."
  value       = local.pubsub_agent
}
