#!/usr/bin/env python3
"""Cancel and Supersedes with Python's nntplib, for tests/nntp_cancel.bats.

usage: cancel.py PORT OP ARGS...
  post FILE...            POST each FILE's bytes (CRLF article); prints the
                          codes, one a line; logged in first as $NNTP_USER
                          with $NNTP_PASS when they are set
  ihave ID FILE           IHAVE of FILE; prints the code (235, 435, 437...)
  look ID GROUP           prints "stat CODE", "article CODE", "head CODE",
                          "body CODE", "group COUNT LOW HIGH", "over N" (the
                          OVER lines of GROUP naming ID), "number CODE" (ARTICLE
                          by the number ID had, from the first OVER of GROUP,
                          when given as ID=NUMBER)
  lock KEY                prints RFC 8315's Cancel-Lock element of KEY
"""
import base64
import hashlib
import io
import os
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import nntplib  # noqa: E402


def code(fn, *a):
    try:
        r = fn(*a)
        return (r[0] if isinstance(r, tuple) else r).split()[0]
    except nntplib.NNTPError as e:
        return str(e).split()[0]


def main():
    port, op, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if op == "lock":
        scheme, key = args[0].split(":", 1)
        h = hashlib.new(scheme, key.encode()).digest()
        print(scheme + ":" + base64.b64encode(h).decode())
        return
    s = nntplib.NNTP("127.0.0.1", port, readermode=True)
    if op == "post":
        if os.environ.get("NNTP_USER"):
            s.login(os.environ["NNTP_USER"], os.environ["NNTP_PASS"], usenetrc=False)
        for name in args:
            with open(name, "rb") as f:
                print(code(s.post, io.BytesIO(f.read())), flush=True)
    elif op == "ihave":
        with open(args[1], "rb") as f:
            print(code(s.ihave, args[0], io.BytesIO(f.read())))
    elif op == "look":
        mid, group = args[0], args[1]
        number = None
        if "=" in mid:
            mid, number = mid.split("=")
        print("stat", code(s.stat, mid))
        print("article", code(s.article, mid))
        print("head", code(s.head, mid))
        print("body", code(s.body, mid))
        _, count, low, high, _ = s.group(group)
        print("group", count, low, high)
        n = 0
        if count > 0 or high >= low:
            try:
                _, over = s.over((low if low > 0 else 1, high))
                n = sum(1 for _, o in over if o.get("message-id") == mid)
            except nntplib.NNTPError:
                pass
        print("over", n)
        if number is not None:
            print("number", code(s.article, number))
    s.quit()


main()
