"""Alerts: rules over fresh feedback, cases worked to closure, messages delivered and escalated."""
