"""DeepCAVE configuration for ``hpo2nas dashboard`` (imported by DeepCAVE's ``--config``)."""
