"""The render function: render URLs the bucket has no answer for yet (imgtasks.services.renders)."""
