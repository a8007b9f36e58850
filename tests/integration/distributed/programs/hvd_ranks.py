"""A Horovod rank: writes its rank, local rank, size and an allreduce result to the model dir."""

import json
import os
import socket

import horovod.tensorflow as hvd
import tensorflow as tf

hvd.init()
rank = hvd.rank()
print(f"first line of rank {rank}", flush=True)
total = hvd.allreduce(tf.constant([float(rank + 1), 1.0]), op=hvd.Sum)
info = {
    "rank": rank,
    "local_rank": hvd.local_rank(),
    "size": hvd.size(),
    "local_size": hvd.local_size(),
    "allreduce": [float(x) for x in total.numpy()],
    "hostname": socket.gethostname(),
    "sm_current_host": os.environ["SM_CURRENT_HOST"],
}
with open(os.path.join(os.environ["SM_MODEL_DIR"], f"rank-{rank}.json"), "w") as f:
    json.dump(info, f)
print(f"rank {rank} done", flush=True)
