"""Doorward: the box at each school door."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("doorward")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
