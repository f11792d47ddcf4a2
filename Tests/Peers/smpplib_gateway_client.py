#!/usr/bin/env python3
"""python smpplib as an ESME behind a gateway: binds, sends COUNT single messages and one long message (two parts),
all asking for receipts, waits for the receipts, unbinds. Prints one JSON object: what it sent (destination, text,
the ids the gateway answered) and the receipts it got (the id and state from their text).

usage: smpplib_gateway_client.py HOST PORT USER PASSWORD COUNT"""

import json
import re
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm


def main():
    host, port, user, password, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    client = smpplib.client.Client(host, port, allow_unknown_opt_params=True)
    sent = []
    by_sequence = {}
    receipts = []

    def on_sent(pdu):
        entry = by_sequence.get(pdu.sequence)
        if entry is not None:
            message_id = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else str(pdu.message_id)
            entry["ids"].append(message_id)
            entry["statuses"].append(pdu.status)

    def on_received(pdu):
        text = pdu.short_message.decode(errors="replace") if pdu.short_message else ""
        match = re.search(r"id:(\S+).*stat:(\w+)", text)
        if match:
            receipts.append({"id": match.group(1), "stat": match.group(2)})

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_received)
    client.connect()
    client.bind_transceiver(system_id=user, password=password)
    texts = ["gateway message %d" % i for i in range(count)]
    texts.append("A long message through the gateway, " + "split in two parts by the sender. " * 5)
    for index, text in enumerate(texts):
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        entry = {"destination": "7701200%04d" % index, "text": text, "parts": len(parts), "ids": [], "statuses": []}
        sent.append(entry)
        for part in parts:
            pdu = client.send_message(
                source_addr_ton=5, source_addr="SHOP", dest_addr_ton=1, dest_addr_npi=1,
                destination_addr=entry["destination"], short_message=part, data_coding=coding, esm_class=esm_class,
                registered_delivery=1)
            by_sequence[pdu.sequence] = entry
    # A receipt per message at least (an SMSC may send one for a long message), then a moment for the others.
    end = time.time() + 30
    client._socket.settimeout(0.5)
    while time.time() < end and len(receipts) < len(sent):
        try:
            client.read_once()
        except Exception:
            pass
    end = time.time() + 3
    while time.time() < end:
        try:
            client.read_once()
        except Exception:
            pass
    client.unbind()
    client.disconnect()
    print(json.dumps({"sent": sent, "receipts": receipts}))


if __name__ == "__main__":
    main()
