"""opsclient: what the ops_*.bats tests need from Python: PROXY protocol
headers, a line client that may send one before the greeting, passive and
active FTP data connections that go wherever the server says, and the
launchers for socket activation and inetd mode.

    from opsclient import *
    c = Line("ftp", "127.0.0.1", port, header=v2("192.0.2.7"))
    print(c.greeting)            # first reply line, or "<closed>"
    print(c.cmd("USER ftp"))     # first line of the reply
    c.closed(5)                  # True if the server closes within 5 s

Every socket operation has a timeout; nothing here loops without a bound.
"""

import os
import re
import socket
import struct
import sys
import time

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, sport=40000, dst="127.0.0.1", dport=21):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def v1_unknown():
    return b"PROXY UNKNOWN\r\n"


def v2(src, sport=40000, dst="127.0.0.1", dport=21):
    """PROXY v2 PROXY command, TCP over IPv4 or IPv6."""
    if ":" in src:
        if ":" not in dst:
            dst = "::1"
        fam = 0x21
        addrs = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    else:
        fam = 0x11
        addrs = socket.inet_aton(src) + socket.inet_aton(dst)
    body = addrs + struct.pack("!HH", sport, dport)
    return V2_SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def v2_local():
    return V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)


NNTP_MULTI = {100, 101, 215, 220, 221, 222, 224, 225, 230, 231}


