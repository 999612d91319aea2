"""ftptls: TLS helpers for the FTPS tests (tests/ftp_tls.bats, ftp_guards.bats).

    from ftptls import ctx, ReuseFTP_TLS, TlsCtl
    c = ctx(tls="1.3", alpn=["ftp"])   # client context, no certificate checks
    f = ReuseFTP_TLS(context=c, timeout=20)  # ftplib.FTP_TLS that resumes the
                                        # control session on data connections
    t = TlsCtl(host, port)              # ftpraw.Ctl; t.starttls() after 234
    t.upgrade(c)                        # wrap the control socket now

Every socket has a timeout; nothing here loops without a bound.
"""

import ftplib
import socket
import ssl

from ftpraw import Ctl

VERSIONS = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def ctx(tls=None, alpn=None):
    """A client context that trusts the self-signed test certificate.
    tls: None (any), "1.2" or "1.3" (pinned); alpn: list of protocols."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    if tls is not None:
        c.minimum_version = VERSIONS[tls]
        c.maximum_version = VERSIONS[tls]
    if alpn is not None:
        c.set_alpn_protocols(alpn)
    return c


class ReuseFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS
    session, as curl, lftp and FileZilla do (stock ftplib never does).
    steal_from: another FTP_TLS whose session to offer instead (an attack)."""

    steal_from = None

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            src = self.steal_from if self.steal_from is not None else self
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=src.sock.session)
        return conn, size


class TlsCtl(Ctl):
    """ftpraw.Ctl that can switch its control socket to TLS."""

    def upgrade(self, context):
        if self.buf:
            raise RuntimeError("bytes after 234 in clear: %r" % self.buf)
        self.context = context
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
        return self.sock

    def wrap_data(self, sock, **kw):
        """TLS on a data socket, resuming this control session."""
        return self.context.wrap_socket(sock, server_hostname=self.host,
                                        session=self.sock.session, **kw)

    def starttls(self, context=None, command="AUTH TLS"):
        code, lines = self.cmd(command)
        if code != 234:
            raise RuntimeError("%s: %r" % (command, lines))
        return self.upgrade(context or ctx())

    def pasv_plain(self):
        """EPSV and connect (plain TCP); returns the socket."""
        return self.epsv()


def read_tls_all(sock, limit=1 << 30):
    """Bytes from an SSLSocket until close_notify; raises ssl.SSLEOFError
    when the peer closed the TCP stream without it (the socket must have been
    wrapped with suppress_ragged_eofs=False)."""
    out = bytearray()
    while len(out) < limit:
        b = sock.recv(1 << 20)
        if not b:
            break
        out += b
    return bytes(out)
