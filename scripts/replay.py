#!/usr/bin/env python3
"""Replay a bundle of ConfigMgr logs into a folder as the hosts would write them, for `cmtrace-rs watch`.

Every log under BUNDLE (CMTrace `<![LOG[...]LOG]!><...>` records, server-format records ending with their
`$$<Component><time><thread=..>` line, other lines one by one) is cut into records; all the records of all
the files are written into TARGET, under the same relative paths, in the order of their UTC time (local time
plus the bias each line gives; a record without a time keeps the time of the one before it), at the pace
the times give divided by --speed, each wait at most --max-gap seconds. A file and its folders are created
when its first record is written (a host folder, or CcmAad.log, appearing after the watch started). Files
keep their encoding (a UTF-16 log is written as UTF-16, its byte order mark first).

As ConfigMgr's writers do, records are appended in bursts: every --split-every'th record is cut in two
writes with a short pause between them (a record split across two writes), and --roll NAME rolls the file
NAME over halfway through its records: it is renamed to NAME.lo_ (or NAME-YYYYMMDD-HHMMSS.log with
--roll-style stamp) and the rest is written to a new NAME. --truncate NAME empties NAME once, halfway, and
goes on writing it from its start (what was written before is lost, as on a real truncation).

    python3 scripts/replay.py fixtures/demo/case-1234 /tmp/live --speed 60
    cmtrace-rs watch /tmp/live          # in another terminal, started before or after

Exit status 0 when every record was written; 2 on a bad argument.
"""

import argparse
import datetime
import os
import re
import sys
import time

CM_TIME = re.compile(rb'time="(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?([+-]\d+)?"\s+date="(\d{1,2})-(\d{1,2})-(\d{4})"')
SMS_TRAILER = re.compile(r"\$\$<[^>]*><(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([+-]\d+)?><thread=[^>]*>\s*$")
LOG_NAME = re.compile(r"(?i)\.(log|lo_|log\.\d+)$")


def decode(data):
    """The text of a log file and its encoding (name, byte order mark)."""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", "replace"), ("utf-16-le", b"\xff\xfe")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace"), ("utf-16-be", b"\xfe\xff")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), ("utf-8", b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), ("utf-8", b"")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), ("cp1252", b"")


def utc_of(local, bias):
    return local + datetime.timedelta(minutes=bias) if bias is not None else local


def cm_time(record):
    m = CM_TIME.search(record.encode("utf-8", "replace"))
    if not m:
        return None
    hh, mm, ss, frac, bias, mo, dd, yyyy = m.groups()
    try:
        local = datetime.datetime(int(yyyy), int(mo), int(dd), int(hh), int(mm), int(ss),
                                  int((frac or b"0")[:6].ljust(6, b"0")))
    except ValueError:
        return None
    return utc_of(local, int(bias) if bias else None)


