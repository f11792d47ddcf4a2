#!/usr/bin/env python3
"""A client on python smpplib for the profile's closed loop: binds a transceiver and sends BURSTS bursts, 1.6 s
apart, each of a three-part long message (user data headers), FIRST single messages, another three-part long
message and SECOND single messages, every part asking for a receipt; then it reads every response and the receipts
of the accepted parts, and unbinds. Refusals are logged, not raised; nothing is sent again.

usage: smpplib_profile_loop.py HOST PORT SYSTEM_ID PASSWORD BURSTS FIRST SECOND LOGFILE
The log has a line per event, as smpplib reads it:
  "response SEQUENCE STATUS MESSAGE_ID"   a submit_sm_resp (STATUS in decimal)
  "receipt MESSAGE_ID STATE"              a receipt (its receipted_message_id and message_state)
then "done".
"""
import sys
import time

import smpplib.client
import smpplib.consts


def text(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def main():
    host, port, system_id, password, bursts, first, second, logfile = sys.argv[1:9]
    bursts, first, second = int(bursts), int(first), int(second)
    responses = {}
    receipts = []
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=10, allow_unknown_opt_params=True)

        def answered(pdu):
            responses[pdu.sequence] = pdu.status
            log.write("response %d %d %s\n" % (pdu.sequence, pdu.status, text(pdu.message_id or "")))
            log.flush()

        def received(pdu):
            receipts.append(text(getattr(pdu, "receipted_message_id", "") or ""))
            log.write("receipt %s %s\n" % (receipts[-1], getattr(pdu, "message_state", "")))
            log.flush()

        client.set_message_sent_handler(answered)
        client.set_error_pdu_handler(lambda pdu: None)
        client.set_message_received_handler(received)
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        sent = 0
        message = 0
        def send_long():
            nonlocal sent, message
            for number in range(1, 4):
                part = bytes([0x05, 0x00, 0x03, message % 256, 3, number]) + b"loop long %d part %d" % (message, number)
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7701%07d" % message,
                    short_message=part, esm_class=smpplib.consts.SMPP_GSMFEAT_UDHI, registered_delivery=True)
                sent += 1
            message += 1

        def send_singles(count):
            nonlocal sent, message
            for _ in range(count):
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7701%07d" % message,
                    short_message=b"loop single %d" % message, registered_delivery=True)
                sent += 1
                message += 1

        for burst in range(bursts):
            send_long()
            send_singles(first)
            send_long()
            send_singles(second)
            time.sleep(1.6)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            accepted = sum(1 for status in responses.values() if status == 0)
            if len(responses) >= sent and len(receipts) >= accepted:
                break
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
