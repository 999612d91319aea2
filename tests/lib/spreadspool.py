#!/usr/bin/env python3
"""Write a news spool's article files directly with arrival times spread
over SPAN hours, for NEWNEWS and history tests.

usage: spreadspool.py SPOOL PATHHOST COUNT SPAN LISTFILE GROUP...

Article i (0 <= i < COUNT) goes to GROUP[i % len(GROUP)], and every tenth
also to the next group (a crosspost). Its arrival time (the file's mtime,
which nntpctl rebuild indexes) is now - SPAN hours + i * step, except that
every 17th article is five minutes older than its neighbours (a clock
stepped back), and every 97th number of a group is skipped (a gap).
LISTFILE gets one line per article: i arrival msgid group:number...
The groups must exist; run nntpctl rebuild afterwards.
"""

import email.utils
import os
import sys
import time


def main(argv):
    spool, host, count, span, listfile = argv[1], argv[2], int(argv[3]), float(argv[4]), argv[5]
    groups = argv[6:]
    now = int(time.time())
    start = now - int(span * 3600)
    step = span * 3600 / count
    date = email.utils.formatdate(now, usegmt=True)
    numbers = {g: 0 for g in groups}
    made = set()
    with open(listfile, "w") as out:
        for i in range(count):
            t = start + int(i * step)
            if i % 17 == 16:
                t -= 300
            mine = [groups[i % len(groups)]]
            if i % 10 == 9 and len(groups) > 1:
                mine.append(groups[(i + 1) % len(groups)])
            links = []
            for g in mine:
                numbers[g] += 2 if numbers[g] % 97 == 96 else 1
                links.append((g, numbers[g]))
            msgid = "<spread%d@test.postel.invalid>" % i
            xref = " ".join("%s:%d" % link for link in links)
            text = (
                "Path: %s!not-for-mail\r\nFrom: Spreader <spread@example.com>\r\n"
                "Newsgroups: %s\r\nSubject: spread %d\r\nMessage-ID: %s\r\n"
                "Date: %s\r\nXref: %s %s\r\n\r\nBody %d.\r\n"
                % (host, ",".join(mine), i, msgid, date, host, xref, i)
            ).encode()
            first = None
            for g, n in links:
                d = os.path.join(spool, "articles", *g.split("."))
                if d not in made:
                    os.makedirs(d, exist_ok=True)
                    made.add(d)
                path = os.path.join(d, str(n))
                if first is None:
                    with open(path, "wb") as f:
                        f.write(text)
                    os.utime(path, (t, t))
                    first = path
                else:
                    os.link(first, path)
            out.write("%d %d %s %s\n" % (i, t, msgid, xref))


if __name__ == "__main__":
    main(sys.argv)
