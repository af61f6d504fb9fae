"""Helpers the tests share: the app over loopback, databases, a world of beings, clients."""
