"""Run folders as other tools' formats: DeepCAVE runs and Optuna studies.

Exporters read only trial records (``harness.running.records``), never an optimizer's state.
"""
