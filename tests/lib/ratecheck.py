"""ratecheck: groups of parallel ftplib sessions, each group from its own
loopback address, all logged in first and then started at once; prints one
line per group with the bytes moved and the seconds from the start to the
group's last reply 226 (an upload's 226 comes once ftpd has read it all),
and the steady rate: bytes over seconds between the moments the group had
moved 10% and 90% of its bytes, sampled every 20 ms, so neither the setup of
50 data connections nor the last session's tail is counted. A download's
bytes are counted as they arrive; an upload's are what ftpd has written
(the sizes of the files in UPDIR/ADDR, partial ones included: the client's
socket buffers would hold a whole small upload at once).

    ratecheck.py [--updir UPDIR] HOST PORT GROUP... where GROUP is
        down:ADDR:N:PATH     N sessions from ADDR each RETR PATH
        up:ADDR:N:BYTES      N sessions from ADDR each STOR BYTES bytes
                             into incoming/ (with --updir, into
                             incoming/ADDR/, which must exist)
    prints  GROUP KIND ADDR N BYTES SECONDS RATE STEADY   (bytes per second;
            STEADY is 0 for an upload without --updir)
"""

import ftplib
import io
import os
import sys
import threading
import time


class Sink:
    def __init__(self):
        self.n = 0

    def write(self, b):
        self.n += len(b)


def moved_now(g, updir):
    """Bytes group g has moved so far (see the module's text)."""
    if g["kind"] == "down":
        return sum(s.n for s in g["sinks"])
    n = 0
    with os.scandir(os.path.join(updir, g["addr"])) as it:
        for e in it:
            try:
                n += e.stat().st_size
            except FileNotFoundError:
                pass
    return n


def steady(samples, total):
    """Rate between the samples where 10% and 90% of total had moved."""
    t1 = b1 = None
    for t, b in samples:
        if t1 is None and b >= total / 10:
            t1, b1 = t, b
        if t1 is not None and b >= total * 9 / 10:
            return (b - b1) / (t - t1) if t > t1 else 0
    return 0


def main():
    args = sys.argv[1:]
    updir = None
    if args[0] == "--updir":
        updir, args = args[1], args[2:]
    host, port = args[0], int(args[1])
    groups = []
    for spec in args[2:]:
        kind, addr, n, arg = spec.split(":")
        groups.append({"kind": kind, "addr": addr, "n": int(n), "arg": arg,
                       "bytes": 0, "end": 0.0, "errors": 0, "sinks": [], "samples": []})
    sessions = []
    for g in groups:
        for i in range(g["n"]):
            f = ftplib.FTP(timeout=60, source_address=(g["addr"], 0))
            f.connect(host, port)
            f.login()
            f.voidcmd("TYPE I")
            sessions.append((g, i, f))
    gate = threading.Barrier(len(sessions) + 1)
    lock = threading.Lock()

    def run(g, i, f, updir=updir):
        gate.wait()
        try:
            if g["kind"] == "down":
                s = Sink()
                with lock:
                    g["sinks"].append(s)
                f.retrbinary("RETR " + g["arg"], s.write, blocksize=65536)
                moved = s.n
            else:
                size = int(g["arg"])
                name = "%s/%d.bin" if updir is not None else "%s-%d.bin"
                f.storbinary("STOR incoming/" + name % (g["addr"], i),
                             io.BytesIO(b"\x5a" * size), blocksize=65536)
                moved = size
            f.quit()
        except (OSError, ftplib.Error) as e:
            print("ERROR %s %s" % (g["addr"], e), flush=True)
            with lock:
                g["errors"] += 1
            return
        with lock:
            g["bytes"] += moved
            g["end"] = max(g["end"], time.monotonic())

    threads = [threading.Thread(target=run, args=s) for s in sessions]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.monotonic()
    watched = [g for g in groups if g["kind"] == "down" or updir is not None]
    while any(t.is_alive() for t in threads):
        now = time.monotonic()
        for g in watched:
            g["samples"].append((now, moved_now(g, updir)))
        time.sleep(0.02)
    for t in threads:
        t.join()
    for g in groups:
        secs = g["end"] - t0
        total = g["n"] * (int(g["arg"]) if g["kind"] == "up" else 0) or g["bytes"]
        print("GROUP %s %s %d %d %.3f %.0f %.0f" % (g["kind"], g["addr"], g["n"], g["bytes"], secs,
                                                    g["bytes"] / secs if secs > 0 else 0,
                                                    steady(g["samples"], total)))
    return 1 if any(g["errors"] for g in groups) else 0


if __name__ == "__main__":
    sys.exit(main())
