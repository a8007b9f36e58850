"""The /opt/ml contract both commands share: paths, config files, environment, processes."""
