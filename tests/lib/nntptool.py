#!/usr/bin/env python3
"""Byte-exact NNTP helper for the nntp_*.bats tests.

usage:
  nntptool.py post HOST PORT FILE            POST FILE's bytes (LF or CRLF lines);
                                             prints the 340 line and the final reply
  nntptool.py postseq HOST PORT FILE...      POST each FILE on one connection, print
                                             each final reply, then the reply to DATE
  nntptool.py fetch HOST PORT GROUP CMD N OUT  GROUP, then CMD (ARTICLE|HEAD|BODY) N;
                                             writes the un-dot-stuffed bytes to OUT
  nntptool.py flood HOST PORT GROUP COUNT TAG  POST COUNT small articles, one
                                             connection, reconnecting when it drops and
                                             retrying after 440; prints "CODE <message-id>"
                                             per answer (NNTPTOOL_TIMES=1: then the
                                             answer's epoch time and the post's ms)
  nntptool.py verify HOST PORT FLOODOUT       for each "240 <id>" line of a flood's
                                             output: BODY <id> must be that article's
                                             whole body; prints "ok N" or "bad <id>"
  nntptool.py bodies HOST PORT GROUP OUT     every article of GROUP (ARTICLE by
                                             number) as "N<TAB>sha256<TAB>msgid" lines

Every read has a 30 s timeout (NNTPTOOL_TIMEOUT seconds if set); a timeout
exits 3, but flood reconnects and tries the same article again.
"""

import hashlib
import os
import socket
import sys
import time


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection(
            (host, int(port)), timeout=float(os.environ.get("NNTPTOOL_TIMEOUT", "30")))
        self.buf = b""
        self.greeting = self.line()

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def block(self):
        """A multi-line data block, un-dot-stuffed, lines joined with CRLF."""
        out = []
        while True:
            line = self.line()
            if line == b".":
                break
            if line.startswith(b".."):
                line = line[1:]
            out.append(line + b"\r\n")
        return b"".join(out)

    def post(self, data):
        first = self.cmd("POST")
        if not first.startswith(b"340"):
            return first, first
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        wire = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line.startswith(b"."):
                line = b"." + line
            wire.append(line + b"\r\n")
        wire.append(b".\r\n")
        self.sock.sendall(b"".join(wire))
        return first, self.line()


def article(group, tag, i):
    return (
        "From: Flood <flood@example.com>\r\n"
        "Newsgroups: %s\r\n"
        "Subject: %s %d\r\n"
        "Message-ID: <%s.%d@flood.example>\r\n"
        "\r\n"
        "Body of %s %d.\r\n" % (group, tag, i, tag, i, tag, i)
    ).encode()


def flood(host, port, group, count, tag):
    conn = None
    i = 0
    deadline = time.time() + 600
    while i < count and time.time() < deadline:
        try:
            if conn is None:
                conn = Conn(host, port)
            t0 = time.monotonic()
            _, final = conn.post(article(group, tag, i))
            code = final[:3].decode()
            # NNTPTOOL_TIMES=1: when the answer came (epoch) and how long
            # the post took (ms), after the Message-ID
            times = " %.6f %.1f" % (time.time(), (time.monotonic() - t0) * 1000) \
                if os.environ.get("NNTPTOOL_TIMES") else ""
            print("%s <%s.%d@flood.example>%s" % (code, tag, i, times), flush=True)
            if code == "440":  # writer down: try this one again, as clients do
                time.sleep(0.05)
                continue
            i += 1
        except (OSError, EOFError):
            conn = None
            time.sleep(0.05)
    return 0 if i == count else 1


def main(argv):
    op = argv[1]
    if op == "post":
        conn = Conn(argv[2], argv[3])
        with open(argv[4], "rb") as f:
            first, final = conn.post(f.read())
        print(first.decode("utf-8", "replace"))
        print(final.decode("utf-8", "replace"))
        conn.cmd("QUIT")
        return 0
    if op == "postseq":
        conn = Conn(argv[2], argv[3])
        for name in argv[4:]:
            with open(name, "rb") as f:
                _, final = conn.post(f.read())
            print(final.decode("utf-8", "replace"))
        print(conn.cmd("DATE").decode())
        conn.cmd("QUIT")
        return 0
    if op == "fetch":
        conn = Conn(argv[2], argv[3])
        conn.cmd("GROUP " + argv[4])
        first = conn.cmd("%s %s" % (argv[5], argv[6]))
        print(first.decode("utf-8", "replace"))
        if first[:1] == b"2":
            with open(argv[7], "wb") as f:
                f.write(conn.block())
        conn.cmd("QUIT")
        return 0
    if op == "flood":
        return flood(argv[2], argv[3], argv[4], int(argv[5]), argv[6])
    if op == "verify":
        conn = Conn(argv[2], argv[3])
        good = 0
        with open(argv[4]) as f:
            for line in f:
                code, msgid = line.split()[:2]
                if code != "240":
                    continue
                tag, i = msgid[1:].split("@")[0].rsplit(".", 1)
                first = conn.cmd("BODY " + msgid)
                body = conn.block() if first.startswith(b"222") else None
                if body != ("Body of %s %s.\r\n" % (tag, i)).encode():
                    print("bad %s %s" % (msgid, first.decode()))
                    return 1
                good += 1
        print("ok %d" % good)
        return 0
    if op == "bodies":
        conn = Conn(argv[2], argv[3])
        conn.cmd("GROUP " + argv[4])
        first = conn.cmd("LISTGROUP")
        nums = conn.block().split()
        with open(argv[5], "w") as out:
            for n in nums:
                first = conn.cmd("ARTICLE " + n.decode())
                if not first.startswith(b"220"):
                    out.write("%s\tMISSING\t-\n" % n.decode())
                    continue
                data = conn.block()
                msgid = first.split()[2].decode()
                out.write("%s\t%s\t%s\n" % (n.decode(), hashlib.sha256(data).hexdigest(), msgid))
        conn.cmd("QUIT")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except socket.timeout:
        print("<timeout>")
        sys.exit(3)
