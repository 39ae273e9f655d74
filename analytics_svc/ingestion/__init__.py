"""Ingestion: events from the wire to durable rows (validation, the compiled reader, the group-commit
writer, the Kafka processor, drops of erased users)."""
