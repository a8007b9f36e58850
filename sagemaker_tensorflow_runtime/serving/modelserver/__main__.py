"""`python -m sagemaker_tensorflow_runtime.serving.modelserver <tensorflow_model_server flags>`."""

import sys

from sagemaker_tensorflow_runtime.serving.modelserver.server import main

sys.exit(main())
