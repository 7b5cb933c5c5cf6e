#!/usr/bin/env python3
"""benches/inflaters.py — which gzip inflater is fastest on this machine's CloudTrail files.

Usage:  pip install deflate isal
        python3 benches/inflaters.py [DIR [FILES [ROUNDS]]]
        (defaults: target/bench-archive, 300 files, 5 rounds)

Reads the first FILES `*.json.gz` delivery files under DIR (sorted by path) into memory, then
inflates all of them in memory, one thread, with each library: libdeflate (PyPI `deflate`,
the library trailscan's floor uses, through the `libdeflater` crate), Intel ISA-L (PyPI
`isal`, two ways) and the system zlib (Python's `zlib`). Prints the best of ROUNDS per library,
in seconds and GB/s of inflated JSON. Files are read once, before timing, so the disk and
page cache take no part; the Python call is one per file, a few microseconds against the
hundreds each file takes to inflate.

The floor in BENCHMARKS.md is trailscan's own reader with libdeflate; this script is the
evidence that no other inflater available here would lower it.
"""

import glob
import os
import sys
import time
import zlib


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "target/bench-archive"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    pattern = os.path.join(root, "**", "CloudTrail", "**", "*.json.gz")
    files = sorted(glob.glob(pattern, recursive=True))[:count]
    if not files:
        print(f"inflaters.py: no CloudTrail *.json.gz under {root}", file=sys.stderr)
        return 2
    blobs = []
    for f in files:
        with open(f, "rb") as fh:
            blobs.append(fh.read())
    packed = sum(map(len, blobs))

    libs = []
    try:
        import deflate

        libs.append((f"libdeflate (PyPI deflate {deflate.__version__})", deflate.gzip_decompress))
    except ImportError:
        print("inflaters.py: skipping libdeflate: pip install deflate", file=sys.stderr)
    try:
        import isal
        import isal.igzip
        import isal.isal_zlib as iz

        # Two ways in: igzip's own, and zlib's with the output buffer sized up front.
        name = f"ISA-L igzip.decompress (PyPI isal {isal.__version__})"
        libs.append((name, isal.igzip.decompress))
        sized = lambda b: iz.decompress(b, 31, 8 * len(b))  # noqa: E731
        libs.append(("ISA-L isal_zlib.decompress, 8x buffer", sized))
    except ImportError:
        print("inflaters.py: skipping ISA-L: pip install isal", file=sys.stderr)
    libs.append(("zlib (system, Python's zlib module)", lambda b: zlib.decompress(b, 31)))

    want = None
    print(f"{len(files)} files, {packed / 1e6:.1f} MB compressed, best of {rounds} rounds:")
    for name, inflate in libs:
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            out = sum(len(inflate(b)) for b in blobs)
            best = min(best, time.perf_counter() - start)
        if want is None:
            want = out
        elif out != want:
            print(f"inflaters.py: {name} inflated {out} bytes, not {want}", file=sys.stderr)
            return 2
        print(f"  {name:50s} {best:7.3f} s  {out / best / 1e9:5.2f} GB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
