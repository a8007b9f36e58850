"""The gRPC API through the stock `tensorflow_serving.apis` stubs, unmodified (serving.md §13)."""

from collections.abc import Iterator

import grpc
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import wrappers_pb2
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
    regression_pb2,
)

from .harness import ServerProcess

BIG = 2**31 - 1
TIMEOUT = 30


@pytest.fixture(scope="module")
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.grpc_target) as chan:
        yield chan


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> prediction_service_pb2_grpc.PredictionServiceStub:
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope="module")
def models_stub(channel: grpc.Channel) -> model_service_pb2_grpc.ModelServiceStub:
    return model_service_pb2_grpc.ModelServiceStub(channel)


def predict_request(name: str, **inputs: tensor_pb2.TensorProto) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    return request


def test_predict_with_tensor_content(stub: prediction_service_pb2_grpc.PredictionServiceStub):
    proto = tf.make_tensor_proto(np.array([1.0, 2.0, 5.0], dtype=np.float32))
    assert proto.tensor_content  # packed form
    response = stub.Predict(predict_request("half_plus_three", x=proto), timeout=TIMEOUT)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["y"]), [3.5, 4.0, 5.5])
    assert response.model_spec.name == "half_plus_three"
    assert response.model_spec.version.value == 124
    assert response.model_spec.signature_name == "serving_default"


def test_predict_with_float_val(stub: prediction_service_pb2_grpc.PredictionServiceStub):
    proto = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)]
        ),
        float_val=[0.1, 2.0],
    )
    request = predict_request("half_plus_three", x=proto)
    request.model_spec.version.value = 123
    response = stub.Predict(request, timeout=TIMEOUT)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["y"]), [3.05, 4.0], rtol=1e-6)
    assert response.model_spec.version.value == 123


