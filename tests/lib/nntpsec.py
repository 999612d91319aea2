"""nntpsec.py: a raw NNTP client that can turn on TLS (STARTTLS or implicit)
and COMPRESS DEFLATE (RFC 8054, raw deflate both ways), for nntp_auth.bats
and nntp_tls.bats. Every read has a timeout; nothing here loops unbounded.

    c = Client(port)                 # greeting in c.greeting
    c.cmd("CAPABILITIES")            # first reply line
    c.caps()                         # CAPABILITIES as a list of lines
    c.block()                        # data block of a multi-line reply, bytes as sent
    c.starttls(); c.compress()       # switch layers on (reply line returned)
"""

import socket
import ssl
import zlib


def tls_context(alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


class Client:
    def __init__(self, port, host="127.0.0.1", implicit=False, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if implicit:
            self.sock = tls_context().wrap_socket(self.sock)
        self.buf = b""
        self.inflater = None
        self.deflater = None
        self.wire_in = 0  # bytes received on the wire (compressed, if on)
        self.greeting = self.line()

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed the connection")
        self.wire_in += len(data)
        if self.inflater is not None:
            data = self.inflater.decompress(data)
        return data

    def rawline(self):
        while b"\r\n" not in self.buf:
            self.buf += self._recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def line(self):
        return self.rawline().decode("utf-8", "replace")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.deflater is not None:
            data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def block(self):
        """The data lines of a multi-line reply up to ".", as sent (stuffed)."""
        out = []
        while True:
            line = self.rawline()
            if line == b".":
                return b"".join(l + b"\r\n" for l in out)
            out.append(line)

    def caps(self):
        first = self.cmd("CAPABILITIES")
        assert first.startswith("101"), first
        return self.block().decode().split("\r\n")[:-1]

    def starttls(self, alpn=None):
        reply = self.cmd("STARTTLS")
        if reply.startswith("382"):
            assert self.buf == b"", self.buf
            self.sock = tls_context(alpn).wrap_socket(self.sock)
        return reply

    def compress(self):
        reply = self.cmd("COMPRESS DEFLATE")
        if reply.startswith("206"):
            assert self.buf == b"", self.buf
            self.inflater = zlib.decompressobj(-15)
            self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        return reply

    def login(self, user, password):
        reply = self.cmd("AUTHINFO USER " + user)
        if not reply.startswith("381"):
            return reply
        return self.cmd("AUTHINFO PASS " + password)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
