"""numba-compiled kernels, run without numba.

The state store's kernels and the liveness check's graph algorithms are
numba code (`@njit`). Importing numba and loading its cache costs more than
the whole search of a small model: the import, then the first call, which
builds numba's typing context, whatever the cache holds. So the kernels a
Python caller needs are built once with numba, each behind a C entry point
(a `cfunc` whose array parameters are a pointer and the array's shape), and
kept as one object file in the kernel cache (llvm.py, keyed by the kernels'
module text, numba's version, the LLVM build and the host CPU). A later run
loads that object file with llvmlite, as it loads the successor kernel, and
calls the entry points through ctypes: numba is not imported at all.

What makes a kernel buildable: after the entry points are inlined and the
module is optimised, it must call nothing outside itself but LLVM's
intrinsics. Code that allocates (np.empty: numba's runtime) or can raise
(numba's exception helpers) fails the build with the symbols it needs, so a
kernel takes its working arrays as parameters, and its arithmetic must not
raise. That is checked here, on every build, not assumed.

The numba functions themselves stay callable from other numba code.

A kernel's signature is written like numba's: ``"i8(u8[:,:], i8, b1[:])"``,
result ``i8`` or ``void``; scalars ``i8`` and ``b1``; arrays of ``u8``,
``i8``, ``u4``, ``i4``, ``i2`` or ``b1``, one or two dimensions, which must
be C-contiguous and of exactly that type (checked on every call: a wrong
array would be read as raw memory)."""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from paxcheck.search.fast import llvm as fastllvm

_DTYPES = {"u8": np.uint64, "i8": np.int64, "u4": np.uint32, "i4": np.int32, "i2": np.int16,
           "b1": np.bool_}
_CSCALAR = {"i8": ctypes.c_int64, "b1": ctypes.c_bool}
_SIG = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*$")
_ARG = re.compile(r"^(\w+)(\[:(?:,\s*:)?\])?$")


@dataclass(frozen=True)
class Param:
    code: str    # u8, i8, ...
    ndim: int    # 0 for a scalar

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(_DTYPES[self.code])


@dataclass(frozen=True)
class Signature:
    result: str                  # "i8" or "void"
    params: tuple[Param, ...]

    @staticmethod
    def parse(text: str) -> Signature:
        m = _SIG.match(text)
        assert m and m.group(1) in ("i8", "void"), f"bad kernel signature {text!r}"
        params = []
        for a in _split(m.group(2)):
            am = _ARG.match(a)
            assert am and am.group(1) in _DTYPES, f"bad kernel parameter {a!r} in {text!r}"
            ndim = 0 if am.group(2) is None else am.group(2).count(":")
            assert ndim or am.group(1) in _CSCALAR, f"bad scalar parameter {a!r} in {text!r}"
            params.append(Param(am.group(1), ndim))
        return Signature(m.group(1), tuple(params))


def _split(args: str) -> list[str]:
    """Parameters split at the commas outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in args:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _symbol(entry: str) -> str:
    return "paxcheck_native_" + entry.replace("/", "_")


def library(module: str, kernels: dict[str, str], depends: tuple[str, ...] = ()
            ) -> SimpleNamespace:
    """The kernels of `module` as Python callables with the functions'
    parameters, from the kernel cache when they were built before on this
    machine, else built now (numba compiles them). `kernels` maps an entry
    name to its signature; the entry is the function's name, or
    ``name/variant`` for one more signature of the same function.
    `module`'s functions are numba's (`@njit`) or plain Python, which is
    compiled as is. `depends`: the modules whose text the compiled code also
    depends on (constants it imports)."""
    sigs = {entry: Signature.parse(text) for entry, text in kernels.items()}
    texts = [_source(m) for m in (module, *depends)]
    fastllvm._init()
    key = fastllvm.cache_key(*texts, Path(__file__).read_bytes(),
                             repr(sorted(kernels.items())).encode(), _numba_version())
    code = fastllvm.Compiled(fastllvm.cached_object(key, lambda: _build(module, sigs)))
    return SimpleNamespace(**{entry: _caller(code, entry, sig) for entry, sig in sigs.items()})


def _numba_version() -> bytes:
    """numba's version file, read without importing numba (or
    importlib.metadata, which costs more than the kernels' loading)."""
    return (Path(_origin("numba")).parent / "_version.py").read_bytes()


