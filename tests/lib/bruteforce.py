#!/usr/bin/env python3
"""What an attacker's scripts do to ftpd and nntpd, from a chosen address.

usage: bruteforce.py ACTION SOURCE HOST PORT [ARGS]...

  ftp-login  SRC HOST PORT USER PASS...   ftplib: one session, login(USER,
                                          PASS) for each PASS in turn
  nntp-login SRC HOST PORT USER PASS...   nntplib: the same with AUTHINFO
  ftp-junk   SRC HOST PORT N              ftplib: N unknown commands
  nntp-junk  SRC HOST PORT N              nntplib: N unknown commands
  ftp-name   SRC HOST PORT NAME           raw socket: USER NAME, PASS wrong
  nntp-name  SRC HOST PORT NAME           raw socket: AUTHINFO USER NAME, PASS
                                          wrong (NAME is a Python literal, so
                                          it may hold \\r or \\u2028)

Each client connects from SRC (a loopback address such as 127.0.0.2 or ::1)
and prints one line per reply it got: the code, or "closed" once the server
has hung up, or "refused CODE" for a greeting that refuses the session.
"""

import ast
import ftplib
import socket
import sys
import warnings

with warnings.catch_warnings():
    # deprecated since 3.11, still shipped in Debian 12's Python
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib

TIMEOUT = 20


def code_of(err):
    return str(err)[:3]


class SourceNNTP(nntplib.NNTP):
    """nntplib.NNTP that connects from a chosen local address."""

    source = None

    def _create_socket(self, timeout):
        return socket.create_connection(
            (self.host, self.port), timeout, source_address=(self.source, 0)
        )


def ftp_connect(src, host, port):
    f = ftplib.FTP(timeout=TIMEOUT, source_address=(src, 0))
    try:
        f.connect(host, port)
    except ftplib.Error as e:
        print("refused", code_of(e))
        return None
    except (EOFError, OSError):
        print("closed")
        return None
    return f


def ftp_login(src, host, port, user, *passwords):
    f = ftp_connect(src, host, port)
    if f is None:
        return
    for pw in passwords:
        try:
            print(code_of(f.login(user, pw)))
        except ftplib.Error as e:
            print(code_of(e))
        except (EOFError, OSError):
            print("closed")
            return
    try:
        f.quit()
    except (ftplib.Error, EOFError, OSError):
        print("closed")


def ftp_junk(src, host, port, n):
    f = ftp_connect(src, host, port)
    if f is None:
        return
    for i in range(int(n)):
        try:
            print(code_of(f.sendcmd("XJUNK%d" % i)))
        except ftplib.Error as e:
            print(code_of(e))
        except (EOFError, OSError):
            print("closed")
            return


def nntp_connect(src, host, port):
    SourceNNTP.source = src
    try:
        return SourceNNTP(host, int(port), timeout=TIMEOUT, readermode=False)
    except nntplib.NNTPError as e:
        print("refused", code_of(e.response))
    except (EOFError, OSError):
        print("closed")
    return None


def nntp_login(src, host, port, user, *passwords):
    s = nntp_connect(src, host, port)
    if s is None:
        return
    for pw in passwords:
        try:
            s.login(user, pw, usenetrc=False)
            print("281")
        except nntplib.NNTPError as e:
            print(code_of(e.response))
        except (EOFError, OSError):
            print("closed")
            return
    try:
        s.quit()
    except (nntplib.NNTPError, EOFError, OSError):
        print("closed")


def nntp_junk(src, host, port, n):
    s = nntp_connect(src, host, port)
    if s is None:
        return
    for i in range(int(n)):
        try:
            print(code_of(s._shortcmd("XJUNK%d" % i)))
        except nntplib.NNTPError as e:
            print(code_of(e.response))
        except (EOFError, OSError):
            print("closed")
            return


def raw_name(proto, src, host, port, name):
    name = ast.literal_eval(name)
    sock = socket.create_connection((host, int(port)), TIMEOUT, source_address=(src, 0))
    f = sock.makefile("rwb")
    print(f.readline().decode("utf-8", "replace")[:3])
    if proto == "ftp":
        lines = ["USER " + name, "PASS wrong-password"]
    else:
        lines = ["AUTHINFO USER " + name, "AUTHINFO PASS wrong-password"]
    for line in lines:
        f.write(line.encode("utf-8", "surrogateescape") + b"\r\n")
        f.flush()
        reply = f.readline()
        print(reply.decode("utf-8", "replace")[:3] if reply else "closed")
    sock.close()


def main():
    action, src, host, port, *rest = sys.argv[1:]
    actions = {
        "ftp-login": lambda: ftp_login(src, host, int(port), *rest),
        "nntp-login": lambda: nntp_login(src, host, port, *rest),
        "ftp-junk": lambda: ftp_junk(src, host, int(port), *rest),
        "nntp-junk": lambda: nntp_junk(src, host, port, *rest),
        "ftp-name": lambda: raw_name("ftp", src, host, port, *rest),
        "nntp-name": lambda: raw_name("nntp", src, host, port, *rest),
    }
    actions[action]()


if __name__ == "__main__":
    main()
