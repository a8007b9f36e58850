"""Tensor types and conversions shared by the HTTP front and the embedded model server.

Nothing here imports TensorFlow: the front's workers stay light, the model server gets the same
typing rules, messages and number formatting.
"""
