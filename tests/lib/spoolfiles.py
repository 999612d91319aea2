"""Article files written straight into a news spool, for the test spools
of mkspool.py and spreadspool.py (nntpctl rebuild indexes them after)."""

import os


def article_text(host, groups, subject, msgid, date, xref, body):
    """An article as the writer files it: our Path, its Xref, CRLF lines."""
    return (
        "Path: %s!not-for-mail\r\nFrom: Test Spool <spool@example.com>\r\n"
        "Newsgroups: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n"
        "Date: %s\r\nXref: %s %s\r\n\r\n%s\r\n"
        % (host, ",".join(groups), subject, msgid, date, host, xref, body)
    ).encode()


class Spool:
    """Files articles under SPOOL/articles, one file per article and a
    hard link for each further group, as the writer does."""

    def __init__(self, spool):
        self.spool = spool
        self.made = set()

    def file(self, links, text, arrival):
        """Store text at each (group, number) of links, mtime arrival."""
        first = None
        for g, n in links:
            d = os.path.join(self.spool, "articles", *g.split("."))
            if d not in self.made:
                os.makedirs(d, exist_ok=True)
                self.made.add(d)
            path = os.path.join(d, str(n))
            if first is None:
                with open(path, "wb") as f:
                    f.write(text)
                os.utime(path, (arrival, arrival))
                first = path
            else:
                os.link(first, path)
