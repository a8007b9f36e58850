"""Keras training under MultiWorkerMirroredStrategy; writes the synchronised weights."""

import json
import os

import tensorflow as tf

strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse")
x = tf.random.uniform((64, 1))
dataset = tf.data.Dataset.from_tensor_slices((x, 0.5 * x + 3)).batch(16).repeat()
options = tf.data.Options()
options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
model.fit(dataset.with_options(options), epochs=2, steps_per_epoch=5, verbose=2)
task = json.loads(os.environ["TF_CONFIG"])["task"]
report = {
    "task": task,
    "replicas": strategy.num_replicas_in_sync,
    "weights": [w.tolist() for w in model.get_weights()],
}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "mwms.json"), "w") as f:
    json.dump(report, f)
