"""`python -m sagemaker_tensorflow_runtime.serving.modelserver <tensorflow_model_server flags>`.

Leaves with os._exit once the server has stopped: interpreter teardown with TensorFlow's and
gRPC's threads still alive can hang past SageMaker's SIGKILL, and a model server holds no
state that needs it.
"""

import logging
import os
import sys

from sagemaker_tensorflow_runtime.serving.modelserver.server import main

code = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