def test_predict_multi_io_with_output_filter_and_signature(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    request = predict_request(
        "multi_io",
        a=tf.make_tensor_proto(np.array([[1, 2], [3, 4]], dtype=np.float32)),
        b=tf.make_tensor_proto(np.array([10, 20], dtype=np.int64)),
    )
    request.output_filter.append("label_bytes")
    response = stub.Predict(request, timeout=TIMEOUT)
    assert set(response.outputs) == {"label_bytes"}
    assert list(tf.make_ndarray(response.outputs["label_bytes"])) == [
        b"\x00\xffrow10",
        b"\x00\xffrow20",
    ]
    swap = predict_request("multi_io", a=tf.make_tensor_proto(np.ones((1, 2), np.float32)))
    swap.model_spec.signature_name = "swap"
    answer = stub.Predict(swap, timeout=TIMEOUT)
    np.testing.assert_array_equal(tf.make_ndarray(answer.outputs["a_neg"]), [[-1.0, -1.0]])


def test_predict_strings(stub: prediction_service_pb2_grpc.PredictionServiceStub) -> None:
    request = predict_request("strings", text=tf.make_tensor_proto([b"ab", b"\xffz"]))
    response = stub.Predict(request, timeout=TIMEOUT)
    assert list(tf.make_ndarray(response.outputs["upper"])) == [b"AB", b"\xffZ"]
    assert list(tf.make_ndarray(response.outputs["length"])) == [2, 2]


def test_predict_larger_than_4_mb(server: ServerProcess) -> None:
    values = np.arange(1_200_000, dtype=np.float32)  # 4.8 MB each way
    options = [("grpc.max_send_message_length", BIG), ("grpc.max_receive_message_length", BIG)]
    with grpc.insecure_channel(server.grpc_target, options=options) as chan:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(chan)
        request = predict_request("half_plus_three", x=tf.make_tensor_proto(values))
        assert request.ByteSize() > 4 * 1024 * 1024
        response = stub.Predict(request, timeout=60)
    np.testing.assert_array_equal(tf.make_ndarray(response.outputs["y"]), values * 0.5 + 3)


def examples(*xs: float) -> list[example_pb2.Example]:
    return [
        example_pb2.Example(
            features=feature_pb2.Features(
                feature={"x": feature_pb2.Feature(float_list=feature_pb2.FloatList(value=[x]))}
            )
        )
        for x in xs
    ]


def test_classify(stub: prediction_service_pb2_grpc.PredictionServiceStub) -> None:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_three"
    request.model_spec.signature_name = "tensorflow/serving/classify"
    request.input.example_list.examples.extend(examples(1.0, 4.0))
    response = stub.Classify(request, timeout=TIMEOUT)
    got = [[(c.label, c.score) for c in row.classes] for row in response.result.classifications]
    assert got == [[("lo", 0.5), ("hi", 3.5)], [("lo", 2.0), ("hi", 5.0)]]
    assert response.model_spec.version.value == 124


def test_regress_with_and_without_context(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "half_plus_three"
    request.model_spec.signature_name = "tensorflow/serving/regress"
    request.input.example_list.examples.extend(examples(1.0, 2.0))
    response = stub.Regress(request, timeout=TIMEOUT)
    assert [r.value for r in response.result.regressions] == [3.5, 4.0]
    with_context = regression_pb2.RegressionRequest()
    with_context.model_spec.CopyFrom(request.model_spec)
    with_context.input.example_list_with_context.context.CopyFrom(examples(4.0)[0])
    with_context.input.example_list_with_context.examples.extend([example_pb2.Example()] * 2)
    answer = stub.Regress(with_context, timeout=TIMEOUT)
    assert [r.value for r in answer.result.regressions] == [5.0, 5.0]


def test_multi_inference(stub: prediction_service_pb2_grpc.PredictionServiceStub) -> None:
    request = inference_pb2.MultiInferenceRequest()
    for method in ("classify", "regress"):
        task = request.tasks.add()
        task.model_spec.name = "half_plus_three"
        task.model_spec.signature_name = f"tensorflow/serving/{method}"
        task.method_name = f"tensorflow/serving/{method}"
    request.input.example_list.examples.extend(examples(2.0))
    response = stub.MultiInference(request, timeout=TIMEOUT)
    classify, regress = response.results
    assert [c.label for c in classify.classification_result.classifications[0].classes] == [
        "lo",
        "hi",
    ]
    assert [r.value for r in regress.regression_result.regressions] == [4.0]


def test_get_model_metadata(stub: prediction_service_pb2_grpc.PredictionServiceStub) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "half_plus_three"
    request.model_spec.version.value = 123
    request.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(request, timeout=TIMEOUT)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    default = signature_map.signature_def["serving_default"]
    assert default.method_name == "tensorflow/serving/predict"
    assert default.inputs["x"].dtype == types_pb2.DT_FLOAT
    assert response.model_spec.version.value == 123


def status_request(name: str, version: int | None = None, label: str = "") -> object:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    if version is not None:
        request.model_spec.version.CopyFrom(wrappers_pb2.Int64Value(value=version))
    if label:
        request.model_spec.version_label = label
    return request


def test_get_model_status(models_stub: model_service_pb2_grpc.ModelServiceStub) -> None:
    response = models_stub.GetModelStatus(status_request("half_plus_three"), timeout=TIMEOUT)
    states = get_model_status_pb2.ModelVersionStatus.State
    assert [(s.version, s.state) for s in response.model_version_status] == [
        (124, states.AVAILABLE),
        (123, states.AVAILABLE),
    ]
    labelled = models_stub.GetModelStatus(status_request("labelled", label="stable"))
    assert [s.version for s in labelled.model_version_status] == [1]


def test_failed_model_status_over_grpc(models_stub: model_service_pb2_grpc.ModelServiceStub):
    response = models_stub.GetModelStatus(status_request("broken"), timeout=TIMEOUT)
    (status,) = response.model_version_status
    assert status.state == get_model_status_pb2.ModelVersionStatus.State.END
    assert status.status.error_code == grpc.StatusCode.UNKNOWN.value[0]
    assert "Failed to load servable broken version 1" in status.status.error_message


ERROR_CASES = {
    "unknown model": (
        predict_request("nope", x=tf.make_tensor_proto([1.0])),
        grpc.StatusCode.NOT_FOUND,
        "Servable not found for request: Latest(nope)",
    ),
    "unknown signature": (
        predict_request("half_plus_three", x=tf.make_tensor_proto([1.0])),
        grpc.StatusCode.INVALID_ARGUMENT,
        'Serving signature name: "zz" not found in signature def',
    ),
    "wrong input alias": (
        predict_request("half_plus_three", z=tf.make_tensor_proto([1.0])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "input tensor alias not found in signature: x. Inputs expected to be in the set {x}.",
    ),
    "no model name": (
        predict_request("", x=tf.make_tensor_proto([1.0])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "Missing model name in request.",
    ),
}
ERROR_CASES["unknown signature"][0].model_spec.signature_name = "zz"


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=list(ERROR_CASES))
def test_predict_error_codes(
    stub: prediction_service_pb2_grpc.PredictionServiceStub, case: tuple
) -> None:
    request, code, message = case
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(request, timeout=TIMEOUT)
    assert caught.value.code() == code
    assert caught.value.details() == message


def test_unknown_version_is_not_found(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
    models_stub: model_service_pb2_grpc.ModelServiceStub,
) -> None:
    request = predict_request("half_plus_three", x=tf.make_tensor_proto([1.0]))
    request.model_spec.version.value = 999
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(request, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert (
        caught.value.details() == "Servable not found for request: Specific(half_plus_three, 999)"
    )
    with pytest.raises(grpc.RpcError) as status_error:
        models_stub.GetModelStatus(status_request("nope"), timeout=TIMEOUT)
    assert status_error.value.code() == grpc.StatusCode.NOT_FOUND
    assert status_error.value.details() == "Could not find any versions of model nope"


def test_classify_with_a_predict_signature_is_invalid(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "half_plus_three"
    request.input.example_list.examples.extend(examples(1.0))
    with pytest.raises(grpc.RpcError) as caught:
        stub.Classify(request, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_mismatched_tensor_content_is_invalid_not_fatal(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    proto = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=1000)]
        ),
        tensor_content=b"\x00" * 7,
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(predict_request("half_plus_three", x=proto), timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    ok = stub.Predict(
        predict_request("half_plus_three", x=tf.make_tensor_proto([1.0])), timeout=TIMEOUT
    )
    assert tf.make_ndarray(ok.outputs["y"]).tolist() == [3.5]


def test_typed_value_fields_in_and_tensor_content_out(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
) -> None:
    def dims(*sizes: int) -> tensor_shape_pb2.TensorShapeProto:
        return tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=s) for s in sizes]
        )

    a = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=dims(2, 2), float_val=[1.5])
    b = tensor_pb2.TensorProto(dtype=types_pb2.DT_INT64, tensor_shape=dims(2), int64_val=[1, 2])
    response = stub.Predict(predict_request("multi_io", a=a, b=b), timeout=TIMEOUT)
    total = response.outputs["sum"]
    assert total.dtype == types_pb2.DT_FLOAT
    assert total.tensor_content and not total.float_val
    assert [d.size for d in total.tensor_shape.dim] == [2]
    np.testing.assert_array_equal(tf.make_ndarray(total), [4.0, 5.0])  # 1.5 repeats to fill
