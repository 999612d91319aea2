#!/usr/bin/env python3
"""nntppeer.py: a raw NNTP feeding peer for the peering tests.

usage: nntppeer.py HOST PORT [--bind ADDR] OP...
  cmd:LINE             send LINE, print the reply line
  ihave:ID:FILE        IHAVE ID; on 335 send FILE (CRLF text); print both replies
  check:ID,ID,...      all CHECKs in one write; print every reply
  takethis:ID=FILE,... all TAKETHIS in one write (articles right behind); print replies
  stream:ID=FILE,...   check: then takethis: for the same list, pipelined
  gen:N:TAG            MODE STREAM, then TAKETHIS N generated articles <TAG.i@peer.example>
                       (every 10th crossposted to local.test,local.other; some bodies with
                       leading dots), 100 per write; prints only a count of 239 replies
Prints the greeting first. Every reply line is printed as received."""
import email.utils
import socket
import sys


MULTI = ("100", "101", "215", "220", "221", "222", "224", "225", "230", "231")


def stuff(data):
    out = []
    for line in data.split(b"\r\n")[:-1] if data.endswith(b"\r\n") else data.split(b"\r\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\r\n".join(out) + b"\r\n.\r\n"


class Peer:
    def __init__(self, host, port, bind):
        self.s = socket.create_connection((host, port), timeout=60,
                                          source_address=(bind, 0) if bind else None)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def line(self):
        l = self.f.readline()
        if not l:
            raise SystemExit("connection closed")
        l = l.rstrip(b"\r\n").decode("utf-8", "replace")
        print(l, flush=True)
        return l

    def send(self, data):
        self.s.sendall(data)


def generated(i, tag):
    mid = ("<%s.%d@peer.example>" % (tag, i)).encode()
    groups = b"local.test,local.other" if i % 10 == 0 else b"local.test"
    date = email.utils.formatdate(usegmt=True).encode()  # fresh: article_cutoff_days
    body = b"Line one of %d\r\n.leading dot\r\n..two dots\r\n\r\ntrailing  spaces  \r\n" % i
    return mid, (b"Path: peer.example!not-for-mail\r\nFrom: Gen <gen@peer.example>\r\n"
                 b"Newsgroups: " + groups + b"\r\nSubject: generated " + str(i).encode() +
                 b"\r\nDate: " + date + b"\r\nMessage-ID: " + mid +
                 b"\r\nX-Odd:  folded\r\n\tcontinuation\r\n\r\n" + body)


def pairs(spec):
    out = []
    for item in spec.split(","):
        mid, _, path = item.partition("=")
        out.append((mid, open(path, "rb").read() if path else b""))
    return out


def main():
    args = sys.argv[1:]
    host, port = args[0], int(args[1])
    args = args[2:]
    bind = None
    if args and args[0] == "--bind":
        bind, args = args[1], args[2:]
    p = Peer(host, port, bind)
    p.line()
    for op in args:
        kind, _, rest = op.partition(":")
        if kind == "cmd":
            p.send(rest.encode() + b"\r\n")
            if p.line()[:3] in MULTI:
                while p.line() != ".":
                    pass
        elif kind == "ihave":
            mid, _, path = rest.partition(":")
            p.send(b"IHAVE " + mid.encode() + b"\r\n")
            if p.line().startswith("335"):
                p.send(stuff(open(path, "rb").read()))
                p.line()
        elif kind in ("check", "stream"):
            ids = [m for m, _ in pairs(rest)] if kind == "stream" else rest.split(",")
            p.send(b"".join(b"CHECK " + m.encode() + b"\r\n" for m in ids))
            for _ in ids:
                p.line()
        if kind == "gen":
            n, _, tag = rest.partition(":")
            p.send(b"MODE STREAM\r\n")
            p.line()
            ok = 0
            for start in range(0, int(n), 100):
                batch = [generated(i, tag) for i in range(start, min(int(n), start + 100))]
                p.send(b"".join(b"TAKETHIS " + m + b"\r\n" + stuff(a) for m, a in batch))
                for _ in batch:
                    if p.f.readline().startswith(b"239"):
                        ok += 1
            print("accepted %d" % ok, flush=True)
        if kind in ("takethis", "stream"):
            items = pairs(rest)
            p.send(b"".join(b"TAKETHIS " + m.encode() + b"\r\n" + stuff(a) for m, a in items))
            for _ in items:
                p.line()
    try:
        p.send(b"QUIT\r\n")
    except OSError:
        pass  # the server may have ended the session (400)


if __name__ == "__main__":
    main()
