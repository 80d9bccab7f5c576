"""Events: the outbox written with each change, and the buses that carry them after commit."""
