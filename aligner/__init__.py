"""aligner: keep the versions inside ML-serving container images aligned."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aligner")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
