"""ftpraw: a tiny raw FTP client for tests that need exact control of the
control and data connections (STAT/ABOR during a transfer, active mode,
IPv6). Every socket operation has a timeout.

    from ftpraw import Ctl
    c = Ctl(host, port)           # reads the 220 greeting into c.greeting
    c.login()                     # anonymous
    code, lines = c.cmd("NOOP")   # one whole (multi-line aware) reply
    d = c.epsv()                  # connected passive data socket
"""

import re
import socket
import time


class Ctl:
    def __init__(self, host, port, timeout=20, family=None):
        if family is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.host = host
        self.timeout = timeout
        self.buf = b""
        self.greeting = self.reply()

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("control connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "surrogateescape")

    def reply(self):
        """(code, [lines]) of one reply."""
        first = self.readline()
        lines = [first]
        code = first[:3]
        if first[3:4] == "-":
            while True:
                line = self.readline()
                lines.append(line)
                if line[:3] == code and line[3:4] == " ":
                    break
        return int(code), lines

    def send(self, line):
        self.sock.sendall(line.encode("utf-8", "surrogateescape") + b"\r\n")

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def login(self, user="anonymous", password="test@"):
        code, lines = self.cmd("USER " + user)
        if code == 331:
            code, lines = self.cmd("PASS " + password)
        if code != 230:
            raise RuntimeError("login failed: %r" % lines)

    def epsv(self):
        code, lines = self.cmd("EPSV")
        if code != 229:
            raise RuntimeError("EPSV: %r" % lines)
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", lines[0]).group(1))
        host = self.sock.getpeername()[0]
        return socket.create_connection((host, port), timeout=self.timeout)

    def close(self):
        self.sock.close()


def read_all(sock, limit=None):
    """Bytes from sock until EOF (or limit bytes)."""
    out = bytearray()
    while limit is None or len(out) < limit:
        b = sock.recv(1 << 20)
        if not b:
            break
        out += b
    return bytes(out)


def wait_until(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
