#!/usr/bin/env python3
"""A local receiver of Sinergi webhooks: verifies each delivery's signature and prints its event.

Python 3.8+, standard library only. Against a development gateway on this machine:

    SINERGI_WEBHOOK_ALLOW_PRIVATE_TARGETS=true cargo run -p sinergi-api    # the gateway
    python3 docs/examples/webhook_receiver.py --port 9000 --secret "at-least-16-characters-secret"

then register http://127.0.0.1:9000/events with the same secret (docs/integrators.md,
"A receiver on your machine"). Each verified delivery prints one JSON line:
{"sequence": "42", "action": "CREATED", "entityType": "BENEFICIARY", ...}. A delivery whose
signature does not verify is answered 401 and printed to stderr; Sinergi retries it.
"""

import argparse
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_AGE_SECONDS = 300


def verify(header: str, body: bytes, secret: str) -> bool:
    """Checks `Sinergi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > MAX_AGE_SECONDS:
        return False
    mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts.get("v1", ""))


def handler(secret: str, seen: set):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(self.headers.get("Sinergi-Signature", ""), body, secret):
                print("refused: the signature does not verify", file=sys.stderr, flush=True)
                self.send_response(401)
                self.end_headers()
                return
            event = json.loads(body)["event"]
            # At least once: the same sequence may come again; handle it once.
            if event["sequence"] not in seen:
                seen.add(event["sequence"])
                print(json.dumps(event), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format, *args):  # quiet: one line per event is enough
            pass

    return Receiver


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the secret given to registerWebhook")
    args = parser.parse_args()
    server = HTTPServer((args.host, args.port), handler(args.secret, set()))
    print(f"listening on http://{args.host}:{server.server_port}/events", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
