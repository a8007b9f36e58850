"""Parameter-server training with TF_CONFIG (master/worker/ps), TF 1.x graph style.

Variables live on the `ps` tasks (one per host, run by the runtime); the master initialises
them and writes checkpoints to the model dir; both train until the shared global step reaches
`--steps`. `--fail_master` makes the master raise after the session is up.
"""

import argparse
import json
import os
import time

import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--fail_master", type=str, default="False")
args, _ = parser.parse_known_args()

tf.compat.v1.disable_eager_execution()
config = json.loads(os.environ["TF_CONFIG"])
task_type, task_index = config["task"]["type"], config["task"]["index"]
cluster = tf.train.ClusterSpec(config["cluster"])
server = tf.distribute.Server(cluster, job_name=task_type, task_index=task_index, start=True)
is_master = task_type == "master"
me = f"/job:{task_type}/task:{task_index}"

with tf.compat.v1.device(
    tf.compat.v1.train.replica_device_setter(worker_device=me, cluster=cluster)
):
    global_step = tf.compat.v1.train.get_or_create_global_step()
    x = tf.constant([[1.0], [2.0], [3.0], [4.0]])
    w = tf.compat.v1.get_variable("w", [1, 1], initializer=tf.compat.v1.zeros_initializer())
    b = tf.compat.v1.get_variable("b", [1], initializer=tf.compat.v1.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - (0.5 * x + 3)))
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.05).minimize(loss, global_step)
    saver = tf.compat.v1.train.Saver()
    init = tf.compat.v1.global_variables_initializer()
    ready = tf.compat.v1.report_uninitialized_variables()

session_config = tf.compat.v1.ConfigProto(device_filters=["/job:ps", me])
manager = tf.compat.v1.train.SessionManager(ready_op=ready, recovery_wait_secs=0.5)
if is_master:
    sess = manager.prepare_session(server.target, init_op=init, config=session_config)
else:
    sess = manager.wait_for_session(server.target, config=session_config, max_wait_secs=120)
print(f"{task_type} {task_index} training", flush=True)
if is_master and args.fail_master == "True":
    raise RuntimeError("the master fails on purpose")
step = 0
while step < args.steps:
    _, step, value = sess.run([train_op, global_step, loss])
print(f"{task_type} {task_index} finished at step {step}, loss {value:.4f}", flush=True)
if is_master:
    saver.save(sess, os.path.join(os.environ["SM_MODEL_DIR"], "model.ckpt"), global_step=step)
    time.sleep(3)  # this host's parameter server stops with the master: let the worker finish
