#!/usr/bin/env python3
"""A client on python smpplib that sends texts the ways misconfigured clients do: ISO-8859-1 and UCS-2 octets
under data_coding 0, a concatenation header without UDHI, a long message cut inside a GSM escape, UCS-2 texts
GSM 03.38 could carry, and plain GSM 03.38 texts. smpplib encodes every PDU; the log says what was sent, for the
tests to check smppscope's encoding findings against.

usage: smpplib_encodings.py HOST PORT SYSTEM_ID PASSWORD LOGFILE
The log has one line per submit_sm: "KIND SEQUENCE HEX" (KIND one of latin1, ucs2-dcs0, udh-no-udhi,
escape-split, ucs2-fits, gsm), then "done".
"""
import sys

import smpplib.client
import smpplib.consts


def main():
    host, port, system_id, password, logfile = sys.argv[1:6]
    responses = set()
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=10, allow_unknown_opt_params=True)
        client.set_message_sent_handler(lambda pdu: responses.add(pdu.sequence))
        client.set_error_pdu_handler(lambda pdu: responses.add(pdu.sequence))
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        sent = []

        def send(kind, octets, data_coding=0, esm_class=0, number=0):
            pdu = client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7708%07d" % number,
                short_message=octets, data_coding=data_coding, esm_class=esm_class)
            sent.append(pdu.sequence)
            log.write("%s %d %s\n" % (kind, pdu.sequence, octets.hex()))
            log.flush()

        for index in range(5):
            send("latin1", ("Café crème n°%d à 10 EUR, shop@example" % index).encode("latin-1"), number=index)
        for index in range(2):
            send("ucs2-dcs0", ("Привет %d" % index).encode("utf-16-be"), number=10 + index)
        send("udh-no-udhi", bytes([0x05, 0x00, 0x03, 0x2A, 0x02, 0x01]) + b"first half of it", number=20)
        # Part 1 of 2 ends in the escape of a euro sign (0x1B 0x65): the 0x65 starts part 2.
        send("escape-split", bytes([0x05, 0x00, 0x03, 0x2B, 0x02, 0x01]) + b"Price: 10 " + bytes([0x1B]),
             esm_class=smpplib.consts.SMPP_GSMFEAT_UDHI, number=21)
        send("escape-split-rest", bytes([0x05, 0x00, 0x03, 0x2B, 0x02, 0x02]) + bytes([0x65]) + b" only",
             esm_class=smpplib.consts.SMPP_GSMFEAT_UDHI, number=21)
        for index in range(3):
            send("ucs2-fits", ("Hello number %d" % index).encode("utf-16-be"), data_coding=8, number=30 + index)
        # 100 characters: two segments as UCS-2 (67 each), one as GSM 03.38 (160).
        send("ucs2-fits", ("A long one. " * 9 + "end.")[:100].encode("utf-16-be"), data_coding=8, number=33)
        for index in range(4):
            send("gsm", ("Plain text %d" % index).encode("ascii"), number=40 + index)
        while len(responses) < len(sent):
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
