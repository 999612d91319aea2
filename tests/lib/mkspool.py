#!/usr/bin/env python3
"""Write a news spool's article files directly, fast, for expire tests.

usage: mkspool.py SPOOL PATHHOST COUNT LISTFILE

Article i (0 <= i < COUNT) is filed by kind i % 10 in:
  0-3 exp.short   4-5 exp.long   6 exp.short+exp.long
  7 exp.short+local.test   8 exp.keep   9 exp.short+exp.keep
and has the age of its band: "old" (first 60%: 40 days), "mid" (next 20%:
10 days), "new" (last 20%: 1 hour), set as the file's mtime, which is the
arrival time nntpctl rebuild indexes. Arrival grows with i (one second
apart within a band), so each group's overview is in arrival order.
LISTFILE gets one line per article: i band msgid group:number...
The groups must exist; run nntpctl rebuild afterwards.
"""

import sys
import time

from spoolfiles import Spool, article_text

KINDS = [["exp.short"]] * 4 + [["exp.long"]] * 2 + [
    ["exp.short", "exp.long"],
    ["exp.short", "local.test"],
    ["exp.keep"],
    ["exp.short", "exp.keep"],
]
DAY = 86400


def main(argv):
    spool, host, count, listfile = argv[1], argv[2], int(argv[3]), argv[4]
    now = int(time.time())
    numbers = {}
    files = Spool(spool)
    old_end, mid_end = count * 6 // 10, count * 8 // 10
    with open(listfile, "w") as out:
        for i in range(count):
            if i < old_end:
                band, t = "old", now - 40 * DAY + i
            elif i < mid_end:
                band, t = "mid", now - 10 * DAY + (i - old_end)
            else:
                band, t = "new", now - 3600 - (count - i)
            groups = KINDS[i % 10]
            links = []
            for g in groups:
                numbers[g] = numbers.get(g, 0) + 1
                links.append((g, numbers[g]))
            msgid = "<exp%d.%s@test.postel.invalid>" % (i, band)
            xref = " ".join("%s:%d" % l for l in links)
            text = article_text(
                host, groups, "expire test %d" % i, msgid,
                "Sun, 01 Nov 2026 00:00:00 +0000", xref, "Body %d." % i,
            )
            files.file(links, text, t)
            out.write("%d %s %s %s\n" % (i, band, msgid, xref))


if __name__ == "__main__":
    main(sys.argv)
