"""The cxlake explorer: Streamlit pages over the published serving copy (``data/serving.duckdb``)."""
