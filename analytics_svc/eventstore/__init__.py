"""Where events are kept and read: one small protocol (base.py), one module per backend
(postgres.py: the events table of the service's database; clickhouse.py: a ClickHouse
server or the embedded chDB engine), chosen by choose.py from the settings."""
