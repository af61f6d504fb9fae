"""roomrpc's server: the aiohttp app, the RPC core, procedures, storage and LiveKit."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("roomrpc")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