def sms_time(line):
    m = SMS_TRAILER.search(line.rstrip("\r\n"))
    if not m:
        return None
    mo, dd, yyyy, hh, mm, ss, frac, bias = m.groups()
    try:
        local = datetime.datetime(int(yyyy), int(mo), int(dd), int(hh), int(mm), int(ss),
                                  int((frac or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    return utc_of(local, int(bias) if bias else None)


def records(text):
    """The records of a log's text, each with its UTC time (or None), in file order."""
    lines = text.splitlines(keepends=True)
    if "<![LOG[" in text[:65536]:
        out, current = [], ""
        for line in lines:
            if line.lstrip("\ufeff").startswith("<![LOG[") and current:
                out.append(current)
                current = ""
            current += line
        if current:
            out.append(current)
        return [(r, cm_time(r)) for r in out]
    if SMS_TRAILER.search(text[:65536].split("\n", 1)[0]) or "><thread=" in text[:65536]:
        out, current = [], ""
        for line in lines:
            current += line
            t = sms_time(line)
            if t is not None:
                out.append((current, t))
                current = ""
        if current:
            out.append((current, None))
        return out
    return [(line, None) for line in lines]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", help="a folder of collected logs (fixtures/demo/case-1234, fixtures/bundles/*)")
    ap.add_argument("target", help="the folder to write into (created if needed)")
    ap.add_argument("--speed", type=float, default=1.0, help="how many times faster than the logs' own pace")
    ap.add_argument("--max-gap", type=float, default=5.0, help="the longest wait between two writes, in seconds")
    ap.add_argument("--split-every", type=int, default=3, help="cut every Nth record in two writes (0: never)")
    ap.add_argument("--split-pause", type=float, default=0.05, help="seconds between the two writes of a cut record")
    ap.add_argument("--roll", action="append", default=[], metavar="NAME", help="roll this file name over halfway")
    ap.add_argument("--roll-style", choices=["lo_", "stamp"], default="lo_")
    ap.add_argument("--truncate", action="append", default=[], metavar="NAME", help="truncate this file name halfway")
    ap.add_argument("-v", "--verbose", action="store_true", help="say each write on stderr")
    args = ap.parse_args()
    if args.speed <= 0 or args.max_gap < 0 or args.split_every < 0:
        ap.error("--speed must be positive, --max-gap and --split-every not negative")
    if not os.path.isdir(args.bundle):
        ap.error(f"{args.bundle}: not a folder")

    files = []  # (relative path, encoding, records)
    for root, _, names in os.walk(args.bundle):
        for name in sorted(names):
            if not LOG_NAME.search(name):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                text, encoding = decode(f.read())
            files.append((os.path.relpath(path, args.bundle), encoding, records(text)))
    files.sort()

    # Every record with its file, UTC time (carried over from the record before when it has none) and rank.
    timeline = []
    for fi, (rel, encoding, recs) in enumerate(files):
        last = None
        for ri, (text, t) in enumerate(recs):
            last = t if t is not None else last
            timeline.append((last or datetime.datetime.min, fi, ri, text))
    timeline.sort(key=lambda r: (r[0], r[1], r[2]))

    written = {}  # file index -> records written
    rolled = set()
    truncated = set()
    previous = None
    n = 0
    for t, fi, ri, text in timeline:
        rel, (codec, bom), recs = files[fi]
        if previous is not None and t != datetime.datetime.min and previous != datetime.datetime.min:
            wait = min((t - previous).total_seconds() / args.speed, args.max_gap)
            if wait > 0:
                time.sleep(wait)
        if t != datetime.datetime.min:
            previous = t
        target = os.path.join(args.target, rel)
        name = os.path.basename(rel)
        count = written.get(fi, 0)
        half = len(recs) // 2
        if name in args.roll and fi not in rolled and count == half and count > 0:
            rolled.add(fi)
            stem = name[:-4] if name.lower().endswith(".log") else name
            stamp = (t if t != datetime.datetime.min else datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
            new_name = stem + (".lo_" if args.roll_style == "lo_" else f"-{stamp}.log")
            os.replace(target, os.path.join(os.path.dirname(target), new_name))
            if args.verbose:
                print(f"rolled {rel} over to {new_name}", file=sys.stderr)
        if name in args.truncate and fi not in truncated and count == half and count > 0:
            truncated.add(fi)
            with open(target, "r+b") as f:
                f.truncate(0)
            if args.verbose:
                print(f"truncated {rel}", file=sys.stderr)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        data = text.encode(codec, "replace")
        if not os.path.exists(target) or os.path.getsize(target) == 0:
            data = bom + data
        n += 1
        cut = 0
        if args.split_every and n % args.split_every == 0 and len(data) > 8:
            cut = len(data) // 2
            if codec.startswith("utf-16"):
                cut -= cut % 2
        with open(target, "ab") as f:
            if cut:
                f.write(data[:cut])
                f.flush()
                time.sleep(args.split_pause)
                f.write(data[cut:])
            else:
                f.write(data)
        written[fi] = count + 1
        if args.verbose:
            print(f"{t.isoformat()} {rel}:{ri + 1}{' (in two writes)' if cut else ''}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
