#!/usr/bin/env python3
"""Raw line client for FTP and NNTP protocol tests: sends lines, prints every reply.

usage: rawclient.py ftp|nntp HOST PORT [LINE]...

Connection 1 is opened first and its greeting printed.  Each LINE is sent with
CRLF and its whole reply (multi-line aware) is printed, CRLF turned into LF.
Several connections: "@N" opens connection N and prints its greeting,
"@N from ADDR" opens it from the local address ADDR (e.g. 127.0.0.2),
"@N LINE" sends LINE on connection N; output of @-lines is prefixed "N: ".
"@N expect-close" prints what connection N still receives until the server
closes it, then "<closed>".  "@sleep SECONDS" pauses.  Connection 1 is then opened only when used.
After the last line, connections whose last reply closed them (221, 205, 421,
400) are read to the end and "<closed>" is printed.  Every read has a timeout
(RAWCLIENT_TIMEOUT, default 10 s); a timeout prints "<timeout>" and exits 3,
an early close prints "<eof>" and exits 4.
"""

import os
import socket
import sys
import time

NNTP_MULTI = {100, 101, 215, 220, 221, 222, 224, 225, 230, 231}
CLOSING = {"221", "205", "421", "400"}


class Timeout(Exception):
    pass


class Eof(Exception):
    pass


class Conn:
    def __init__(self, proto, host, port, timeout, source=None):
        self.proto = proto
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""
        self.closed_by_reply = False

    def readline(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout as exc:
                raise Timeout() from exc
            except ConnectionResetError as exc:
                raise Eof() from exc
            if not data:
                raise Eof()
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self, command=None):
        """Read one whole reply; return its lines."""
        first = self.readline()
        lines = [first]
        code = first[:3]
        if self.proto == "ftp":
            if first[3:4] == "-":
                while True:
                    line = self.readline()
                    lines.append(line)
                    if line[:3] == code and line[3:4] == " ":
                        break
        elif code.isdigit():
            verb = (command or "").split(" ", 1)[0].upper()
            if int(code) in NNTP_MULTI or (code == "211" and verb == "LISTGROUP"):
                while True:
                    line = self.readline()
                    lines.append(line)
                    if line == ".":
                        break
        self.closed_by_reply = code in CLOSING
        return lines

    def send(self, line):
        self.sock.sendall(line.encode("utf-8", "surrogateescape") + b"\r\n")

    def drain(self):
        """After a closing reply: expect end of stream."""
        try:
            while self.sock.recv(65536):
                pass
        except (socket.timeout, ConnectionResetError):
            return False
        return True


def main(argv):
    proto, host, port = argv[1], argv[2], int(argv[3])
    lines = argv[4:]
    timeout = float(os.environ.get("RAWCLIENT_TIMEOUT", "10"))
    conns = {}

    def emit(prefix, text):
        sys.stdout.write(prefix + text + "\n")
        sys.stdout.flush()

    def open_conn(n, prefix, source=None):
        conns[n] = Conn(proto, host, port, timeout, source)
        for text in conns[n].reply():
            emit(prefix, text)

    multi = any(line.startswith("@") for line in lines)
    status = 0
    try:
        if not multi:
            open_conn(1, "")
        for line in lines:
            n, prefix, text = 1, "", line
            if line.startswith("@sleep "):
                time.sleep(float(line.split()[1]))
                continue
            if line.startswith("@"):
                head, _, text = line[1:].partition(" ")
                n, prefix = int(head), head + ": "
                if n not in conns:
                    source = None
                    if text.startswith("from "):
                        source, text = text[5:].strip(), ""
                    open_conn(n, prefix, source)
                if not text:
                    continue
                if text == "expect-close":
                    try:
                        while True:
                            emit(prefix, conns[n].readline())
                    except Eof:
                        emit(prefix, "<closed>")
                    conns[n].closed_by_reply = False
                    continue
            conns[n].send(text)
            for reply in conns[n].reply(text):
                emit(prefix, reply)
        for n, conn in sorted(conns.items()):
            if conn.closed_by_reply and conn.drain():
                emit(str(n) + ": " if multi else "", "<closed>")
    except Timeout:
        emit("", "<timeout>")
        status = 3
    except Eof:
        emit("", "<eof>")
        status = 4
    except OSError as exc:
        emit("", "<error: %s>" % exc)
        status = 5
    for conn in conns.values():
        conn.sock.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
