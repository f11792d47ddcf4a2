#!/usr/bin/env python3
"""Kannel (bearerbox + smsbox) sends messages with delivery reports requested to an SMSC, and says which reports
it could link to its messages. Kannel's own log and its DLR callbacks are the oracle.

usage: kannel_receipts.py WORKDIR SMSC_PORT MSG_ID_TYPE COUNT ADMIN_PORT SMSBOX_PORT SENDSMS_PORT DLR_PORT
       [KEY=VALUE...]
  MSG_ID_TYPE   the smsc group's msg-id-type (0x00..0x03), or "none" to leave it out (ids compared as text)
  KEY=VALUE     more settings of the smsc group (such as wait-ack=2); core:KEY=VALUE of the core group;
                linger=SECONDS to wait that long after the reports, before the shutdown
Prints, one per line: "sent N", "linked N" (final reports delivered to the DLR URL), "not-found N" (reports the
bearerbox log says it found no message for), "not-acked N" (messages the bearerbox log says went unanswered past
wait-ack).
"""
import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

work, smsc_port, msg_id_type, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
admin_port, smsbox_port, sendsms_port, dlr_port = (int(value) for value in sys.argv[5:9])
# Each setting on its own line of the smsc group (a blank line would end the group).
settings = [setting for setting in sys.argv[9:] if not setting.startswith(("core:", "linger="))]
extra = "".join(setting.replace("=", " = ", 1) + "\n" for setting in settings)
core_extra = "".join(
    setting[5:].replace("=", " = ", 1) + "\n" for setting in sys.argv[9:] if setting.startswith("core:"))
linger = sum(float(setting[7:]) for setting in sys.argv[9:] if setting.startswith("linger="))

configuration = f"""
group = core
admin-port = {admin_port}
admin-password = doctor
smsbox-port = {smsbox_port}
log-file = "{work}/bearerbox.log"
log-level = 1
dlr-storage = internal
{core_extra}
group = smsc
smsc = smpp
smsc-id = doctor
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = "kannel"
smsc-password = "secret"
system-type = "DOCTOR"
{"" if "enquire-link-interval = " in extra else "enquire-link-interval = 60" + chr(10)}source-addr-ton = 5
source-addr-npi = 0
dest-addr-ton = 1
dest-addr-npi = 1
{extra}{"" if msg_id_type == "none" else "msg-id-type = " + msg_id_type}

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms_port}
log-file = "{work}/smsbox.log"
log-level = 1

group = sendsms-user
username = doctor
password = doctor

group = sms-service
keyword = default
text = "received"
"""
path = os.path.join(work, "kannel.conf")
with open(path, "w") as file:
    file.write(configuration)

reports = []


class DLR(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        reports.append((query.get("n", [""])[0], query.get("type", [""])[0]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", dlr_port), DLR)
threading.Thread(target=server.serve_forever, daemon=True).start()

output = open(os.path.join(work, "kannel.out"), "w")
bearerbox = subprocess.Popen(["bearerbox", path], stdout=output, stderr=output)
smsbox = None
try:
    # bearerbox up: its smsbox port takes connections (messages wait in it until the SMSC is bound).
    import socket

    deadline = time.time() + 20
    log = os.path.join(work, "bearerbox.log")
    while time.time() < deadline:
        if bearerbox.poll() is not None:
            raise SystemExit("bearerbox stopped: see " + log)
        try:
            socket.create_connection(("127.0.0.1", smsbox_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    smsbox = subprocess.Popen(["smsbox", path], stdout=output, stderr=output)
    deadline = time.time() + 20
    while time.time() < deadline:
        if smsbox.poll() is not None:
            raise SystemExit("smsbox stopped: see " + os.path.join(work, "smsbox.log"))
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{sendsms_port}/", timeout=1).read()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    for index in range(count):
        query = {
            "username": "doctor", "password": "doctor", "from": "DOCTOR", "to": f"7702{index:07d}",
            "text": f"receipt id doctor {index}", "dlr-mask": "3",
            "dlr-url": f"http://127.0.0.1:{dlr_port}/dlr?n={index}&type=%d",
        }
        url = f"http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
    print(f"sent {count}", flush=True)

    def not_found():
        text = open(log).read() if os.path.exists(log) else ""
        return sum(1 for line in text.splitlines() if "DLR[" in line and "not found" in line)

    # Every report either reached the DLR URL or was logged as not found.
    deadline = time.time() + 30
    while time.time() < deadline:
        final = {n for n, kind in reports if kind in ("1", "2")}
        if len(final) + not_found() >= count:
            break
        time.sleep(0.2)
    time.sleep(0.5 + linger)
    print(f"linked {len({n for n, kind in reports if kind in ('1', '2')})}", flush=True)
    print(f"not-found {not_found()}", flush=True)
    text = open(log).read() if os.path.exists(log) else ""
    print(f"not-acked {sum(1 for line in text.splitlines() if 'Not ACKED message found' in line)}", flush=True)
finally:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/shutdown?password=doctor", timeout=5).read()
    except OSError:
        pass
    for process in (smsbox, bearerbox):
        if process is None:
            continue
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    server.shutdown()
