#!/usr/bin/env python3
"""Drive nntpd with Python's nntplib, every reader method it has; print
"ok NAME" per check and exit nonzero on the first failure.

usage: nntplib_all.py PORT
"""
import datetime
import io
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import nntplib  # noqa: E402


def check(name, cond):
    print(("ok " if cond else "FAIL ") + name, flush=True)
    if not cond:
        sys.exit(1)


def main():
    port = int(sys.argv[1])
    s = nntplib.NNTP("127.0.0.1", port, readermode=True, timeout=30)
    check("getwelcome", s.getwelcome().startswith("200"))
    caps = s.getcapabilities()
    check("getcapabilities", "READER" in caps and "OVER" in caps and caps["VERSION"] == ["2"])
    since = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    for i in range(1, 4):
        art = (
            "From: Py <py@example.com>\r\nNewsgroups: local.test\r\n"
            "Subject: nntplib %d\r\nMessage-ID: <py%d@t.example>\r\n\r\n"
            ".dot line\r\nbody %d\r\n" % (i, i, i)
        ).encode()
        resp = s.post(io.BytesIO(art))
        check("post %d" % i, resp.startswith("240"))
    resp, groups = s.list()
    names = [g.group for g in groups]
    check("list", "local.test" in names)
    resp, groups = s.list("local.t*")
    check("list wildmat", [g.group for g in groups] == ["local.test"])
    check("description", s.description("local.test") == "Test group")
    resp, descs = s.descriptions("local.*")
    check("descriptions", descs.get("local.test") == "Test group")
    resp, count, first, last, name = s.group("local.test")
    check("group", (count, first, last, name) == (3, 1, 3, "local.test"))
    resp, overviews = s.over((1, 3))
    check("over", [n for n, _ in overviews] == [1, 2, 3]
          and overviews[0][1]["subject"] == "nntplib 1"
          and overviews[1][1][":bytes"].isdigit()
          and overviews[2][1]["xref"] == "test.postel.invalid local.test:3")
    resp, overviews = s.over("<py2@t.example>")
    check("over msgid", overviews[0][1]["message-id"] == "<py2@t.example>")
    resp, overviews = s.xover(2, 3)
    check("xover", [n for n, _ in overviews] == [2, 3])
    resp, hdrs = s.xhdr("subject", "1-3")
    check("xhdr", [tuple(h) for h in hdrs] == [("1", "nntplib 1"), ("2", "nntplib 2"), ("3", "nntplib 3")])
    resp, info = s.head(2)
    check("head", info.number == 2 and b"Subject: nntplib 2" in info.lines)
    resp, info = s.body("<py3@t.example>")
    check("body", info.lines == [b".dot line", b"body 3"])
    resp, info = s.article(1)
    check("article", info.message_id == "<py1@t.example>" and info.lines[-1] == b"body 1")
    resp, num, msgid = s.stat(1)
    check("stat", (num, msgid) == (1, "<py1@t.example>"))
    resp, num, msgid = s.next()
    check("next", (num, msgid) == (2, "<py2@t.example>"))
    resp, num, msgid = s.last()
    check("last", (num, msgid) == (1, "<py1@t.example>"))
    try:
        s.last()
        check("last at the start raises", False)
    except nntplib.NNTPTemporaryError as e:
        check("last at the start raises 422", str(e).startswith("422"))
    try:
        s.group("no.such.group")
        check("group 411", False)
    except nntplib.NNTPTemporaryError as e:
        check("group 411", str(e).startswith("411"))
    resp, groups = s.newgroups(since)
    check("newgroups", "local.test" in [g.group for g in groups])
    resp, ids = s.newnews("local.*", since)
    check("newnews", sorted(ids) == ["<py1@t.example>", "<py2@t.example>", "<py3@t.example>"])
    resp, when = s.date()
    check("date", resp.startswith("111") and abs((when - datetime.datetime.utcnow()).total_seconds()) < 60)
    resp, lines = s.help()
    check("help", any(l.strip().startswith("OVER") for l in lines))
    check("quit", s.quit().startswith("205"))
    return 0


sys.exit(main())
