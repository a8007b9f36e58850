"""The bulk float formatter gives exactly the per-value text of `array_text`."""

import numpy as np
import pytest

from sagemaker_tensorflow_runtime.serving.modelserver.json_format import array_text
from sagemaker_tensorflow_runtime.serving.tensors.float_text import float_array_text

SPECIAL = [
    np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e6, -1e6, 999999.0, 999999.5, 1e-5, 1e-4,
    123456.0, 1234567.0, 16777217.0, 0.1, 0.1234567, 3.4028235e38, 1e-45, 2.5, -3.0, 1e9 - 1,
    123456789.0, 1e16, 1e17, 123456789012345678.0, 2.0**60, 5e-324, 1e300,
]  # fmt: skip
RNG = np.random.default_rng(6)


def cast(values: list[float], dtype: type) -> np.ndarray:
    with np.errstate(over="ignore"):  # 1e300 and friends become infinities
        return np.array(values, dtype)


SCALES = RNG.choice([1e-30, 1e-8, 1e-3, 1.0, 1e3, 1e7, 1e30], 5000)


@pytest.mark.parametrize(
    "array",
    [
        cast(SPECIAL, np.float32),
        np.array(SPECIAL, np.float64),
        cast(SPECIAL[:12], np.float16),
        np.array([1.0, 2.0, 5.0, 0.0] * 100, np.float32) * np.float32(0.5) + np.float32(3),
        (RNG.standard_normal(5000) * SCALES).astype(np.float32),
        RNG.standard_normal(5000) * SCALES,
        RNG.integers(-(10**7), 10**7, 5000).astype(np.float32),
        RNG.integers(-(10**17), 10**17, 5000).astype(np.float64),
        RNG.integers(0, 2**32, 5000, dtype=np.uint32).view(np.float32),
        RNG.random((3, 4, 5)).astype(np.float32),
        RNG.random((2, 100)).astype(np.float32),
        np.arange(-200, 200, dtype=np.float32).reshape(2, 5, 40) / 4,
        np.zeros((2, 0), np.float32),
        np.zeros((0, 3)),
        np.array([7.0]),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_same_text_as_value_by_value(array: np.ndarray) -> None:
    with np.errstate(all="ignore"):
        assert float_array_text(array) == array_text(array)


def _six_digit_neighbours(count: int) -> np.ndarray:
    """float32 values at and next to short decimals (where `%g` just does or does not read
    back), across the whole exponent range: the hard cases of the up-front read-back test."""
    digits = RNG.integers(100_000, 1_000_000, count).astype(np.float64)
    exponents = RNG.integers(-45, 39, count).astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        centre = (digits * 10.0 ** (exponents - 5)).astype(np.float32)
        below = np.nextafter(centre, np.float32(0))
        above = np.nextafter(centre, np.float32(np.inf))
    values = np.concatenate([centre, below, above])
    return values[np.isfinite(values)]


@pytest.mark.parametrize(
    "array",
    [
        _six_digit_neighbours(20_000),
        RNG.integers(0, 2**32, 60_000, dtype=np.uint32).view(np.float32),
        (RNG.random(20_000) * 2e6).round(1).astype(np.float32),  # ties like 1234565.0 / 10
        np.float32(10.0) ** np.arange(-45, 39, dtype=np.float32),
        # short binary fractions (12345.5, 0.0009765625...): exact ties at 6 and at 9 digits
        (RNG.integers(1, 2**24, 60_000) / 2.0 ** RNG.integers(0, 30, 60_000)).astype(np.float32),
    ],
    ids=["six-digit-neighbours", "random-bits", "tenths", "powers-of-ten", "binary-fractions"],
)
def test_float32_bulk_text_matches_per_value_text(array: np.ndarray) -> None:
    with np.errstate(all="ignore"):
        assert float_array_text(array) == array_text(array)


def test_no_float32_equals_a_rounded_negative_power_of_ten() -> None:
    """The exponent of a float32 is found by comparing with float64 powers of ten, which for
    negative powers are rounded: no float32 may coincide with one (else the compare errs)."""
    powers = np.array([10.0**-k for k in range(1, 50)])
    assert not np.any(powers.astype(np.float32).astype(np.float64) == powers)


def test_float32_answers_spanning_several_chunks_with_exponent_values_spliced_in() -> None:
    """The orjson path works in chunks of values and splices in `%`-formatted texts for
    values outside [1e-4, 1e6) (and NaN, infinities): both across chunk boundaries."""
    values = (RNG.random(100_000) * 100).astype(np.float32)
    odd = RNG.choice(values.size, 300, replace=False)
    values[odd] = RNG.choice(
        np.array([1e-7, 3e9, np.nan, -np.inf, 9.9999997e-5, 1e6], np.float32), 300
    )
    values[:3] = [0.0, -0.0, 1e-4]
    array = values.reshape(4, 25_000)
    with np.errstate(all="ignore"):
        assert float_array_text(array) == array_text(array)
