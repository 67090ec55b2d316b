"""SQL the quality gate reads the warehouse with (read-only)."""
