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
import sys
import time

from spoolfiles import Spool, article_text


def main(argv):
    spool, host, count, span, listfile = argv[1], argv[2], int(argv[3]), float(argv[4]), argv[5]
    groups = argv[6:]
    now = int(time.time())
    start = now - int(span * 3600)
    step = span * 3600 / count
    date = email.utils.formatdate(now, usegmt=True)
    numbers = {g: 0 for g in groups}
    files = Spool(spool)
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
            text = article_text(host, mine, "spread %d" % i, msgid, date, xref, "Body %d." % i)
            files.file(links, text, t)
            out.write("%d %d %s %s\n" % (i, t, msgid, xref))


if __name__ == "__main__":
    main(sys.argv)
