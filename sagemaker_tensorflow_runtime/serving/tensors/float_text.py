"""Float arrays as TF Serving's JSON text, formatted in bulk (serving.md §12.3).

The same text as `modelserver.json_format.array_text` gives value by value — `%g` when it
reads back as the same float32 (float64: the same double), else `%.9g` (`%.17g`); integral
texts keep a `.0`; NaN and infinities as JSON-5 tokens — without a Python call per value (a
753,936-value answer took ~0.9 s that way).

float32 (what models answer): each value is rounded to 6 or 9 significant digits in float64
arithmetic, and orjson prints the nearest doubles to those decimals — its shortest round-trip
text of such a double is exactly the decimal, so within [1e-4, 1e6), where `%g` prints no
exponent either, the texts are `%g`'s (~4x faster than `%` formatting). Values outside that
range, NaN and infinities, and other float types go through one `%`-format call for the whole
array with each value's format chosen up front.
"""

import numpy as np
import orjson

_NON_FINITE = (("-nan", "NaN"), ("nan", "NaN"), ("inf", "Infinity"))
_ROW_BY_ROW = 64  # rows at least this long are formatted one by one, without a split
_WIDTH = 10  # every format padded to this width with no-op `-` flags: no NULs to strip
_POW10 = np.array([10.0**k for k in range(-64, 65)])  # _POW10[64 + k] = 10**k; float32 needs ±52


def _spec(text: bytes) -> bytes:
    return b"%" + b"-" * (_WIDTH - len(text)) + text[1:]


SHORT, SHORT_INTEGRAL = _spec(b"%g, "), _spec(b"%g.0, ")
PRECISE = {4: (_spec(b"%.9g, "), _spec(b"%.9g.0, ")), 8: (_spec(b"%.17g, "), _spec(b"%.17g.0, "))}


_PLAIN_LOW = np.nextafter(np.float32(1e-4), np.float32(1))  # the least float32 >= 1e-4
_PLAIN_HIGH = np.float32(1e6)  # exact in float32
_CHUNK = 1 << 15  # values per numpy pass: the float64 temporaries stay in the CPU's cache


