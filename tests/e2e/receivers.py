#!/usr/bin/env python3
"""receivers.py: local stand-ins for Slack, PagerDuty, Alertmanager and a
webhook receiver, for the notification tests (python3 stdlib only).

Binds 127.0.0.1 only (--port, default a free one). Writes the port to
--port-file (atomically) once listening. Every POST is validated against
the schema of the service it pretends to be (field names, types, lengths,
required fields, allowed values — see the validate_* functions, written
from INTEGRATIONS.md 6.1-6.4 and the services' documentation); a payload
that does not validate is answered 400 with the reasons, and recorded.

Paths:
  POST /slack/...                 Slack incoming webhook: 200 "ok"
  POST /pagerduty/v2/enqueue      PagerDuty Events v2: 202 JSON
  POST /am/api/v2/alerts          Alertmanager API v2: 200
  POST /webhook/...               webhook (Alertmanager v4 + slopewatch,
                                  Standard Webhooks headers): 200
  POST /_mode?service=S&modes=M1,M2,...
                                  queue answers for service S (slack,
                                  pagerduty, am, webhook), one per request,
                                  then "ok" again: ok | 400 | 500 | 410 |
                                  429:SECONDS (Retry-After) | 503:SECONDS |
                                  slow:MS (then ok) | echo400 (400 echoing
                                  the request body) | hang
  GET  /_log                      JSON array of every request recorded:
                                  {service, t, headers, body, errors, status}
Options: --webhook-secret S (verify webhook-signature), --pd-key K (the
routing key PagerDuty events must carry), --log FILE (also append each
record as a JSON line).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
RECORDS = []
MODES = {"slack": [], "pagerduty": [], "am": [], "webhook": []}
ARGS = None

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def rfc3339(s):
    if not isinstance(s, str):
        return False
    t = s.replace("Z", "+00:00")
    # python < 3.11 wants at most 6 fraction digits
    t = re.sub(r"\.(\d{6})\d+", r".\1", t)
    try:
        datetime.fromisoformat(t)
        return True
    except ValueError:
        return False


def strmap(o, where, errs, keyre=None):
    if not isinstance(o, dict):
        errs.append("%s: not an object" % where)
        return
    for k, v in o.items():
        if not isinstance(v, str):
            errs.append("%s.%s: not a string" % (where, k))
        if keyre is not None and not keyre.match(k):
            errs.append("%s: bad name %r" % (where, k))


def only_keys(o, allowed, where, errs):
    for k in o:
        if k not in allowed:
            errs.append("%s: unknown field %r" % (where, k))


def text_obj(o, where, errs, maxlen, types):
    if not isinstance(o, dict):
        errs.append("%s: not a text object" % where)
        return
    if o.get("type") not in types:
        errs.append("%s.type: %r not in %s" % (where, o.get("type"), types))
    t = o.get("text")
    if not isinstance(t, str) or not t:
        errs.append("%s.text: missing or empty" % where)
    elif len(t) > maxlen:
        errs.append("%s.text: %d chars > %d" % (where, len(t), maxlen))


def validate_slack(body, headers, errs):
    if not isinstance(body, dict):
        errs.append("body: not an object")
        return
    only_keys(body, {"text", "blocks", "channel", "username", "icon_emoji",
                     "icon_url"}, "body", errs)
    if not isinstance(body.get("text"), str) or not body.get("text"):
        errs.append("text: required fallback missing")
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        errs.append("blocks: missing")
        return
    if len(blocks) > 50:
        errs.append("blocks: %d > 50" % len(blocks))
    for i, b in enumerate(blocks):
        w = "blocks[%d]" % i
        if not isinstance(b, dict):
            errs.append(w + ": not an object")
            continue
        t = b.get("type")
        if t == "header":
            only_keys(b, {"type", "text", "block_id"}, w, errs)
            text_obj(b.get("text"), w + ".text", errs, 150, ["plain_text"])
        elif t == "section":
            only_keys(b, {"type", "text", "fields", "block_id"}, w, errs)
            text_obj(b.get("text"), w + ".text", errs, 3000,
                     ["mrkdwn", "plain_text"])
        elif t == "context":
            only_keys(b, {"type", "elements", "block_id"}, w, errs)
            el = b.get("elements")
            if not isinstance(el, list) or not 1 <= len(el) <= 10:
                errs.append(w + ".elements: 1 to 10 required")
            else:
                for j, e in enumerate(el):
                    text_obj(e, "%s.elements[%d]" % (w, j), errs, 3000,
                             ["mrkdwn", "plain_text"])
        elif t == "divider":
            pass
        else:
            errs.append(w + ".type: %r not a known block" % t)
    for k in ("channel", "username", "icon_emoji", "icon_url"):
        if k in body and not isinstance(body[k], str):
            errs.append(k + ": not a string")


def validate_pagerduty(body, headers, errs):
    if not isinstance(body, dict):
        errs.append("body: not an object")
        return
    only_keys(body, {"routing_key", "event_action", "dedup_key", "payload",
                     "images", "links", "client", "client_url"}, "body", errs)
    rk = body.get("routing_key")
    if not isinstance(rk, str) or not rk:
        errs.append("routing_key: required")
    elif ARGS.pd_key and rk != ARGS.pd_key:
        errs.append("routing_key: not the configured key")
    act = body.get("event_action")
    if act == "acknowledge":
        errs.append("event_action: slopewatch must never acknowledge")
    elif act not in ("trigger", "resolve"):
        errs.append("event_action: %r" % act)
    dk = body.get("dedup_key")
    if not isinstance(dk, str) or not dk:
        errs.append("dedup_key: required (stable per alert)")
    elif len(dk) > 255:
        errs.append("dedup_key: %d chars > 255" % len(dk))
    elif not dk.startswith("slopewatch/"):
        errs.append("dedup_key: not slopewatch/<host>/<rule>")
    if act == "trigger":
        p = body.get("payload")
        if not isinstance(p, dict):
            errs.append("payload: required for trigger")
            return
        only_keys(p, {"summary", "source", "severity", "timestamp",
                      "component", "group", "class", "custom_details"},
                  "payload", errs)
        s = p.get("summary")
        if not isinstance(s, str) or not s:
            errs.append("payload.summary: required")
        elif len(s) > 1024:
            errs.append("payload.summary: %d chars > 1024" % len(s))
        if not isinstance(p.get("source"), str) or not p.get("source"):
            errs.append("payload.source: required")
        if p.get("severity") not in ("critical", "error", "warning", "info"):
            errs.append("payload.severity: %r" % p.get("severity"))
        if "timestamp" in p and not rfc3339(p["timestamp"]):
            errs.append("payload.timestamp: not ISO 8601")
        for k in ("component", "group", "class"):
            if k in p and not isinstance(p[k], str):
                errs.append("payload.%s: not a string" % k)
        if "custom_details" in p and not isinstance(p["custom_details"],
                                                    dict):
            errs.append("payload.custom_details: not an object")
    elif act == "resolve" and "payload" in body:
        pass  # allowed, ignored


def validate_am_alert(a, w, errs, webhook):
    if not isinstance(a, dict):
        errs.append(w + ": not an object")
        return
    allowed = {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
    if webhook:
        allowed |= {"status", "fingerprint"}
    only_keys(a, allowed, w, errs)
    lab = a.get("labels")
    strmap(lab, w + ".labels", errs, LABEL_NAME)
    if not isinstance(lab, dict) or not lab.get("alertname"):
        errs.append(w + ".labels.alertname: required")
    if "annotations" in a:
        strmap(a["annotations"], w + ".annotations", errs)
    for k in ("startsAt", "endsAt"):
        if k in a and not rfc3339(a[k]):
            errs.append("%s.%s: not RFC 3339: %r" % (w, k, a[k]))
    g = a.get("generatorURL")
    if g is not None and (not isinstance(g, str) or
                          not re.match(r"^https?://[^ ]+$", g)):
        errs.append(w + ".generatorURL: not a URI")
    if webhook:
        if a.get("status") not in ("firing", "resolved"):
            errs.append(w + ".status: %r" % a.get("status"))
        if not re.match(r"^[0-9a-f]{16}$", str(a.get("fingerprint"))):
            errs.append(w + ".fingerprint: not 16 hex digits")
        for k in ("startsAt", "endsAt", "generatorURL", "annotations"):
            if k not in a:
                errs.append("%s.%s: required" % (w, k))


def validate_am(body, headers, errs):
    if not isinstance(body, list) or not body:
        errs.append("body: not a non-empty array of postableAlert")
        return
    for i, a in enumerate(body):
        validate_am_alert(a, "[%d]" % i, errs, False)


def validate_webhook(body, headers, raw, errs):
    if not isinstance(body, dict):
        errs.append("body: not an object")
        return
    need = {"version": str, "groupKey": str, "truncatedAlerts": int,
            "status": str, "receiver": str, "groupLabels": dict,
            "commonLabels": dict, "commonAnnotations": dict,
            "externalURL": str, "alerts": list, "slopewatch": dict}
    for k, t in need.items():
        if not isinstance(body.get(k), t) or isinstance(body.get(k), bool):
            errs.append("%s: required %s" % (k, t.__name__))
    only_keys(body, set(need), "body", errs)
    if body.get("version") != "4":
        errs.append("version: %r, expected \"4\"" % body.get("version"))
    if body.get("status") not in ("firing", "resolved"):
        errs.append("status: %r" % body.get("status"))
    for k in ("groupLabels", "commonLabels", "commonAnnotations"):
        if isinstance(body.get(k), dict):
            strmap(body[k], k, errs)
    alerts = body.get("alerts") or []
    if not alerts:
        errs.append("alerts: empty")
    for i, a in enumerate(alerts):
        validate_am_alert(a, "alerts[%d]" % i, errs, True)
    sw = body.get("slopewatch") or {}
    if sw.get("version") != 1:
        errs.append("slopewatch.version: %r, expected 1" % sw.get("version"))
    docs = sw.get("alerts")
    if not isinstance(docs, list) or len(docs) != len(alerts):
        errs.append("slopewatch.alerts: not one per alert")
        docs = []
    for i, d in enumerate(docs):
        w = "slopewatch.alerts[%d]" % i
        for k, t in (("rule", str), ("event", str), ("severity", str),
                     ("summary", str), ("time_ms", int), ("instance", dict),
                     ("spark", list), ("labels", dict), ("version", int)):
            if not isinstance(d.get(k), t):
                errs.append("%s.%s: required %s" % (w, k, t.__name__))
        if d.get("severity") not in ("info", "warning", "critical"):
            errs.append(w + ".severity: %r" % d.get("severity"))
        if "value" not in d or "trend" not in d:
            errs.append(w + ": value and trend required (may be null)")
        if not isinstance((d.get("instance") or {}).get("host"), str):
            errs.append(w + ".instance.host: required")
    # Standard Webhooks
    wid = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    if not wid:
        errs.append("header webhook-id: required")
    if not ts.isdigit() or abs(int(ts) - time.time()) > 300:
        errs.append("header webhook-timestamp: not a current unix time")
    if ARGS.webhook_secret:
        sec = ARGS.webhook_secret
        key = base64.b64decode(sec[6:]) if sec.startswith("whsec_") \
            else sec.encode()
        mac = hmac.new(key, ("%s.%s." % (wid, ts)).encode() + raw,
                       hashlib.sha256).digest()
        want = "v1," + base64.b64encode(mac).decode()
        got = headers.get("webhook-signature", "").split(" ")
        if want not in got:
            errs.append("header webhook-signature: does not verify")
    elif "webhook-signature" in headers:
        errs.append("header webhook-signature: sent without a secret")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "swreceiver/1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body=b"", ctype="text/plain", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if urlsplit(self.path).path == "/_log":
            with LOCK:
                data = json.dumps(RECORDS).encode()
            self._send(200, data, "application/json")
        else:
            self._send(404, b"not found\n")

    def do_POST(self):
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if u.path == "/_mode":
            q = parse_qs(u.query)
            svc = q.get("service", [""])[0]
            modes = [m for m in q.get("modes", [""])[0].split(",") if m]
            with LOCK:
                MODES.setdefault(svc, []).extend(modes)
            self._send(200, b"ok\n")
            return
        if u.path.startswith("/slack/"):
            svc = "slack"
        elif u.path == "/pagerduty/v2/enqueue":
            svc = "pagerduty"
        elif u.path == "/am/api/v2/alerts":
            svc = "am"
        elif u.path.startswith("/webhook/"):
            svc = "webhook"
        else:
            self._send(404, b"not found\n")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        errs = []
        if not headers.get("content-type", "").startswith("application/json"):
            errs.append("content-type: not application/json")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            body = None
            errs.append("body: not JSON: %s" % e)
        if body is not None:
            if svc == "slack":
                validate_slack(body, headers, errs)
            elif svc == "pagerduty":
                if len(raw) > 512 * 1024:
                    errs.append("body: over 512 KB")
                validate_pagerduty(body, headers, errs)
            elif svc == "am":
                validate_am(body, headers, errs)
            else:
                validate_webhook(body, headers, raw, errs)
        with LOCK:
            mode = MODES[svc].pop(0) if MODES.get(svc) else "ok"
        rec = {"service": svc, "t": time.time(), "path": u.path,
               "headers": {k: headers[k] for k in headers
                           if k.startswith("webhook-") or
                           k in ("idempotency-key", "content-type",
                                 "user-agent")},
               "body": body, "errors": errs, "mode": mode}
        if errs:
            rec["status"] = 400
        elif mode.startswith("slow:"):
            rec["status"] = 200
        elif mode == "ok":
            rec["status"] = 202 if svc == "pagerduty" else 200
        else:
            rec["status"] = int(mode.split(":")[0]) \
                if mode[:3].isdigit() else 400
        with LOCK:
            RECORDS.append(rec)
        if ARGS.log:
            with LOCK, open(ARGS.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if errs:
            self._send(400, ("invalid_payload: " + "; ".join(errs)).encode())
            return
        if mode == "hang":
            time.sleep(60)
            return
        if mode.startswith("slow:"):
            time.sleep(int(mode[5:]) / 1000.0)
            mode = "ok"
        if mode == "ok":
            if svc == "slack":
                self._send(200, b"ok")
            elif svc == "pagerduty":
                self._send(202, json.dumps({
                    "status": "success", "message": "Event processed",
                    "dedup_key": body.get("dedup_key")}).encode(),
                    "application/json")
            else:
                self._send(200, b"")
        elif mode == "echo400":
            self._send(400, b"invalid_payload: " + raw)
        elif mode.startswith("429:") or mode.startswith("503:"):
            code, secs = mode.split(":")
            self._send(int(code), b"rate_limited",
                       extra={"Retry-After": secs})
        elif mode == "410":
            self._send(410, b"channel_is_archived")
        else:
            self._send(int(mode), b"error %s" % mode.encode())


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--webhook-secret")
    ap.add_argument("--pd-key")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, ARGS.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
