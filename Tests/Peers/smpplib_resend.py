#!/usr/bin/env python3
"""A client on python smpplib that sends again what it got no answer to in time, as applications do: binds a
transceiver, sends COUNT submit_sm with registered_delivery 1 one at a time, waits TIMEOUT seconds for each one's
submit_sm_resp and sends the same message once more if none came; then waits for the receipts (answering each, as
smpplib does) and unbinds. It logs what it did and saw, for the tests to check smppscope's causes against.

usage: smpplib_resend.py HOST PORT SYSTEM_ID PASSWORD COUNT TIMEOUT LOGFILE
The log has a line per event:
  "sent SEQUENCE MESSAGE"                         a submit_sm
  "resend MESSAGE OLD_SEQUENCE NEW_SEQUENCE"      the same message again after TIMEOUT without an answer
  "response SEQUENCE STATUS"                      a submit_sm_resp (STATUS in decimal)
  "receipt ID STAT"                               a receipt (answered at once)
then "done".
"""
import sys
import time

import smpplib.client
import smpplib.consts


def text(value):
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def main():
    host, port, system_id, password, count, timeout, logfile = sys.argv[1:8]
    count = int(count)
    timeout = float(timeout)
    responses = {}
    receipts = []
    with open(logfile, "w") as log:
        client = smpplib.client.Client(host, int(port), timeout=0.2, allow_unknown_opt_params=True)

        def answered(pdu):
            responses[pdu.sequence] = pdu.status
            log.write("response %d %d\n" % (pdu.sequence, pdu.status))
            log.flush()

        def received(pdu):
            message = text(pdu.short_message or b"")
            identifier = text(getattr(pdu, "receipted_message_id", None) or "")
            stat = message.split("stat:", 1)[1].split(" ", 1)[0] if "stat:" in message else "-"
            receipts.append(identifier)
            log.write("receipt %s %s\n" % (identifier, stat))
            log.flush()

        def read_for(seconds, until=lambda: False):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and not until():
                try:
                    client.read_once(auto_send_enquire_link=False)
                except Exception as error:  # the read timeout: look again
                    if "timed out" not in str(error):
                        raise

        client.set_message_sent_handler(answered)
        client.set_error_pdu_handler(lambda pdu: None)
        client.set_message_received_handler(received)
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)

        def send(index):
            pdu = client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMPPSCOPE",
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL, destination_addr="7707%07d" % index,
                short_message=("resend test %d" % index).encode(), registered_delivery=True)
            log.write("sent %d %d\n" % (pdu.sequence, index))
            log.flush()
            return pdu.sequence

        for index in range(count):
            sequence = send(index)
            read_for(timeout, lambda: sequence in responses)
            if sequence not in responses:
                again = send(index)
                log.write("resend %d %d %d\n" % (index, sequence, again))
                log.flush()
                read_for(timeout, lambda: again in responses)
        # The answers still coming, and the receipts (copies included).
        read_for(6)
        client.unbind()
        client.disconnect()
        log.write("done\n")


if __name__ == "__main__":
    main()
