"""The parameter-server process: `python -m ...ps_server`, one per host (training.md §13.2).

Reads the ps task's TF_CONFIG from the environment and serves TensorFlow's gRPC server for job
`ps` until it is terminated. The launcher hides the GPUs (CUDA_VISIBLE_DEVICES="").
"""

import json
import os


def main() -> None:
    import tensorflow as tf

    config = json.loads(os.environ["TF_CONFIG"])
    server = tf.distribute.Server(
        tf.train.ClusterSpec(config["cluster"]),
        job_name="ps",
        task_index=config["task"]["index"],
        protocol="grpc",
        start=True,
    )
    server.join()


if __name__ == "__main__":
    main()
