#!/usr/bin/env python3
# Fits R in log1p(e) ~ e + e^2 R(e) on [0, 1] for assembly/math/log.ts's log1pUnit, and
# measures the f32 result's error against float64 log1p over every 7th f32 in [2^-40, 1],
# evaluated as the kernel does (two halves of R side by side), with and without fused multiply-adds.
# Prints the constants in log.ts's format. Needs numpy; npm test does not run it.
#
#   python3 scripts/fit-log1p.py [degree]      (default 7)
#
# The fit is least squares on a dense grid, reweighted toward the largest errors (Lawson's
# iteration toward the minimax polynomial), on the error that matters: that of e + e^2 R(e)
# relative to log1p(e), e^2 dR / log1p(e).

import struct
import sys

import numpy as np

f32 = np.float32


def fit(degree, iterations=60):
    e = np.linspace(0, 1, 20001)[1:]
    target = (np.log1p(e) - e) / e**2
    weight = e**2 / np.log1p(e)
    powers = np.vander(e, degree + 1, increasing=True)
    lawson = np.ones_like(e)
    for _ in range(iterations):
        w = np.sqrt(lawson) * weight
        coefficients, *_ = np.linalg.lstsq(powers * w[:, None], target * w, rcond=None)
        error = np.abs((powers @ coefficients - target) * weight)
        lawson *= error
        lawson /= lawson.sum()
    return [f32(c) for c in coefficients]


def two_halves(coefficients, e, e4, madd):
    """R(e) as log1pUnit evaluates it: its low and high halves by Horner, side by side, joined by e^4."""
    half = len(coefficients) // 2

    def horner(cs):
        r = np.full_like(e, cs[-1])
        for c in reversed(cs[:-1]):
            r = madd(r, e, c)
        return r

    return madd(horner(coefficients[half:]), e4, horner(coefficients[:half]))


def worst_ulp(coefficients, fused):
    low, high = f32(2**-40).view(np.int32), f32(1).view(np.int32)
    e = np.arange(low, high + 1, 7, dtype=np.int32).view(f32)
    madd = (lambda a, b, c: (a.astype(np.float64) * b + c).astype(f32)) if fused else (lambda a, b, c: (a * b).astype(f32) + c)
    e2 = (e * e).astype(f32)
    r = two_halves(coefficients, e, (e2 * e2).astype(f32), madd)
    y = madd(e2, r, e)
    exact = np.log1p(e.astype(np.float64))
    return np.max(np.abs(y - exact) / np.spacing(exact.astype(f32)).astype(np.float64))


def hex_float(x):
    bits = struct.unpack('<I', struct.pack('<f', x))[0]
    sign = '-' if bits >> 31 else ''
    exponent = ((bits >> 23) & 0xFF) - 127
    return bits, f'{sign}0x1.{(bits & 0x7FFFFF) << 1:06X}p{exponent}'


degree = int(sys.argv[1]) if len(sys.argv) > 1 else 7
coefficients = fit(degree)
print(f'// degree {degree}: at most {worst_ulp(coefficients, False):.2f} ulp, {worst_ulp(coefficients, True):.2f} fused')
for k, c in enumerate(coefficients):
    bits, text = hex_float(c)
    print(f'// @ts-ignore: decorator\n@inline const R{k}: f32 = reinterpret<f32>(0x{bits:08X});{" " * 12}// {text} = {float(c):.9g}')
