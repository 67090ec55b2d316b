"""Sources pulled from an HTTP API and written to ``landing/`` as deliveries like any file."""
