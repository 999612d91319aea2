#!/usr/bin/env python3
"""nntplib client for tests/nntp_filter.bats.

usage:
  nntpfilter.py HOST PORT post GROUPS SUBJECT BODY [COUNT]
      POST COUNT (default 1) articles to GROUPS (comma-separated) with that
      Subject (a number appended when COUNT > 1) and body; one line per post:
      "240 ..." or the refusal ("441 ...")
  nntpfilter.py HOST PORT ihave MSGID GROUPS BODY
      IHAVE one article; prints the final answer ("235 ...", "437 ...", "435 ...")
Extra headers for post: the FILTER_HEADERS environment variable, lines joined by "|".
"""
import email.utils
import os
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import nntplib  # noqa: E402


def article(groups, subject, body, extra=()):
    lines = [b"From: Filter Test <filter@example.com>",
             b"Newsgroups: " + groups.encode(),
             b"Subject: " + subject.encode()]
    lines += [h.encode() for h in extra if h]
    lines += [b""] + [l.encode() for l in body.split("\\n")]
    return lines


def answer(call):
    try:
        return call()
    except (nntplib.NNTPTemporaryError, nntplib.NNTPPermanentError) as e:
        return str(e)


def main(argv):
    host, port, op = argv[1], int(argv[2]), argv[3]
    s = nntplib.NNTP(host, port, readermode=False, timeout=60)
    if op == "post":
        groups, subject, body = argv[4:7]
        count = int(argv[7]) if len(argv) > 7 else 1
        extra = os.environ.get("FILTER_HEADERS", "").split("|")
        for i in range(count):
            subj = subject if count == 1 else f"{subject} {i + 1}"
            print(answer(lambda: s.post(article(groups, subj, body, extra))), flush=True)
    elif op == "ihave":
        msgid, groups, body = argv[4:7]
        lines = [b"Path: peer.example!not-for-mail",
                 b"Date: " + email.utils.formatdate(usegmt=True).encode(),  # fresh: article_cutoff_days
                 b"Message-ID: " + msgid.encode()] + article(groups, "fed", body)
        print(answer(lambda: s.ihave(msgid, lines)), flush=True)
    s.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