def _float32_array_text(array: np.ndarray) -> str:
    """`float_array_text` of a non-empty float32 array, through orjson."""
    flat = array.reshape(-1)
    with np.errstate(all="ignore"):
        magnitude = np.abs(flat)
        plain = ((magnitude >= _PLAIN_LOW) & (magnitude < _PLAIN_HIGH)) | (magnitude == 0)
    if np.count_nonzero(plain) < flat.size // 2:  # mostly exponents: no gain in splicing
        return _formatted_array_text(array)
    chosen = np.empty(flat.size, np.float64)
    for start in range(0, flat.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        _decimals(flat[part], magnitude[part], plain[part], chosen[part])
    text = orjson.dumps(chosen.reshape(array.shape), option=orjson.OPT_SERIALIZE_NUMPY)
    text = text.replace(b",", b", ")
    if not plain.all():
        parts: list[bytes] = text.split(b"null")
        others = float_texts(flat[~plain]).encode("ascii").split(b", ")
        spliced = [b""] * (len(parts) + len(others))
        spliced[0::2], spliced[1::2] = parts, others
        text = b"".join(spliced)
    return text.decode("ascii")


def _decimals(
    values: np.ndarray, magnitude32: np.ndarray, plain: np.ndarray, out: np.ndarray
) -> None:
    """Into `out`: per float32 value, the nearest double to its `%g` decimal (6 significant
    digits when that reads back as the same float32, else 9); NaN where it is not plain."""
    with np.errstate(all="ignore"):
        zero = magnitude32 == 0
        magnitude = np.where(plain & ~zero, magnitude32, np.float32(1)).astype(np.float64)
        exponent = _exponent_index(magnitude)
        six = _round_digits(magnitude, exponent, 6)
        short = six.astype(np.float32) == magnitude.astype(np.float32)
        chosen = np.where(short, six, _round_digits(magnitude, exponent, 9))
        chosen[zero] = 0.0
        chosen[~plain] = np.nan  # printed as `null`: replaced by the `%`-formatted text
        np.copysign(chosen, values, out=out)


def _exponent_index(magnitude: np.ndarray) -> np.ndarray:
    """floor(log10(magnitude)) + 64, an index in _POW10, exact at the powers of ten."""
    exponent = np.floor(np.log10(magnitude)).astype(np.int64) + 64
    exponent -= magnitude < _POW10[exponent]
    exponent += magnitude >= _POW10[exponent + 1]
    return exponent


def _round_digits(magnitude: np.ndarray, exponent: np.ndarray, digits: int) -> np.ndarray:
    """Nearest doubles to float32 magnitudes in [1e-4, 1e6) rounded to `digits` (6 or 9)
    significant digits exactly as printf rounds them (half to even).

    Exact, not approximate: the scale 10**k (0 <= k = digits - 1 - e <= 12) is 2**k * 5**k,
    and a 24-bit float32 significand times 5**k (at most 28 bits) fits a double's 53 bits, so
    the product is the exact scaled value and `rint` rounds it as printf does, ties included.
    Dividing the integer by the exact 10**k is then correctly rounded: the nearest double to
    the decimal, which is what reading the `%g` text back as a double gives."""
    scale = _POW10[digits - 1 - exponent + 128]
    return np.rint(magnitude * scale) / scale


def float_texts(array: np.ndarray) -> str:
    """Every value of a float array in C order, joined by `, `."""
    flat = array.reshape(-1)
    if not flat.size:
        return ""
    with np.errstate(invalid="ignore", over="ignore"):
        values = tuple(flat.astype(np.float64).tolist())
        finite = np.isfinite(flat)
        integral = finite & (np.floor(flat) == flat)
    # An integral value below 1e6 prints as a bare integer under %g, which always reads back
    # exactly: it gets its `.0` in the same pass.
    short = integral & (np.abs(flat) < 1e6)
    formats = np.where(short, SHORT_INTEGRAL, SHORT)
    candidates = np.flatnonzero(finite & ~short)
    if flat.dtype == np.float32:
        keep = _short_text_reads_back(flat[candidates])
        redo = candidates[~keep]
    else:
        text = _format(formats, values)
        read_back = np.fromstring(text, sep=",")  # text mode (sep given) is not deprecated
        if flat.dtype != np.float64:
            read_back = read_back.astype(np.float32)
        redo = candidates[read_back[candidates] != flat[candidates]]
        if not redo.size:
            return _tokens(text, finite)
    if redo.size:
        precise, precise_integral = PRECISE.get(flat.dtype.itemsize, PRECISE[4])
        limit = 1e17 if flat.dtype == np.float64 else 1e9
        formats[redo] = np.where(
            integral[redo] & (np.abs(flat[redo]) < limit), precise_integral, precise
        )
    return _tokens(_format(formats, values), finite)


def _tokens(text: str, finite: np.ndarray) -> str:
    if not finite.all():
        for raw, token in _NON_FINITE:
            text = text.replace(raw, token)
    return text


def _short_text_reads_back(flat: np.ndarray) -> np.ndarray:
    """Per finite, non-zero float32 value: does `%g` (6 significant digits) read back as the
    same float32?

    Decided in float64 without formatting: round to 6 digits by scaling with a power of ten,
    scale back and compare in float32. Scaling errs by a few units of 1e-16, so a value whose
    6-digit rounding or read-back sits that close to a boundary is decided by formatting it.
    """
    with np.errstate(all="ignore"):
        magnitude = np.abs(flat.astype(np.float64))
        exponent = _exponent_index(magnitude)
        up = _POW10[133 - exponent]  # 10 ** (5 - e)
        down = _POW10[exponent - 5]  # 10 ** (e - 5)
        scale_up = exponent <= 69  # multiply by an exact power of ten where one exists
        scaled = np.where(scale_up, magnitude * up, magnitude / down)
        digits = np.rint(scaled)
        unsure = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        back = np.where(scale_up, digits / up, digits * down)
        single = magnitude.astype(np.float32)
        below = np.nextafter(single, np.float32(0)).astype(np.float64)
        above = np.nextafter(single, np.float32(np.inf)).astype(np.float64)
        edge = np.minimum(
            np.abs(back - (magnitude + below) / 2), np.abs(back - (magnitude + above) / 2)
        )
        unsure |= edge <= magnitude * 1e-14
        same = back.astype(np.float32) == single
    for index in np.flatnonzero(unsure):
        value = float(flat[index])
        same[index] = np.float32(float(f"{value:g}")) == flat[index]
    return same


def _format(formats: np.ndarray, values: tuple[float, ...]) -> str:
    """One `%` call: the per-value formats (all `_WIDTH` bytes long) joined."""
    return formats.tobytes().decode("ascii")[:-2] % values


def float_array_text(array: np.ndarray) -> str:
    """A float array of rank >= 1 as nested JSON lists, `, ` between items at every level."""
    if array.dtype == np.float32 and array.size:
        return _float32_array_text(array)
    return _formatted_array_text(array)


def _formatted_array_text(array: np.ndarray) -> str:
    """`float_array_text` through `%` formatting."""
    if array.ndim == 1:
        return "[" + float_texts(array) + "]"
    if array.shape[-1] >= _ROW_BY_ROW:
        return "[" + ", ".join(float_array_text(sub) for sub in array) + "]"
    texts = float_texts(array).split(", ") if array.size else []
    return _nest(texts, 0, array.shape)


def _nest(texts: list[str], start: int, shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "[" + ", ".join(texts[start : start + shape[0]]) + "]"
    step = int(np.prod(shape[1:]))
    parts = [_nest(texts, start + i * step, shape[1:]) for i in range(shape[0])]
    return "[" + ", ".join(parts) + "]"
