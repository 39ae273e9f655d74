"""Plumbing shared by every service: settings, database, migrations, validation,
gRPC server, event bus, periodic tasks, logging. The ground floor: used by the services,
the gateway and system/, it imports none of them."""
