"""The import name SageMaker TensorFlow scripts use (`from sagemaker_tensorflow import PipeModeDataset`).

PipeModeDataset arrives with the Pipe-mode issue.
"""
