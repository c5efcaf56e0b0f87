"""mast: a system of record for frontier-AI safety frameworks."""

__version__ = "0.1.0"