def _origin(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return spec.origin


def _source(module: str) -> bytes:
    """A module's text, found without importing it."""
    return Path(_origin(module)).read_bytes()


def _caller(code: fastllvm.Compiled, name: str, sig: Signature) -> Callable[..., Any]:
    ctypes_args: list[Any] = []
    for p in sig.params:
        if p.ndim:
            ctypes_args += [ctypes.c_void_p] + [ctypes.c_int64] * p.ndim
        else:
            ctypes_args.append(_CSCALAR[p.code])
    restype = ctypes.c_int64 if sig.result == "i8" else None
    fn = code.function(_symbol(name), restype, ctypes_args)
    params = sig.params

    def call(*args: Any) -> Any:
        if len(args) != len(params):
            raise TypeError(f"{name} takes {len(params)} arguments, got {len(args)}")
        flat: list[Any] = []
        for a, p in zip(args, params):
            if p.ndim:
                if (not isinstance(a, np.ndarray) or a.dtype != p.dtype or a.ndim != p.ndim
                        or not a.flags.c_contiguous):
                    raise TypeError(f"{name}: argument {len(flat)} must be a C-contiguous "
                                    f"{p.ndim}-d {p.dtype} array, not {_describe(a)}")
                flat.append(a.ctypes.data)
                flat.extend(a.shape)
            else:
                flat.append(int(a))
        return fn(*flat)

    call.__name__ = name
    call.code = code   # type: ignore[attr-defined]  # machine code lives as long as its engine
    return call


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        order = "C-contiguous" if a.flags.c_contiguous else "strided"
        return f"a {order} {a.ndim}-d {a.dtype} array"
    return type(a).__name__


# ---- building (numba) -------------------------------------------------------
def _build(module: str, sigs: dict[str, Signature]) -> bytes:
    """One object file with an entry point per kernel: numba compiles each
    as a cfunc; everything but the entry points is made internal, the
    modules are linked into one and optimised, so that the kernels inline
    into their entry points and every exception path numba emits for a
    call that cannot fail folds away."""
    import llvmlite.binding as llvm
    from numba import carray, cfunc, njit, types
    from numba.core.dispatcher import Dispatcher

    nb: dict[str, Any] = {"u8": types.uint64, "i8": types.int64, "u4": types.uint32, "i4": types.int32,
          "i2": types.int16, "b1": types.boolean}
    mod = importlib.import_module(module)
    combined = llvm.parse_assembly("")
    for entry, sig in sigs.items():
        func = getattr(mod, entry.split("/")[0])
        kernel = func if isinstance(func, Dispatcher) else njit(nogil=True)(func)
        params: list[str] = []
        call: list[str] = []
        cparams: list[Any] = []
        for i, p in enumerate(sig.params):
            if p.ndim:
                dims = [f"n{i}_{d}" for d in range(p.ndim)]
                params += [f"p{i}", *dims]
                call.append(f"carray(p{i}, ({', '.join(dims)},))")
                cparams += [types.CPointer(nb[p.code])] + [types.int64] * p.ndim
            else:
                params.append(f"a{i}")
                call.append(f"a{i}")
                cparams.append(nb[p.code])
        ret = "return " if sig.result == "i8" else ""
        source = f"def entry({', '.join(params)}):\n    {ret}kernel({', '.join(call)})\n"
        scope: dict[str, Any] = {"kernel": kernel, "carray": carray}
        exec(compile(source, f"<native entry {entry}>", "exec"), scope)  # our own text
        restype: Any = types.int64 if sig.result == "i8" else types.void
        cf: Any = cfunc(restype(*cparams), error_model="numpy")(scope["entry"])
        part = llvm.parse_bitcode(cf._library._final_module.as_bitcode())
        for fn in part.functions:
            if fn.is_declaration:
                continue
            if fn.name == cf.native_name:
                fn.name = _symbol(entry)
            else:
                fn.linkage = "internal"
        for g in part.global_variables:
            if not g.is_declaration:
                g.linkage = "internal"
        combined.link_in(part)
    tm = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
        opt=2, codemodel="jitdefault")
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=2))
    pb.getModulePassManager().run(combined, pb)
    outside = sorted(f.name for f in combined.functions
                     if f.is_declaration and not f.name.startswith("llvm."))
    outside += sorted(g.name for g in combined.global_variables if g.is_declaration)
    if outside:
        raise AssertionError(f"the kernels of {module} call outside themselves "
                             f"({', '.join(outside)}): a kernel that allocates or can raise "
                             f"cannot run without numba")
    return bytes(tm.emit_object(combined))
