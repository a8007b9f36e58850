"""An MPI rank without TensorFlow: reports itself, optionally fails, under `python -m mpi4py`."""

import argparse
import json
import os
import socket

from mpi4py import MPI

parser = argparse.ArgumentParser()
parser.add_argument("--fail_rank", type=int, default=-1)
args, _ = parser.parse_known_args()

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
print(f"rank {rank} of {comm.Get_size()} on {socket.gethostname()}", flush=True)
info = {
    "rank": rank,
    "size": comm.Get_size(),
    "hostname": socket.gethostname(),
    "sm_current_host": os.environ.get("SM_CURRENT_HOST"),
    "sum": comm.allreduce(rank + 1),
}
comm.Barrier()
if rank == args.fail_rank:
    raise ZeroDivisionError("rank failed on purpose")
with open(os.path.join(os.environ["SM_MODEL_DIR"], f"rank-{rank}.json"), "w") as f:
    json.dump(info, f)
comm.Barrier()
