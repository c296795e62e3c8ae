#!/usr/bin/env python3
"""scrape-server.py: the /metrics server of the scrape e2e test (stdlib only).

Binds 127.0.0.1 on a free port, writes the port to --port-file (atomically)
and serves until killed:
  /metrics   the current contents of --file, re-read on every request, as
             prom-client serves it (text/plain; version=0.0.4)
  other      404
The test swaps the file (write + rename) to change what the agent scrapes.
"""

import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        with open(self.server.metrics_file, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type",
                         "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.metrics_file = a.file
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
