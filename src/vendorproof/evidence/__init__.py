"""Evidence: signed, hash-chained records of intake decisions and their store."""
