#!/usr/bin/env python3
"""A client on python smpplib that sends long messages and asks for receipts: binds a transceiver, sends COUNT
messages of three parts each (user data headers, as smpplib makes them) with registered_delivery 1, waits for
every response and for a receipt per message the SMSC took whole or in part, unbinds. It logs what it saw itself,
so that the tests can check what smppscope says against the client's own view.

usage: smpplib_long_receipts.py HOST PORT SYSTEM_ID PASSWORD COUNT LOGFILE [LINGER]
LINGER: seconds to stay bound after the last receipt, then one enquire_link before the unbind (so that a capture
runs on past the messages).
The log has a line per event:
  "part SEQUENCE MESSAGE NUMBER TOTAL SENT_AT"   a part sent (SENT_AT: seconds since 1970, this host's clock)
  "response SEQUENCE STATUS ID"                  a submit_sm_resp (STATUS in decimal)
  "receipt ID SUBMIT_DATE DONE_DATE STAT"        a receipt, its dates as its text gives them
then "done".
"""
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm
import smpplib.smpp


def text(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def field(message, key):
    if key not in message:
        return "-"
    return message.split(key, 1)[1].split(" ", 1)[0]


def main():
    host, port, system_id, password, count, logfile = sys.argv[1:7]
    linger = float(sys.argv[7]) if len(sys.argv) > 7 else 0
    count = int(count)
    responses = {}
    refused = set()
    receipts = []
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=10, allow_unknown_opt_params=True)

        def answered(pdu):
            responses[pdu.sequence] = pdu.status
            if pdu.status != 0:
                refused.add(pdu.sequence)
            log.write("response %d %d %s\n" % (pdu.sequence, pdu.status, text(pdu.message_id or b"-") or "-"))
            log.flush()

        def received(pdu):
            message = text(pdu.short_message or b"")
            identifier = text(getattr(pdu, "receipted_message_id", None) or field(message, "id:"))
            receipts.append(identifier)
            log.write(
                "receipt %s %s %s %s\n"
                % (identifier, field(message, "submit date:"), field(message, "done date:"), field(message, "stat:"))
            )
            log.flush()

        client.set_message_sent_handler(answered)
        # Error responses are logged like the others, not raised.
        client.set_error_pdu_handler(lambda pdu: None)
        client.set_message_received_handler(received)
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        sent = 0
        for index in range(count):
            body = ("long message %d " % index) * 30
            parts, coding, esm_class = smpplib.gsm.make_parts(body[:400])
            for number, part in enumerate(parts, start=1):
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7705%07d" % index,
                    short_message=part, data_coding=coding, esm_class=esm_class, registered_delivery=True)
                sent += 1
                log.write("part %d %d %d %d %.6f\n" % (pdu.sequence, index, number, len(parts), time.time()))
                log.flush()
        deadline = time.monotonic() + 30
        while (len(responses) < sent or len(receipts) < count) and time.monotonic() < deadline:
            client.read_once()
        if linger > 0:
            time.sleep(linger)
            client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
