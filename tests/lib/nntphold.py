#!/usr/bin/env python3
"""nntphold.py: one nntplib session held open while a test changes the
server around it (pause, go, reload), driven line by line.

usage: nntphold.py HOST PORT < COMMANDS
Reads commands from stdin (a FIFO the test writes), one per line, and
prints one result line each (flushed):
  read             GROUP local.test, then ARTICLE of its last number:
                   "read 211 COUNT 220 <message-id>"
  post TAG [SIZE]  POST an article to local.test with Message-ID
                   <TAG@hold.test> (a body of about SIZE bytes, default 6):
                   "post TAG 240 ..." or "post TAG 440 ...", the server's reply
  quit             QUIT, then exit
A closed connection prints "closed" and exits 1. Each read waits 60 s."""
import nntplib
import sys


def article(tag, size):
    body = "Hello.\r\n" if size <= 6 else ("x" * 70 + "\r\n") * (size // 72 + 1)
    return ("From: Holder <hold@example.com>\r\nNewsgroups: local.test\r\n"
            "Subject: held %s\r\nMessage-ID: <%s@hold.test>\r\n\r\n%s" % (tag, tag, body)
            ).encode().split(b"\r\n")


def main():
    s = nntplib.NNTP(sys.argv[1], int(sys.argv[2]), timeout=60)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "read":
                _, count, _, last, _ = s.group("local.test")
                _, info = s.article(last)
                print("read 211 %d 220 %s" % (count, info.message_id), flush=True)
            elif words[0] == "post":
                size = int(words[2]) if len(words) > 2 else 6
                try:
                    print("post %s %s" % (words[1], s.post(article(words[1], size))),
                          flush=True)
                except nntplib.NNTPError as e:
                    print("post %s %s" % (words[1], e), flush=True)
            elif words[0] == "quit":
                s.quit()
                return 0
        except (EOFError, OSError):
            print("closed", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
