"""Package metadata for sagemaker-tensorflow-runtime (the runtime inside SageMaker TF images)."""

from setuptools import find_packages, setup

setup(
    name="sagemaker-tensorflow-runtime",
    version="0.1.0",
    description="Runtime of SageMaker TensorFlow framework images: the `train` and `serve` commands.",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["sagemaker_tensorflow_runtime*", "sagemaker_tensorflow*"]),
    package_data={
        "sagemaker_tensorflow_runtime": [
            "serving/protos/descriptors.bin",
            "training/distributed/*.c",
        ]
    },
    include_package_data=True,
    install_requires=[],
    extras_require={
        # s3:// code, model_dir region lookup and CodeArtifact; imported only when a job needs them.
        "s3": ["boto3>=1.28,<2"],
        "tensorflow": ["tensorflow-cpu==2.15.1", "numpy>=1.23.5,<2"],
        # tensorflow-serving-api==2.15.1 (the TFS protos and stubs) is installed with --no-deps by
        # scripts/setup-env.sh: its `tensorflow` requirement would pull a newer TensorFlow over
        # tensorflow-cpu.
        "serving": [
            "grpcio>=1.60,<2",
            "protobuf>=3.20.3,<5",
            "numpy>=1.23.5,<2",
            "flask>=3,<4",
            "gunicorn>=22,<24",
            "gevent>=24,<26",
            "orjson>=3.9,<4",
            "hpack>=4,<5",
            "requests>=2.31,<3",
        ],
        "test": [
            "boto3>=1.28,<2",
            "moto[server]>=5.0,<6",
            "pytest>=8,<10",
            "ruff>=0.6,<1",
            "mypy>=1.10,<2",
        ],
    },
    entry_points={
        "console_scripts": [
            "train=sagemaker_tensorflow_runtime.training.cli:main",
            "serve=sagemaker_tensorflow_runtime.serving.cli:main",
            "sagemaker-tf-local=sagemaker_tensorflow_runtime.training.local:main",
        ]
    },
)
