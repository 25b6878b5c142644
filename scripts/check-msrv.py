#!/usr/bin/env python3
"""The workspace's `rust-version` must be the oldest Rust the locked dependencies build with: not older than
any of them needs (a promise we cannot keep), not newer than the newest of them needs (a needless demand).
Our own code's use of newer std APIs is clippy's `incompatible_msrv` lint, which reads the same field.
Run from the repository root: python3 scripts/check-msrv.py"""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def show(v):
    return ".".join(str(p) for p in v[:2]) if v[2] == 0 else ".".join(map(str, v))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1"], check=True, capture_output=True, text=True
    ).stdout
)
members = set(meta["workspace_members"])
ours = {p["name"]: p.get("rust_version") for p in meta["packages"] if p["id"] in members}
needs = sorted(
    ((version(p["rust_version"]), f'{p["name"]} {p["version"]}') for p in meta["packages"]
     if p["id"] not in members and p.get("rust_version")),
    reverse=True,
)
problems = [f"{name} declares no rust-version" for name, v in ours.items() if not v]
declared = {version(v) for v in ours.values() if v}
if len(declared) > 1:
    problems.append(f"members disagree on rust-version: {ours}")
top = needs[0][0] if needs else (0, 0, 0)
neediest = [n for v, n in needs if v == top]
for v in declared:
    if v < top:
        problems.append(f"rust-version {show(v)} is older than {show(top)}, which {', '.join(neediest)} need(s)")
    elif v > top:
        problems.append(f"rust-version {show(v)} is newer than any locked dependency needs ({show(top)})")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"rust-version {show(top)}: true to the lockfile ({', '.join(neediest)} need it)")
