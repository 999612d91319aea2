#!/usr/bin/env python3
"""nntpstream.py: a streaming feeder (RFC 4644) for the ingest tests, and a
checker of what it fed.

usage: nntpstream.py [--lines N] HOST PORT feed TAG FIRST LAST [--dup I] [--check ID]
                                                   [--ids FILE] [--pause F] [--pace K S]
         MODE STREAM, then TAKETHIS for articles FIRST..LAST of TAG (or the
         numbers in FILE, one a line), 100 a write from a second thread
         while replies are read; --dup I: article I twice in a row (same
         Message-ID), --check ID: a CHECK ID right after the last TAKETHIS,
         --pause F: article 0 alone first, then wait (60 s at most) for the
         file F before the rest, --pace K S: K articles a write and S
         seconds between writes (a stream that lasts, for a kill mid-way).
         Prints the MODE STREAM reply, then every reply line as it comes,
         then "closed" if the server closed the connection early.
       nntpstream.py [--lines N] HOST PORT verify TAG N...
         ARTICLE <TAG.N@peer.example> for each N: prints "ok COUNT" when
         every one is there with its whole body, else one "bad N: why" line
         per article that is not.
Every article carries a current Date (article_cutoff_days) and a body
unique to it (--lines lines, 60 by default: about 3 KiB), so a partial
article shows."""
import email.utils
import os
import socket
import sys
import threading
import time


def msgid(tag, i):
    return "<%s.%d@peer.example>" % (tag, i)


LINES = 60


def body(tag, i):
    return b"".join(b"%s.%d line %d of its body, the same text each time\r\n" % (tag.encode(), i, k)
                    for k in range(LINES))


def article(tag, i):
    date = email.utils.formatdate(usegmt=True).encode()
    return (b"Path: peer.example!not-for-mail\r\nFrom: Feed <feed@peer.example>\r\n"
            b"Newsgroups: local.test\r\nSubject: streamed " + str(i).encode() +
            b"\r\nDate: " + date + b"\r\nMessage-ID: " + msgid(tag, i).encode() +
            b"\r\n\r\n" + body(tag, i))


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    f.readline()
    return s, f


def line(f):
    l = f.readline()
    return None if not l else l.rstrip(b"\r\n").decode("utf-8", "replace")


def feed(host, port, tag, first, last, args):  # noqa: C901
    nums = list(range(int(first), int(last) + 1))
    dup = check = pause = None
    chunk, gap = 100, 0.0
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--dup":
            dup = int(val)
        elif opt == "--check":
            check = val
        elif opt == "--pause":
            pause = val
        elif opt == "--ids":
            nums = [int(x) for x in open(val).read().split()]
        elif opt == "--pace":
            chunk, gap = int(val), float(args[0])
            args = args[1:]
    cmds = []
    for i in nums:
        for _ in range(2 if i == dup else 1):
            cmds.append(b"TAKETHIS " + msgid(tag, i).encode() + b"\r\n" + article(tag, i) +
                        b".\r\n")
    if check:
        cmds.append(b"CHECK " + check.encode() + b"\r\n")
    s, f = connect(host, port)
    s.sendall(b"MODE STREAM\r\n")
    print(line(f), flush=True)
    if pause:
        # Article 0 first (the session's writer connection is made), then
        # wait for the go-ahead file.
        s.sendall(b"TAKETHIS " + msgid(tag, 0).encode() + b"\r\n" + article(tag, 0) + b".\r\n")
        print(line(f), flush=True)
        for _ in range(600):
            if os.path.exists(pause):
                break
            time.sleep(0.1)

    def send():
        try:
            for k in range(0, len(cmds), chunk):
                if k and gap:
                    time.sleep(gap)
                s.sendall(b"".join(cmds[k:k + chunk]))
        except OSError:
            pass

    t = threading.Thread(target=send, daemon=True)
    t.start()
    for _ in cmds:
        l = line(f)
        if l is None:
            print("closed", flush=True)
            break
        print(l, flush=True)
    s.close()


def verify(host, port, tag, nums):
    s, f = connect(host, port)
    bad = 0
    for n in nums:
        i = int(n)
        s.sendall(b"ARTICLE " + msgid(tag, i).encode() + b"\r\n")
        first = line(f)
        if first is None or not first.startswith("220 "):
            print("bad %d: %s" % (i, first), flush=True)
            bad += 1
            continue
        text = []
        while True:
            l = f.readline()
            if l in (b".\r\n", b""):
                break
            text.append(l[1:] if l.startswith(b"..") else l)
        got = b"".join(text).split(b"\r\n\r\n", 1)
        if len(got) != 2 or got[1] != body(tag, i):
            print("bad %d: body differs" % i, flush=True)
            bad += 1
    if not bad:
        print("ok %d" % len(nums))
    s.close()


def main():
    global LINES
    if len(sys.argv) > 2 and sys.argv[1] == "--lines":
        LINES = int(sys.argv[2])
        del sys.argv[1:3]
    host, port, op = sys.argv[1:4]
    if op == "feed":
        feed(host, port, sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:])
    elif op == "verify":
        verify(host, port, sys.argv[4], sys.argv[5:])
    else:
        raise SystemExit(__doc__)


main()
