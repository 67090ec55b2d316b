"""One ingestion asset per source: landing files of a day -> raw.* in the warehouse."""
