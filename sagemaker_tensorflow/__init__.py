"""The import name SageMaker TensorFlow scripts use for Pipe mode.

`from sagemaker_tensorflow import PipeModeDataset` arrives with the Pipe-mode issue.
"""
