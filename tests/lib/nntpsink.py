#!/usr/bin/env python3
"""nntpsink.py: a small NNTP peer that takes every article fed to it.

usage: nntpsink.py PORTFILE LOG [COMMANDS [CERT KEY [inject]]]
Listens on 127.0.0.1 (a free port, written to PORTFILE once listening);
answers MODE STREAM (203), CHECK (238 unless already taken: 438), TAKETHIS
(239), IHAVE (335, then 235), AUTHINFO USER (381) and PASS (281, any) and QUIT; appends "<message-id>" per article
taken to LOG (flushed at once). With COMMANDS, appends there "clear VERB"
or "tls VERB" for every command line received (and "tls-failed" for a
handshake that did not finish); with CERT and KEY, answers STARTTLS 382
and does the TLS handshake with them (else STARTTLS gets 502); with inject,
a reply line "500 injected in clear" follows the 382 in the same write (a
STARTTLS injection: a client must not read it as an answer inside TLS).
Runs until killed."""
import os
import socket
import ssl
import sys
import threading

taken = set()
lock = threading.Lock()


def note(cmds, text):
    if cmds is not None:
        with lock:
            cmds.write(text + "\n")
            cmds.flush()


def serve(conn, log, cmds=None, tls=None, inject=False):
    f = conn.makefile("rb")
    conn.sendall(b"200 nntpsink ready\r\n")
    layer = "clear"

    def article():
        while True:
            line = f.readline()
            if not line or line == b".\r\n":
                return bool(line)

    def take(mid):
        with lock:
            new = mid not in taken
            taken.add(mid)
            if new:
                log.write(mid + "\n")
                log.flush()
        return new

    while True:
        line = f.readline()
        if not line:
            return
        words = line.decode("utf-8", "replace").split()
        cmd = words[0].upper() if words else ""
        mid = words[1] if len(words) > 1 else ""
        note(cmds, "%s %s" % (layer, cmd))
        if cmd == "STARTTLS" and tls is not None and layer == "clear":
            extra = b"500 injected in clear\r\n" if inject else b""
            conn.sendall(b"382 Continue with TLS negotiation\r\n" + extra)
            try:
                conn = tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                note(cmds, "tls-failed")
                return
            f = conn.makefile("rb")
            layer = "tls"
        elif cmd == "STARTTLS":
            conn.sendall(b"502 TLS is not available\r\n")
        elif cmd == "AUTHINFO":
            user = len(words) > 1 and words[1].upper() == "USER"
            conn.sendall(b"381 Password required\r\n" if user else b"281 Welcome\r\n")
        elif cmd == "MODE":
            conn.sendall(b"203 Streaming ok\r\n")
        elif cmd == "CHECK":
            with lock:
                seen = mid in taken
            conn.sendall(("%s %s\r\n" % ("438" if seen else "238", mid)).encode())
        elif cmd == "TAKETHIS":
            if not article():
                return
            take(mid)
            conn.sendall(("239 %s\r\n" % mid).encode())
        elif cmd == "IHAVE":
            conn.sendall(b"335 Send it\r\n")
            if not article():
                return
            take(mid)
            conn.sendall(b"235 Thanks\r\n")
        elif cmd == "QUIT":
            conn.sendall(b"205 Bye\r\n")
            return
        else:
            conn.sendall(b"500 What?\r\n")


def main():
    portfile, logname = sys.argv[1], sys.argv[2]
    log = open(logname, "a")
    cmds = open(sys.argv[3], "a") if len(sys.argv) > 3 else None
    tls = None
    inject = len(sys.argv) > 6 and sys.argv[6] == "inject"
    if len(sys.argv) > 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[4], sys.argv[5])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(portfile + ".tmp", "w") as p:
        p.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, log, cmds, tls, inject), daemon=True).start()


if __name__ == "__main__":
    main()
