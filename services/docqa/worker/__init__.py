"""The embedding worker: RQ job functions (enqueued by dotted path), the process, recovery."""
