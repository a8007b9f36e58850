"""The embedded TensorFlow-Serving-compatible model server (REST and gRPC over SavedModels).

Started with the same flags as `tensorflow_model_server` wherever that binary is absent:
`python -m sagemaker_tensorflow_runtime.serving.modelserver --port=9000 --rest_api_port=8501 ...`.
"""
