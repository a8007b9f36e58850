"""Script-mode example: learn y = 0.5 x + 3 with Keras and export a servable SavedModel.

Reads the `training` and `testing` channels (CSV `x,y`), takes hyperparameters as arguments as
SageMaker passes them, and saves `half_plus_three/1/` under SM_MODEL_DIR with a `serving_default`
signature taking `x` (float32 vector) and returning `y`.
"""

import argparse
import csv
import os

import numpy as np
import tensorflow as tf


def load(channel_dir: str) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for name in sorted(os.listdir(channel_dir)):
        with open(os.path.join(channel_dir, name), newline="") as f:
            for row in csv.DictReader(f):
                xs.append(float(row["x"]))
                ys.append(float(row["y"]))
    return np.array(xs, dtype=np.float32), np.array(ys, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=42, help="same seed, same model")
    parser.add_argument("--model_dir", default=None, help="sent by the SDK; unused here")
    parser.add_argument("--sm-model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--test", default=os.environ.get("SM_CHANNEL_TESTING"))
    args = parser.parse_args()

    tf.keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    x_train, y_train = load(args.train)
    x_test, y_test = load(args.test)
    model = tf.keras.Sequential([tf.keras.Input(shape=(1,), name="x"), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate), loss="mse")
    model.fit(x_train[:, None], y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    loss = model.evaluate(x_test[:, None], y_test, verbose=0)
    weight, bias = (float(v.numpy().ravel()[0]) for v in model.weights)
    print(f"test_loss={loss:.6f} weight={weight:.4f} bias={bias:.4f}")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def serve(x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": tf.squeeze(model(tf.expand_dims(x, -1)), -1)}

    export_dir = os.path.join(args.sm_model_dir, "half_plus_three", "1")
    tf.saved_model.save(model, export_dir, signatures={"serving_default": serve})
    print(f"saved model to {export_dir}")


if __name__ == "__main__":
    main()
