"""cxlake: an open-source customer-experience data platform."""

__version__ = "0.1.0"
