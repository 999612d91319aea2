"""ratecheck: groups of parallel ftplib sessions, each group from its own
loopback address, all logged in first and then started at once; prints one
line per group with the bytes moved and the seconds from the start to the
group's last reply 226 (an upload's 226 comes once ftpd has read it all).

    ratecheck.py HOST PORT GROUP... where GROUP is
        down:ADDR:N:PATH     N sessions from ADDR each RETR PATH
        up:ADDR:N:BYTES      N sessions from ADDR each STOR BYTES bytes
                             into incoming/
    prints  GROUP ADDR N BYTES SECONDS RATE   (RATE in bytes per second)
"""

import ftplib
import io
import sys
import threading
import time


class Sink:
    def __init__(self):
        self.n = 0

    def write(self, b):
        self.n += len(b)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    groups = []
    for spec in sys.argv[3:]:
        kind, addr, n, arg = spec.split(":")
        groups.append({"kind": kind, "addr": addr, "n": int(n), "arg": arg,
                       "bytes": 0, "end": 0.0, "errors": 0})
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

    def run(g, i, f):
        gate.wait()
        try:
            if g["kind"] == "down":
                s = Sink()
                f.retrbinary("RETR " + g["arg"], s.write, blocksize=65536)
                moved = s.n
            else:
                size = int(g["arg"])
                f.storbinary("STOR incoming/%s-%d.bin" % (g["addr"], i),
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
    for t in threads:
        t.join()
    for g in groups:
        secs = g["end"] - t0
        print("GROUP %s %s %d %d %.3f %.0f" % (g["kind"], g["addr"], g["n"], g["bytes"], secs,
                                               g["bytes"] / secs if secs > 0 else 0))
    return 1 if any(g["errors"] for g in groups) else 0


if __name__ == "__main__":
    sys.exit(main())
