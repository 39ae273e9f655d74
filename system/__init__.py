"""The whole system on one machine: the processes of every service, the gateway, the demo.

The one package that knows every service (it starts them); nothing imports it. Shared
plumbing stays in common/, which knows no service.
"""
