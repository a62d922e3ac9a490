#!/usr/bin/env python3
"""Check each golden book file against its input without running bflw.

Run from the repository root: python3 scripts/golden/check_counts.py

bflw's historic generator yields, after every input line, one book for every
market it has seen so far (in first-seen order), and nothing while it has
seen none. So a golden file must have sum over lines of (markets seen so far)
lines, with exactly that sequence of marketIds. A mismatch means the golden is
stale or was made some other way.
"""
import bz2
import glob
import json
import os
import subprocess
import sys

ROOT = "testdata"


def input_for(base):
    for p in ("tapes/" + base, "tapes/" + base + ".bz2", "messages/" + base + ".jsonl"):
        p = os.path.join(ROOT, p)
        if os.path.exists(p):
            return p
    return None


def read_lines(path):
    opener = bz2.open if path.endswith(".bz2") else open
    with opener(path, "rt") as f:
        return f.read().splitlines()


def main():
    bad = 0
    for g in sorted(glob.glob(os.path.join(ROOT, "golden/books/*.jsonl.zst"))):
        name = os.path.basename(g)[: -len(".jsonl.zst")]
        base = name.replace(".calctv", "").replace(".cumulative", "")
        path = input_for(base)
        if path is None:
            print("%s: no input found" % name)
            bad += 1
            continue
        lines = read_lines(path)
        seen, want = [], []
        for line in lines:
            try:
                msg = json.loads(line)
            except ValueError:
                msg = {}  # bflw logs and still yields the cache
            if msg.get("op") == "mcm":
                for mc in msg.get("mc", []):
                    if mc["id"] not in seen:
                        seen.append(mc["id"])
            want.extend(seen)
        out = subprocess.run(["zstd", "-dc", g], check=True, capture_output=True, text=True).stdout
        got = [json.loads(l)["marketId"] for l in out.splitlines()]
        ok = got == want
        bad += not ok
        print("%-45s input_lines=%5d markets=%3d golden_lines=%5d expected=%5d %s"
              % (name, len(lines), len(seen), len(got), len(want), "OK" if ok else "MISMATCH"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
