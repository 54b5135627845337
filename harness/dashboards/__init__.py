"""Dashboards served over the exports: DeepCAVE (with its own environment) and optuna-dashboard."""
