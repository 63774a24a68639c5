"""Import every module of the package in a fresh interpreter of its own, so
a module that only imports thanks to another one imported first fails here
(and so does a commit that leaves a dangling import)."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import paxcheck

names = sorted(m.name for m in pkgutil.walk_packages(paxcheck.__path__, "paxcheck.")
               if not m.name.endswith("__main__"))
failed = []
for name in ["paxcheck", *names]:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True)
    if proc.returncode != 0:
        failed.append((name, proc.stderr.strip().splitlines()[-1:]))
for name, err in failed:
    print(f"FAILED import {name}: {err}")
print(f"imported {len(names) + 1 - len(failed)} of {len(names) + 1} modules on their own")
sys.exit(1 if failed else 0)
