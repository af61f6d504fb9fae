"""roomrpc's importable extras: ``roomrpc.client``, the typed Python client of the contract."""
