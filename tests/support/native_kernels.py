"""Kernels for tests/test_native.py: fast/native.py builds the first two
and must refuse the others, which allocate or can raise."""
import numpy as np


def scale(a, k, out):
    for i in range(a.shape[0]):
        out[i] = a[i] * k
    return a.shape[0]


def total(m, flags):
    s = 0
    for i in range(m.shape[0]):
        if flags[i]:
            for j in range(m.shape[1]):
                s += m[i, j]
    return s


def allocates(a):
    b = np.empty(a.shape[0], np.int64)
    for i in range(a.shape[0]):
        b[i] = a[i]
    return b[0]


def raises(a):
    if a[0] < 0:
        raise ValueError("negative")
    return a[0]
