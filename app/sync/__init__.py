"""Sync engine: transactional outbox, webhook inbox, worker, locks (grown by later issues)."""
