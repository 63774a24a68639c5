"""Command-line option types and the options several commands share.
Each type raises argparse.ArgumentTypeError, which the parser turns into a
one-line error and exit 2."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from paxcheck.errors import PaxError
from paxcheck.search.api import ENGINES


def workers_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="threads that expand states (fast engine; default: every core)")


def engine_option(p: argparse.ArgumentParser, default: str = "fast") -> None:
    p.add_argument("--engine", choices=ENGINES, default=default,
                   help="fast: compiled to machine code, compressed state store (default); "
                        "python: per-state generated Python; reference: the tree-walking "
                        "evaluator (slow, the oracle)")


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = low - 1
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return v


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "0 or more")


def memory(text: str) -> int:
    """Bytes, from e.g. 2G, 512M or a bare number of megabytes."""
    t = text.strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    mult = 1 << 20
    if t and t[-1] in scale:
        mult, t = scale[t[-1]], t[:-1]
    try:
        v = float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 2G or 512M, got {text!r}") \
            from None
    if not math.isfinite(v) or v <= 0 or v * mult > 1 << 62:
        raise argparse.ArgumentTypeError(f"expected a positive finite size, got {text!r}")
    return int(v * mult)


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v


def write_output(path: str | Path, text: str) -> None:
    """Write an output file the user named; a path that cannot be written
    is a user error that names the file."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PaxError(f"cannot write {path}: {exc.strerror or exc}",
                       expected="a path in an existing, writable folder") from None


def output_dir(path: str | Path) -> Path:
    """Make (if needed) an output folder the user named."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PaxError(f"cannot make the folder {path}: {exc.strerror or exc}",
                       expected="a folder path (not an existing file)") from None
    return out
