#!/usr/bin/env python3
"""Measure `cmtrace-rs watch` following a busy management point: CPU, memory and latency over time.

A temporary folder gets a management point's CCM_STS.log, filled before `watch` starts with --prefill
requests (7 lines each, 5 of them flow events, one device of --devices per request), and a client's
ccmsetup.log. While `watch` follows the folder (its stdout in a pipe: NDJSON), CCM_STS.log grows by --rate
lines a second, in bursts every 100 ms, and is rolled over (renamed to CCM_STS.lo_, a new one started)
every --roll-mb MB, as ConfigMgr does; every second a marker record is appended to ccmsetup.log and the
time until its event line comes out of `watch` is the latency. Every 5 s the process's resident memory
(VmRSS) and CPU time are sampled. At the end: the samples, the latencies (median, 95th percentile, max) and
the analysis times `watch` reported (CMTRACE_TIMING).

    cargo build --release && python3 scripts/watch-soak.py --seconds 300
"""

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TENANT = "2ca9a796-a1a6-43ec-88f1-5935b32155c5"


def cm(message, t, component, thread):
    local = time.gmtime(t)
    ms = int((t % 1) * 1000)
    return (f'<![LOG[{message}]LOG]!><time="{time.strftime("%H:%M:%S", local)}.{ms:03d}+0" '
            f'date="{time.strftime("%m-%d-%Y", local)}" component="{component}" context="" type="1" '
            f'thread="{thread}" file="">\r\n')


def request(i, devices, t):
    """One CCM_STS request block (7 lines, 5 flow events) for device i % devices."""
    d = i % devices
    guid = f"GUID:{d:08X}-08E7-4B38-B282-7E6954B71139"
    aad = f"{d:08x}-0172-4998-9851-b5324303385f"
    th = 1000 + i % 50
    return "".join([
        cm("ProcessRequest - Start", t, "CCM_STS", th),
        cm("Incoming request URL: https://MP01.CONTOSO.COM/CCM_STS", t, "CCM_STS", th),
        cm(f"Validated AAD token. TokenType: Device TenantId: {TENANT} UserId: 00000000-0000-0000-0000-000000000000 "
           f"DeviceId: {aad} OnPrem_UserSid:  OnPrem_DeviceSid:", t, "CCM_STS", th),
        cm("TokenType is Device", t, "CCM_STS", th),
        cm(f"Created SCCM token, token type: Device, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, "
           f"userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: {guid}", t, "CCM_STS", th),
        cm("Issued token", t, "CCM_STS", th),
        cm("Return token to client", t, "CCM_STS", th),
    ])


def proc_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return rss, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="target/release/cmtrace-rs")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--rate", type=int, default=700, help="CCM_STS.log lines a second")
    ap.add_argument("--prefill", type=int, default=6000, help="requests in CCM_STS.log before watch starts")
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--roll-mb", type=float, default=5.0)
    ap.add_argument("--poll", action="store_true", help="run watch with --poll")
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix="watch-soak-")
    mp = os.path.join(root, "MP01", "SMS_CCM", "Logs")
    client = os.path.join(root, "CLIENT01", "Windows", "ccmsetup", "Logs")
    os.makedirs(mp)
    os.makedirs(client)
    sts = os.path.join(mp, "CCM_STS.log")
    t = time.time() - 3600
    with open(sts, "w", newline="") as f:
        for i in range(args.prefill):
            f.write(request(i, args.devices, t + i * 0.5))
    setup = os.path.join(client, "ccmsetup.log")
    with open(setup, "w", newline="") as f:
        f.write(cm("==========[ ccmsetup started in process 1 ]==========", time.time(), "ccmsetup", 1))

    cmd = [args.bin, "watch", root, "--settle", "5"] + (["--poll"] if args.poll else [])
    env = dict(os.environ, CMTRACE_TIMING="1")
    err = open(os.path.join(root, "stderr.txt"), "w")
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True, bufsize=1)
    lines = queue.Queue()

    def read():
        for line in child.stdout:
            lines.put((time.monotonic(), line))
    threading.Thread(target=read, daemon=True).start()

    started = time.monotonic()
    markers = {}  # text -> time written
    latencies = []
    samples = []
    counted = {"lines": 0}
    written = 0
    i = args.prefill
    next_marker = started + 1
    next_sample = started
    pid_n = 100
    while time.monotonic() - started < args.seconds:
        now = time.monotonic()
        # A burst: 100 ms of lines.
        burst = []
        for _ in range(max(1, args.rate // 70)):
            burst.append(request(i, args.devices, time.time()))
            i += 1
        with open(sts, "a", newline="") as f:
            f.write("".join(burst))
        written += 7 * len(burst)
        if os.path.getsize(sts) > args.roll_mb * 1e6:
            os.replace(sts, os.path.join(mp, "CCM_STS.lo_"))
        if now >= next_marker:
            pid_n += 1
            text = f"==========[ ccmsetup started in process {pid_n} ]=========="
            with open(setup, "a", newline="") as f:
                f.write(cm(text, time.time(), "ccmsetup", 1))
            markers[text] = time.monotonic()
            next_marker += 1
        if now >= next_sample:
            rss, cpu = proc_sample(child.pid)
            samples.append((now - started, rss, cpu, written))
            next_sample += 5
        while True:
            try:
                at, line = lines.get_nowait()
            except queue.Empty:
                break
            counted["lines"] += 1
            for text, when in list(markers.items()):
                if f'"text":"{text}"' in line:
                    latencies.append(at - when)
                    del markers[text]
        time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
    rss, cpu = proc_sample(child.pid)
    samples.append((time.monotonic() - started, rss, cpu, written))
    child.terminate()
    child.wait()
    err.close()

    print(f"watch {' '.join(cmd[2:])}: {args.seconds:.0f} s, {written} lines appended "
          f"({written / args.seconds:.0f}/s) after {args.prefill * 7} prefilled, {counted['lines']} NDJSON lines out")
    print(f"{'t (s)':>6} {'RSS (MB)':>9} {'CPU (s)':>8} {'lines':>9}")
    for at, rss, cpu, w in samples:
        print(f"{at:6.0f} {rss / 1024:9.1f} {cpu:8.2f} {w:9d}")
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    span = last[0] - first[0]
    if span > 0:
        print(f"CPU after the first sample: {100 * (last[2] - first[2]) / span:.1f}% of one core")
    if latencies:
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"latency append -> NDJSON line: median {1000 * statistics.median(latencies):.0f} ms, "
              f"p95 {1000 * p95:.0f} ms, max {1000 * latencies[-1]:.0f} ms ({len(latencies)} markers, "
              f"{len(markers)} never seen)")
    costs = []
    with open(os.path.join(root, "stderr.txt")) as f:
        for line in f:
            if "timing: analysis of" in line:
                costs.append(float(line.rsplit(":", 1)[1].split()[0]))
    if costs:
        costs.sort()
        print(f"analyses: {len(costs)}, median {statistics.median(costs):.1f} ms, max {costs[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
