#!/usr/bin/env python3
"""samearticle.py OURS THEIRS: exit 0 when two stored wire-format articles
(CRLF, dot-stuffed) have the same body bytes and the same header lines, in
order, apart from Path and Xref (which each server rewrites). Importable:
same(ours, theirs) returns True or prints the difference and returns False."""
import sys


def split(path):
    data = open(path, "rb").read()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("%s: no header/body separator" % path)
    lines = []
    for l in head.split(b"\r\n"):
        if l[:1] in (b" ", b"\t") and lines:
            lines[-1] += b"\r\n" + l
        else:
            lines.append(l)
    keep = [l for l in lines if l.split(b":", 1)[0].lower() not in (b"path", b"xref")]
    return keep, body


def same(ours, theirs):
    try:
        a, b = split(ours), split(theirs)
    except ValueError as e:
        print(e)
        return False
    # INN's wire format keeps the ".\r\n" terminator in the file; ours does not.
    if b[1].endswith(b"\r\n.\r\n"):
        b = (b[0], b[1][:-3])
    if a == b:
        return True
    print("differ: %s %s" % (ours, theirs))
    if a[0] != b[0]:
        print(a[0], b[0])
    else:
        print("bodies:", len(a[1]), len(b[1]), a[1][:200], b[1][:200])
    return False


if __name__ == "__main__":
    sys.exit(0 if same(sys.argv[1], sys.argv[2]) else 1)
