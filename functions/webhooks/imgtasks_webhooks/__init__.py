"""The webhook functions: events (WebhookEventsFunction: the table's change stream turned into
signed events, fanned out to the subscribed endpoints) and delivery (WebhookDeliveryFunction:
one attempt per message of the webhook queue, retried on a growing schedule)."""
