"""fast/native.py: numba-compiled kernels built once into the kernel cache
and run without numba."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paxcheck.search.fast import llvm as fastllvm
from paxcheck.search.fast import native

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAXCHECK_KERNEL_CACHE", str(tmp_path))
    return tmp_path


def test_kernels_compute_and_are_cached(cache: Path) -> None:
    sigs = {"scale": "i8(i8[:], i8, i8[:])", "total": "i8(u4[:,:], b1[:])"}
    k = native.library("support.native_kernels", sigs)
    a = np.arange(5, dtype=np.int64)
    out = np.zeros(5, np.int64)
    assert k.scale(a, 3, out) == 5
    assert out.tolist() == [0, 3, 6, 9, 12]
    m = np.arange(12, dtype=np.uint32).reshape(4, 3)
    flags = np.array([True, False, True, False])
    assert k.total(m, flags) == (0 + 1 + 2) + (6 + 7 + 8)
    assert len(list(cache.glob("*.o"))) == 1
    again = native.library("support.native_kernels", sigs)   # from the cache
    assert again.scale(a, -1, out) == 5 and out.tolist() == [0, -1, -2, -3, -4]
    assert len(list(cache.glob("*.o"))) == 1


def test_arguments_are_checked(cache: Path) -> None:
    k = native.library("support.native_kernels", {"scale": "i8(i8[:], i8, i8[:])"})
    a = np.arange(6, dtype=np.int64)
    with pytest.raises(TypeError, match="C-contiguous 1-d int64"):
        k.scale(a.astype(np.int32), 2, np.zeros(6, np.int64))
    with pytest.raises(TypeError, match="strided"):
        k.scale(a[::2], 2, np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="takes 3 arguments"):
        k.scale(a, 2)


@pytest.mark.parametrize("name, sig", [("allocates", "i8(i8[:])"), ("raises", "i8(i8[:])")])
def test_a_kernel_that_allocates_or_raises_is_refused(cache: Path, name: str, sig: str) -> None:
    with pytest.raises(AssertionError, match="call outside themselves"):
        native.library("support.native_kernels", {name: sig})
    assert not list(cache.glob("*.o"))


def test_a_small_check_runs_without_numba() -> None:
    """The point of native kernels: once built, a check never imports
    numba: its store, and the liveness check's graph algorithms (paxos.toml
    has more edges than COMPILE_ABOVE). The first run may build them, in
    the kernel cache the rest of the suite uses."""
    if fastllvm.cache_dir() is None:
        pytest.skip("the kernel cache is off")
    script = ("import sys\nfrom paxcheck.cli import main\n"
              "rc = main(['check', 'models/paxos.toml', '--no-progress'])\n"
              "print('numba' in sys.modules, rc)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600) for _ in range(2)]
    last = runs[1].stdout.strip().splitlines()[-1]
    assert last == "False 0", runs[1].stdout + runs[1].stderr
