#!/usr/bin/env python3
"""Write a Betfair stream message file as a one-message-per-line tape.

Usage: minify_messages.py SRC DST.jsonl

SRC holds one pretty-printed JSON object, a JSON list of objects, or
newline-delimited objects. Each message is written on its own line with only
the whitespace between tokens removed: the characters of every string and
number are copied as they are, never decoded and re-encoded, so the tape holds
exactly the message the source published. The result is checked by parsing
both sides and comparing.
"""
import json
import sys


def strip_ws(text):
    """Return text without whitespace outside JSON string literals."""
    out = []
    in_str = False
    esc = False
    for ch in text:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif ch not in " \t\r\n":
            out.append(ch)
    return "".join(out)


def split_top_level_list(text):
    """Split a minified JSON array into the raw text of its elements."""
    assert text[0] == "[" and text[-1] == "]"
    items, depth, start, in_str, esc = [], 0, 1, False, False
    for i, ch in enumerate(text[1:-1], start=1):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if start < len(text) - 1:
        items.append(text[start:-1])
    return items


def messages(raw):
    try:
        json.loads(raw)
    except ValueError:
        # newline-delimited: one message per non-blank line
        return [strip_ws(line) for line in raw.splitlines() if line.strip()]
    mini = strip_ws(raw)
    if mini.startswith("["):
        return split_top_level_list(mini)
    return [mini]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        raw = f.read()
    lines = messages(raw)
    try:
        want = json.loads(raw)
        want = want if isinstance(want, list) else [want]
    except ValueError:
        want = [json.loads(l) for l in raw.splitlines() if l.strip()]
    got = [json.loads(l) for l in lines]
    if got != want:
        sys.exit("%s: minified messages differ from the source" % src)
    with open(dst, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    print("%s -> %s: %d messages" % (src, dst, len(lines)))


if __name__ == "__main__":
    main()
