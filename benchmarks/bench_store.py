"""State-store figures (paxcheck/fast/store.py) on real state sets: bytes
per stored state and single-thread insert throughput.

For each model a breadth-first search with the Python engine's compiled
successor function collects the first N distinct states (BFS order) and the
successor rows generated while expanding them, in generation order (the
rows a BFS engine inserts). Measured, best of --repeat runs:

  new     insert the N states into an empty store (growth included)
  dup     insert them again (every row a duplicate)
  stream  insert the successor rows into an empty store: the real mix of
          new and duplicate rows, growth included
  get     decode all states, batch by batch

    python benchmarks/bench_store.py [--model models/paxos_tla_b2.toml ...]
        [--max-states N] [--batch B] [--cache DIR] [--repeat R] [--no-bits]

A model may carry its own limit as model.toml:N. The BFS takes seconds for
paxos_tla_b2 and about a minute for 2 M states of paxos_tla_b3; --cache
keeps its output in .npz files. Times are CPU seconds of this process
(time.process_time), so that other load on the machine distorts them less."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paxcheck.search.fast.store import StateStore  # noqa: E402

DEFAULT_MODELS = ["models/paxos_tla_b1.toml", "models/paxos_tla_b2.toml", "models/paxos.toml",
                  "models/paxos_tla_b3.toml:2000000"]


def bfs(model: str, max_states: int | None) -> dict[str, np.ndarray | int]:
    """BFS with the Python engine: states (BFS order), the successor rows
    of the expanded states (generation order), and the state width."""
    from paxcheck.config.model import load_model
    from paxcheck.ground.ground import ground
    from paxcheck.search.python import PythonKernel
    m = load_model(str(ROOT / model))
    g = ground(m.instances[0])
    ci = PythonKernel(g)
    bits = g.layout.bits
    nbytes = 8 * ((bits + 63) // 64)
    states: list[int] = []
    stream: list[int] = []
    seen: set[int] = set()
    for s in g.initial_states:
        if s not in seen:
            seen.add(s)
            states.append(s)
    succ = ci.successors
    i = 0
    while i < len(states) and (max_states is None or len(states) < max_states):
        for _, t in succ(states[i]):
            stream.append(t)
            if t not in seen:
                seen.add(t)
                states.append(t)
        i += 1
    if max_states is not None:
        del states[max_states:]

    def pack(xs: list[int]) -> np.ndarray:
        buf = b"".join(x.to_bytes(nbytes, "little") for x in xs)
        return np.frombuffer(buf, dtype="<u8").reshape(len(xs), -1).astype(np.uint64)

    return {"states": pack(states), "stream": pack(stream), "bits": bits}


def load(spec: str, max_states: int | None, cache: Path | None) -> tuple[str, dict]:
    model, _, limit = spec.partition(":")
    n = int(limit) if limit else max_states
    name = Path(model).stem + (f":{n}" if n else "")
    path = cache / f"{name.replace(':', '_')}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as z:
            return name, {"states": z["states"], "stream": z["stream"], "bits": int(z["bits"])}
    t0 = time.perf_counter()
    data = bfs(model, n)
    print(f"# {name}: {len(data['states']):,} states, {len(data['stream']):,} successor rows, "
          f"by Python BFS in {time.perf_counter() - t0:.1f} s", flush=True)
    if path is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, **data)
    return name, data


def timed_inserts(make, rows: np.ndarray, batch: int, repeat: int,
                  again: bool = False) -> tuple[float, StateStore]:
    best, store = float("inf"), None
    for _ in range(repeat):
        store = make()
        if again:
            store.insert(rows)
        t0 = time.process_time()
        for i in range(0, len(rows), batch):
            store.insert(rows[i:i + batch])
        best = min(best, time.process_time() - t0)
    return best, store


def measure(data: dict, batch: int, repeat: int, use_bits: bool) -> dict:
    states = np.ascontiguousarray(data["states"])
    stream = np.ascontiguousarray(data["stream"])
    n, w = states.shape
    bits = data["bits"] if use_bits else None

    def make() -> StateStore:
        return StateStore(w, bits=bits)

    warm = make()  # load (or build) the compiled kernels before timing
    warm.insert(states[:100])
    warm.get(0, 1)
    t_new, store = timed_inserts(make, states, batch, repeat)
    t_dup, _ = timed_inserts(make, states, batch, repeat, again=True)
    t_stream, sstore = timed_inserts(make, stream, batch, repeat) if len(stream) else (0.0, None)
    best_get = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for i in range(0, n, batch):
            store.get(i, min(i + batch, n))
        best_get = min(best_get, time.process_time() - t0)
    assert len(store) == n and np.array_equal(store.get(0, n), states)
    return {"states": n, "words": w, "bytes_per_state": store.nbytes / n,
            "new": n / t_new, "dup": n / t_dup, "get": n / best_get,
            "stream_rows": len(stream), "stream": len(stream) / t_stream if t_stream else 0.0,
            "stream_states": len(sstore) if sstore else 0, "tables": store.table_sizes()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", nargs="*", default=DEFAULT_MODELS,
                    help="model files, each optionally with ':MAX_STATES'")
    ap.add_argument("--max-states", type=int, default=None)
    ap.add_argument("--batch", type=int, default=1 << 16)
    ap.add_argument("--cache", type=Path, default=None, help="directory for the BFS output")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-bits", action="store_true",
                    help="do not tell the store the state width (2*words chunks)")
    args = ap.parse_args()
    header = (f"{'model':>24} {'states':>10} {'W':>2} {'B/state':>7} {'new/s':>8} {'dup/s':>8} "
              f"{'get/s':>8} {'stream rows':>12} {'stream/s':>9}  inner tables")
    for spec in args.model:
        name, data = load(spec, args.max_states, args.cache)
        r = measure(data, args.batch, args.repeat, not args.no_bits)
        if header:
            print(header)
            header = ""
        print(f"{name:>24} {r['states']:>10,} {r['words']:>2} {r['bytes_per_state']:>7.2f} "
              f"{r['new'] / 1e6:>7.2f}M {r['dup'] / 1e6:>7.2f}M {r['get'] / 1e6:>7.2f}M "
              f"{r['stream_rows']:>12,} {r['stream'] / 1e6:>8.2f}M  {r['tables'][:-1]}",
              flush=True)


if __name__ == "__main__":
    main()
