#!/usr/bin/env python3
"""Posting to and checking the nodes of tests/nntp_mesh.bats (nntplib).

usage:
  mesh.py post HOST PORT TAG N       POST N articles <TAG.I@mesh.test> (I = 1..N) to
                                     local.test, each with a current Date and a body
                                     made from its Message-ID; prints "posted N"
  mesh.py count HOST PORT            the number GROUP local.test reports
  mesh.py check HOST PORT EVERY TAG:N...
                                     the node holds each <TAG.I@mesh.test> exactly
                                     once (OVER of the whole group: no other
                                     article, none twice, none missing) and BODY of
                                     every EVERY-th is byte for byte the posted
                                     body; prints "ok COUNT HASHED" or what is wrong
"""
import hashlib
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import nntplib  # noqa: E402 (after the filter: deprecated in 3.11)
from email.utils import formatdate


def body(mid):
    """Body lines of article MID: a leading dot, a long line, a hash."""
    h = hashlib.sha256(mid.encode()).hexdigest()
    return [b"Mesh article " + mid.encode(), b".dot line", (h * 3).encode(), b"", b"end"]


def connect(host, port):
    # readermode: innd hands a reader command to nnrpd (our peer address
    # would otherwise get innd's feed channel, which does not take POST).
    return nntplib.NNTP(host, int(port), readermode=True, timeout=120)


def post(host, port, tag, n):
    s = connect(host, port)
    for i in range(1, int(n) + 1):
        mid = "<%s.%d@mesh.test>" % (tag, i)
        art = [b"From: Mesh <mesh@example.com>", b"Newsgroups: local.test",
               ("Subject: mesh %s %d" % (tag, i)).encode(),
               ("Date: " + formatdate(usegmt=True)).encode(),
               ("Message-ID: " + mid).encode(), b""] + body(mid)
        s.post(art)
    s.quit()
    print("posted", n)


def count(host, port):
    s = connect(host, port)
    _, c, _, _, _ = s.group("local.test")
    s.quit()
    print(c)


def check(host, port, every, specs):
    want = []
    for spec in specs:
        tag, n = spec.split(":")
        want += ["<%s.%d@mesh.test>" % (tag, i) for i in range(1, int(n) + 1)]
    s = connect(host, port)
    _, c, first, last, _ = s.group("local.test")
    seen = {}
    if c:
        _, over = s.over((first, last))
        for _, f in over:
            seen[f["message-id"]] = seen.get(f["message-id"], 0) + 1
    bad = 0
    twice = [m for m, k in seen.items() if k > 1]
    missing = [m for m in want if m not in seen]
    extra = [m for m in seen if m not in set(want)]
    for what, ids in (("twice", twice), ("missing", missing), ("extra", extra)):
        if ids:
            print("%s %d: %s" % (what, len(ids), " ".join(ids[:5])))
            bad = 1
    hashed = 0
    for mid in want[:: int(every)]:
        if mid not in seen:
            continue
        _, info = s.body(mid)
        if info.lines != body(mid):
            print("body differs:", mid, info.lines[:3])
            bad = 1
        hashed += 1
    s.quit()
    if not bad:
        print("ok", sum(seen.values()), hashed)
    return bad


def main(argv):
    op = argv[1]
    if op == "post":
        post(*argv[2:6])
    elif op == "count":
        count(*argv[2:4])
    elif op == "check":
        return check(argv[2], argv[3], argv[4], argv[5:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
