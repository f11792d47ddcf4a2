#!/usr/bin/env python3
"""A client on python smpplib that asks for receipts: binds a transceiver, sends COUNT submit_sm with
registered_delivery 1, waits for COUNT receipts, unbinds. It logs the ids as smpplib itself reads them, so that
the tests can check what smppscope says of the receipts against the client's own view.

usage: smpplib_receipts.py HOST PORT SYSTEM_ID PASSWORD COUNT LOGFILE
The log has one line per id: "response ID" for each submit_sm_resp's message_id and "receipt ID" for each
receipt's receipted_message_id (else the text's id:), then "done".
"""
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm


def text(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def main():
    host, port, system_id, password, count, logfile = sys.argv[1:7]
    count = int(count)
    responses = []
    receipts = []
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=10, allow_unknown_opt_params=True)

        def sent(pdu):
            responses.append(text(pdu.message_id))
            log.write("response %s\n" % responses[-1])
            log.flush()

        def received(pdu):
            identifier = getattr(pdu, "receipted_message_id", None)
            if not identifier:
                message = text(pdu.short_message or b"")
                identifier = message.split("id:", 1)[1].split(" ", 1)[0] if "id:" in message else ""
            receipts.append(text(identifier))
            log.write("receipt %s\n" % receipts[-1])
            log.flush()

        client.set_message_sent_handler(sent)
        client.set_message_received_handler(received)
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        for index in range(count):
            parts, coding, esm_class = smpplib.gsm.make_parts("receipt test %d" % index)
            for part in parts:
                client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7702%07d" % index,
                    short_message=part, data_coding=coding, esm_class=esm_class, registered_delivery=True)
        deadline = time.monotonic() + 30
        while (len(responses) < count or len(receipts) < count) and time.monotonic() < deadline:
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