class Line:
    """One control connection. header (bytes) is sent before anything is read."""

    def __init__(self, proto, host, port, header=b"", source=None, timeout=10, sock=None):
        self.proto = proto
        self.timeout = timeout
        if sock is None:
            sock = socket.create_connection(
                (host, port), timeout=timeout,
                source_address=(source, 0) if source else None)
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        if header:
            self.sock.sendall(header)
        self.greeting = self.reply()[0]

    def readline(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except socket.timeout:
                return "<timeout>"
            if not data:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line.decode("utf-8", "replace")
                return "<closed>"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self, verb=""):
        first = self.readline()
        lines = [first]
        if first.startswith("<"):
            return lines
        code = first[:3]
        if self.proto == "ftp" and first[3:4] == "-":
            while True:
                line = self.readline()
                lines.append(line)
                if line.startswith("<") or (line[:3] == code and line[3:4] == " "):
                    break
        elif self.proto == "nntp" and code.isdigit() and (
                int(code) in NNTP_MULTI or (code == "211" and verb == "LISTGROUP")):
            while True:
                line = self.readline()
                lines.append(line)
                if line in (".", "<closed>", "<timeout>"):
                    break
        return lines

    def send(self, line):
        try:
            self.sock.sendall(line.encode() + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def cmds(self, line):
        """Send LINE, return the whole reply (list of lines)."""
        self.send(line)
        return self.reply(line.split(" ", 1)[0].upper())

    def cmd(self, line):
        return self.cmds(line)[0]

    def closed(self, seconds):
        """True if the server closes (EOF or reset) within SECONDS."""
        end = time.time() + seconds
        while time.time() < end:
            self.sock.settimeout(max(0.05, end - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False

    # FTP data connections -------------------------------------------------

    def login(self, user="anonymous", password="ops@"):
        r = self.cmd("USER " + user)
        if r.startswith("331"):
            r = self.cmd("PASS " + password)
        if not r.startswith("230"):
            raise RuntimeError("login failed: " + r)

    def pasv(self, source=None):
        """PASV; connect the data socket to the address the server named."""
        r = self.cmd("PASV")
        m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", r)
        if not r.startswith("227") or not m:
            raise RuntimeError("PASV: " + r)
        n = [int(x) for x in m.groups()]
        addr = "%d.%d.%d.%d" % tuple(n[:4])
        d = socket.create_connection((addr, n[4] * 256 + n[5]), timeout=self.timeout,
                                     source_address=(source, 0) if source else None)
        return addr, d

    def port(self, local="127.0.0.1"):
        """PORT to a listening socket of ours on LOCAL; returns (reply, listener)."""
        ls = socket.socket()
        ls.bind((local, 0))
        ls.listen(1)
        ls.settimeout(self.timeout)
        p = ls.getsockname()[1]
        r = self.cmd("PORT %s,%d,%d" % (local.replace(".", ","), p // 256, p % 256))
        return r, ls

    def retr(self, path, mode="pasv", source=None, local="127.0.0.1"):
        """RETR PATH; returns (data bytes, where the data came from/went to, final reply)."""
        self.cmd("TYPE I")
        if mode == "pasv":
            where, d = self.pasv(source)
        else:
            r, ls = self.port(local)
            if not r.startswith("200"):
                ls.close()
                return b"", r, r
        r = self.cmd("RETR " + path)
        if not r.startswith("150"):
            return b"", "-", r
        if mode != "pasv":
            d, peer = ls.accept()
            ls.close()
            where = peer[0]
        d.settimeout(self.timeout)
        out = bytearray()
        while True:
            b = d.recv(1 << 16)
            if not b:
                break
            out += b
        d.close()
        return bytes(out), where, self.reply()[0]


def wait_for(pred, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def log_has(path, regex, seconds=5):
    """True once some line of the file at PATH matches REGEX (bounded wait)."""
    rx = re.compile(regex)

    def check():
        try:
            with open(path, errors="replace") as f:
                return any(rx.search(line) for line in f)
        except OSError:
            return False
    return wait_for(check, seconds)


# Launchers ------------------------------------------------------------------

def activate(argv, listen, names=None, log=None):
    """Socket activation the way systemd does it, in this process: bind and
    listen on each "ADDR:PORT" of LISTEN, move them to fds 3.., set
    LISTEN_FDS, LISTEN_PID (our own pid, which exec keeps) and LISTEN_FDNAMES,
    and exec ARGV. Never returns."""
    socks = []
    for spec in listen:
        host, port = spec.rsplit(":", 1)
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host.strip("[]"), int(port)))
        s.listen(64)
        socks.append(s)
    fds = [s.detach() for s in socks]
    # Move each out of the way first, then onto 3, 4, ...
    high = [os.dup(fd) for fd in fds]
    for fd in fds:
        os.close(fd)
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    if log:
        lf = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(lf, 2)
        os.close(lf)
    env = dict(os.environ)
    env["LISTEN_FDS"] = str(len(listen))
    env["LISTEN_PID"] = str(os.getpid())
    if names:
        env["LISTEN_FDNAMES"] = ":".join(names)
    os.execve(argv[0], argv, env)


def inetd(argv, log, proto, lines, timeout=10):
    """inetd mode: accept one connection, start ARGV with the accepted socket
    as stdin and stdout (stderr to LOG), talk LINES over it, print every
    reply, then print the daemon's exit status."""
    import subprocess
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname(), timeout=timeout)
    a, _ = ls.accept()
    ls.close()
    with open(log, "ab") as lf:
        p = subprocess.Popen(argv, stdin=a, stdout=a, stderr=lf, close_fds=True)
    a.close()
    conn = Line(proto, None, None, sock=c, timeout=timeout)
    print(conn.greeting)
    for line in lines:
        if line.startswith("RETR-PASV "):
            data, where, final = conn.retr(line.split(" ", 1)[1])
            print("DATA %d bytes from %s; %s" % (len(data), where, final))
            continue
        for r in conn.cmds(line):
            print(r)
    print("CLOSED" if conn.closed(timeout) else "STILL OPEN")
    c.close()
    try:
        print("EXIT %d" % p.wait(timeout=timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        print("EXIT timeout")


if __name__ == "__main__":
    # opsclient.py activate LOG NAMES ADDR:PORT[,ADDR:PORT...] -- ARGV...
    if len(sys.argv) > 1 and sys.argv[1] == "activate":
        log, names, listen = sys.argv[2], sys.argv[3], sys.argv[4].split(",")
        argv = sys.argv[sys.argv.index("--") + 1:]
        activate(argv, listen, names.split(":") if names != "-" else None, log)
    sys.exit(2)
