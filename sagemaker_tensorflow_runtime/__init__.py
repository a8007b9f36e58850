"""Runtime of SageMaker TensorFlow framework images: the `train` and `serve` commands."""
