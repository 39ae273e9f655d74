"""Where the analytics service's tables are defined: its migrations, applied by the service, the
processor and the nightly job alike."""

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
