#!/usr/bin/env python3
"""httpd.py: the test HTTP(S) server of the endpoint tests (python3 stdlib).

Binds 127.0.0.1 only. Prints the port it listens on as one line on stdout
(and writes it to --port-file, atomically, when given), then serves until
killed. With --tls DIR it serves HTTPS with a self-signed certificate for
127.0.0.1 made with the openssl CLI in DIR (DIR/cert.pem, DIR/key.pem; reused
if present), so tests can check that verification fails by default and
passes with `insecure yes` or with `cacert DIR/cert.pem`. With --client-auth
it also requires a client certificate: DIR/client.pem with DIR/client-key.pem.

Paths (HTTP/1.1, keep-alive unless said otherwise):
  /fast                 200 "ok\\n"
  /slow?ms=N            sleeps N ms, then 200
  /status/NNN           replies NNN; ?retry-after=V adds a Retry-After header
  /huge?bytes=N         N bytes (default 5 MiB) of 'x', no Content-Length,
                        connection closed at the end (so the client only
                        learns the size by reading)
  /huge-cl?bytes=N      same with a Content-Length header
  /redirect-loop        302 to itself, forever
  /redirect?n=K         K redirects, then /fast
  /hang                 reads the request and never answers (until the
                        server exits or 60 s pass)
  /headers?n=N          200 with N extra headers
  /echo                 200, body = "METHOD\\nheader lines\\n\\nrequest body"
  /conn                 200, body = the client's port (to see reuse)
"""

import argparse
import os
import socketserver
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "swtest/1"

    def log_message(self, fmt, *args):  # quiet: tests read our stdout
        if self.server.verbose:
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def _q(self, name, default):
        qs = parse_qs(urlsplit(self.path).query)
        v = qs.get(name)
        if not v:
            return default
        try:
            return int(v[0])
        except ValueError:
            return default

    def _qs(self, name):
        qs = parse_qs(urlsplit(self.path).query)
        v = qs.get(name)
        return v[0] if v else None

    def _reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, 1 << 20)) if n > 0 else b""

    def _huge(self, with_length):
        n = self._q("bytes", 5 << 20)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if with_length:
            self.send_header("Content-Length", str(n))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while n > 0:
                k = min(n, len(chunk))
                self.wfile.write(chunk[:k])
                n -= k
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self):
        path = urlsplit(self.path).path
        if path == "/fast":
            return self._reply(200, b"ok\n")
        if path == "/slow":
            time.sleep(self._q("ms", 1000) / 1000.0)
            return self._reply(200, b"slow\n")
        if path.startswith("/status/"):
            try:
                code = int(path[len("/status/"):])
            except ValueError:
                code = 400
            hdrs = []
            ra = self._qs("retry-after")
            if ra is not None:
                hdrs.append(("Retry-After", ra))
            return self._reply(code, b"status %d\n" % code, hdrs)
        if path == "/huge":
            return self._huge(False)
        if path == "/huge-cl":
            return self._huge(True)
        if path == "/redirect-loop":
            return self._reply(302, b"", [("Location", "/redirect-loop")])
        if path == "/redirect":
            n = self._q("n", 1)
            loc = "/fast" if n <= 1 else "/redirect?n=%d" % (n - 1)
            return self._reply(302, b"", [("Location", loc)])
        if path == "/hang":
            deadline = time.time() + 60
            while time.time() < deadline and not self.server.stopping:
                time.sleep(0.05)
            self.close_connection = True
            return None
        if path == "/headers":
            n = self._q("n", 10)
            return self._reply(200, b"headers\n",
                               [("X-H%d" % i, "v" * 20) for i in range(n)])
        if path == "/echo":
            body = self._read_body()
            out = self.command.encode() + b"\n"
            for k, v in self.headers.items():
                out += ("%s: %s\n" % (k, v)).encode()
            return self._reply(200, out + b"\n" + body)
        if path == "/conn":
            return self._reply(200, b"%d" % self.client_address[1])
        return self._reply(404, b"not found\n")

    def do_GET(self):
        self._route()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256   # tests open many connections at once
    stopping = False
    verbose = False

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def make_cert(d, name="cert", keyname="key"):
    cert = os.path.join(d, name + ".pem")
    key = os.path.join(d, keyname + ".pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    os.makedirs(d, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key + ".tmp", "-out", cert + ".tmp", "-days", "2",
         "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.replace(key + ".tmp", key)
    os.replace(cert + ".tmp", cert)
    return cert, key


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tls", metavar="DIR")
    ap.add_argument("--client-auth", action="store_true",
                    help="with --tls: require a client certificate, the "
                    "self-signed DIR/client.pem (key DIR/client-key.pem)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.verbose = a.verbose
    if a.tls:
        cert, key = make_cert(a.tls)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if a.client_auth:
            ccert, _ = make_cert(a.tls, "client", "client-key")
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(ccert)
        # the handshake happens in the handler thread, on first read, so
        # a client that stalls or fails it never blocks accept()
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    sys.stdout.write("%d\n" % port)
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stopping = True
        srv.server_close()


if __name__ == "__main__":
    main()
