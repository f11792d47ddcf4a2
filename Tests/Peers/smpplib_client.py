#!/usr/bin/env python3
"""A client on python smpplib for the tests: binds, sends submit_sm messages, unbinds. It logs every byte smpplib
writes to and reads from its socket, so the tests can compare what crossed a proxy with what this client saw.

usage: smpplib_client.py HOST PORT LOGFILE COUNT [--kill-after N]
  --kill-after N   after the Nth submit_sm is sent and the proxy's host has acknowledged every byte written (the
                   socket's send queue is empty: what is logged as sent has left this process's kernel), the
                   process kills itself with SIGKILL (the kernel closes its socket with the answers unread, so with a
                   RST, as when a client crashes mid-window)
The log has one line per read or write: "sent HEX" or "received HEX"; "done" after a clean unbind.
"""
import fcntl
import os
import signal
import socket
import sys
import termios
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm


class LoggedSocket:
    """A socket that logs what passes through it."""

    def __init__(self, inner, log):
        self._inner = inner
        self._log = log

    def sendall(self, data):
        self._inner.sendall(data)
        self._log.write("sent %s\n" % bytes(data).hex())
        self._log.flush()

    def send(self, data):
        sent = self._inner.send(data)
        self._log.write("sent %s\n" % bytes(data[:sent]).hex())
        self._log.flush()
        return sent

    def recv(self, size):
        data = self._inner.recv(size)
        if data:
            self._log.write("received %s\n" % data.hex())
            self._log.flush()
        return data

    def __getattr__(self, name):
        return getattr(self._inner, name)


class LoggedClient(smpplib.client.Client):
    def __init__(self, host, port, log):
        super().__init__(host, port, timeout=10, allow_unknown_opt_params=True)
        self._log_file = log

    def _create_socket(self):
        return LoggedSocket(super()._create_socket(), self._log_file)


def wait_until_sent(sock, seconds=10.0):
    """Waits until the kernel holds none of the socket's bytes unsent or unacknowledged (Linux: TIOCOUTQ)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pending = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        if int.from_bytes(pending, sys.byteorder) == 0:
            return
        time.sleep(0.005)
    raise SystemExit("the socket's send queue did not empty")


def main():
    host, port, logfile, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    kill_after = None
    if "--kill-after" in sys.argv:
        kill_after = int(sys.argv[sys.argv.index("--kill-after") + 1])
    with open(logfile, "w") as log:
        client = LoggedClient(host, port, log)
        client.connect()
        client.bind_transceiver(system_id="tester", password="s3cr3tpw")
        for index in range(count):
            parts, coding, esm_class = smpplib.gsm.make_parts("message %d" % index)
            for part in parts:
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7701%07d" % index,
                    short_message=part, data_coding=coding, esm_class=esm_class, registered_delivery=False)
            if kill_after is not None and index + 1 == kill_after:
                wait_until_sent(client._socket)
                os.kill(os.getpid(), signal.SIGKILL)
        # Every submit_sm_resp, then the unbind.
        for _ in range(count):
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
