"""Insight models over the marts: what to fix first (key drivers), and the questions after it.

Pure and core, like :mod:`cxlake.integrity`: pandas and numpy in, pandas out; the assets in
``assets/insights.py`` read the warehouse and write the marts, and the CLI runs the same models on
an analyst's own file.
"""
