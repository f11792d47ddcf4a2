#!/usr/bin/env python3
"""Sends messages through Kannel's sendsms interface (above the SMSC's rate), with delivery reports requested,
and waits for every report at a local DLR URL. Usage: kannel_scenario.py COUNT
Exits non-zero when a sendsms call fails or a report does not arrive."""
import http.server
import sys
import threading
import time
import urllib.parse
import urllib.request

count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
reports = []


class DLR(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        reports.append((query.get("id", [""])[0], query.get("type", [""])[0]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 13099), DLR)
threading.Thread(target=server.serve_forever, daemon=True).start()


def send(number, text, coding=0):
    query = {
        "username": "capture", "password": "capture", "from": "SMSCKZ", "to": number, "text": text,
        "dlr-mask": "3", "dlr-url": f"http://127.0.0.1:13099/dlr?id={number}&type=%d", "charset": "UTF-8",
    }
    if coding:
        query["coding"] = str(coding)
    url = "http://127.0.0.1:13013/cgi-bin/sendsms?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
        if response.status not in (200, 202):
            raise SystemExit(f"sendsms {number}: {response.status} {body}")


messages = [(f"7701300{index:04d}", f"Kannel burst message {index}", 0) for index in range(count)]
messages.append(("77013100001", "Long GSM message from Kannel: " + "the quick brown fox jumps over the lazy dog " * 5, 0))
messages.append(("77013100002", "Длинное сообщение из Kannel в UCS-2: " + "съешь же ещё этих мягких французских булок " * 3, 2))
for number, text, coding in messages:
    send(number, text, coding)

deadline = time.time() + 150  # Kannel resends a throttled message a minute later
while time.time() < deadline and len({r[0] for r in reports if r[1] in ("1", "2")}) < len(messages):
    time.sleep(0.2)
final = {r[0] for r in reports if r[1] in ("1", "2")}
server.shutdown()
if len(final) < len(messages):
    raise SystemExit(f"only {len(final)} of {len(messages)} final delivery reports arrived")
print(f"kannel: {len(messages)} messages sent through sendsms, {len(final)} final delivery reports")
