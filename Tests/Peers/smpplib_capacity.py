#!/usr/bin/env python3
"""A client on python smpplib that sends faster than its account may: RATE messages a second for SECONDS seconds
of single messages, then (after a pause of 1.2 s) as long of four-part messages (user data headers), then waits for every response and
unbinds. Refusals are logged, not raised; nothing is sent again. The log says what was sent and answered, for the
tests to check smppscope's capacity figures against.

usage: smpplib_capacity.py HOST PORT SYSTEM_ID PASSWORD RATE SECONDS LOGFILE
The log has a line per event:
  "part SEQUENCE MESSAGE NUMBER TOTAL"   a submit_sm (NUMBER of TOTAL parts of message MESSAGE)
  "response SEQUENCE STATUS"             a submit_sm_resp (STATUS in decimal)
then "done".
"""
import sys
import time

import smpplib.client
import smpplib.consts


def main():
    host, port, system_id, password, rate, seconds, logfile = sys.argv[1:8]
    rate, seconds = float(rate), float(seconds)
    responses = {}
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=10, allow_unknown_opt_params=True)

        def answered(pdu):
            responses[pdu.sequence] = pdu.status
            log.write("response %d %d\n" % (pdu.sequence, pdu.status))

        client.set_message_sent_handler(answered)
        # Error responses come to the sent handler too (smpplib calls both): logged there once.
        client.set_error_pdu_handler(lambda pdu: None)
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        sent = 0
        message = 0
        for parts in (1, 4):
            if parts > 1:
                # A pause past the SMSC's one-second window, so that it takes the first parts of the long messages
                # back to back (on an SMSC counting parts, a steady stream would have each slot that frees up taken
                # by whichever part comes first: always a first part, and nothing to tell the two counts apart).
                time.sleep(1.2)
            start = time.monotonic()
            while time.monotonic() - start < seconds:
                for number in range(1, parts + 1):
                    text = b"capacity %d" % message
                    if parts > 1:
                        text = bytes([0x05, 0x00, 0x03, message % 256, parts, number]) + text
                    pdu = client.send_message(
                        source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                        dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7709%07d" % message,
                        short_message=text, esm_class=smpplib.consts.SMPP_GSMFEAT_UDHI if parts > 1 else 0)
                    sent += 1
                    log.write("part %d %d %d %d\n" % (pdu.sequence, message, number, parts))
                message += 1
                time.sleep(1 / rate)
        while len(responses) < sent:
            client.read_once()
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
