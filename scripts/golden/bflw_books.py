#!/usr/bin/env python3
"""Write betfairlightweight's lightweight market books for one stream file.

This produces the golden files in testdata/golden/books/ that tapedeck's
`convert books` is compared against. It runs betfairlightweight (bflw), the
community's reference client, exactly as a user replaying historic data would,
and writes every market book it yields as one JSON line, in yield order.

Getting bflw (it is NOT vendored in this repository, and must not be):

    git clone https://github.com/betcode-org/betfair /tmp/bflw
    # or, from a bare mirror:  git --git-dir=<mirror> archive HEAD | tar x -C /tmp/bflw
    pip install requests orjson          # bflw's imports; anything else it
                                         # asks for can be stubbed in a /tmp dir
    PYTHONPATH=/tmp/bflw python3 scripts/golden/bflw_books.py INPUT [-o OUT]

testdata/golden/README.md records the bflw commit and version the committed
goldens were made with; use the same ones to reproduce them byte for byte.

INPUT is a plain file or a .bz2 / .gz file with one stream message per line.
bflw's HistoricalGeneratorStream opens its path with open(path, "r") and so
reads only plain text: compressed input is decompressed to a temporary file
first, which changes nothing else.

Options --calculate-market-tv and --cumulative-runner-tv set the
StreamListener options of the same names (both off by default, as in bflw).
"""
import argparse
import bz2
import gzip
import json
import os
import shutil
import sys
import tempfile


def plain_copy(path):
    """Return (plain_path, is_temp): a path bflw can open as text."""
    if path.endswith(".bz2"):
        opener = bz2.open
    elif path.endswith(".gz"):
        opener = gzip.open
    else:
        return path, False
    fd, tmp = tempfile.mkstemp(prefix="bflw_books_", suffix=".txt")
    with os.fdopen(fd, "wb") as out, opener(path, "rb") as src:
        shutil.copyfileobj(src, out)
    return tmp, True


def books(path, calculate_market_tv, cumulative_runner_tv):
    """Yield each lightweight market book dict bflw produces for path."""
    # Imported here so --help works without bflw on PYTHONPATH.
    import betfairlightweight
    from betfairlightweight.streaming import StreamListener

    trading = betfairlightweight.APIClient("u", "p", "k")
    listener = StreamListener(
        lightweight=True,
        # None skips bflw's latency check (time.time() - pt), which only logs
        # a warning for every historic line and never changes a book.
        max_latency=None,
        calculate_market_tv=calculate_market_tv,
        cumulative_runner_tv=cumulative_runner_tv,
    )
    stream = trading.streaming.create_historical_generator_stream(
        file_path=path, listener=listener
    )
    for market_books in stream.get_generator()():
        for book in market_books:
            yield book


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="stream file: plain, .bz2 or .gz")
    ap.add_argument("-o", "--output", help="output file (default stdout)")
    ap.add_argument("--calculate-market-tv", action="store_true",
                    help="StreamListener(calculate_market_tv=True)")
    ap.add_argument("--cumulative-runner-tv", action="store_true",
                    help="StreamListener(cumulative_runner_tv=True)")
    args = ap.parse_args(argv)

    path, is_temp = plain_copy(args.input)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    n = 0
    try:
        for book in books(path, args.calculate_market_tv, args.cumulative_runner_tv):
            out.write(json.dumps(book))
            out.write("\n")
            n += 1
    finally:
        if args.output:
            out.close()
        if is_temp:
            os.remove(path)
    print("%s: %d market books" % (args.input, n), file=sys.stderr)


if __name__ == "__main__":
    main()
