#!/usr/bin/env python3
"""A real client session with python smpplib: bind_transceiver, a burst above the account's rate with retries
after ESME_RTHROTTLED, long GSM and UCS-2 messages, an SMSC.kz comment and an HLR request, enquire_link,
query_sm (one known id, one unknown), every receipt answered, unbind.

Usage: smpplib_scenario.py HOST PORT SYSTEM_ID PASSWORD [BURST]
Exits non-zero when anything unexpected happens.
"""
import logging
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm

host, port, system_id, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
burst = int(sys.argv[5]) if len(sys.argv) > 5 else 45
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

client = smpplib.client.Client(host, port, timeout=10, allow_unknown_opt_params=True)
pending = {}        # sequence -> submit parameters, waiting for a response
retry = []          # (due time, parameters)
ids = []
receipts = []
query_statuses = []
throttled = 0


def sent(pdu):
    global throttled
    params = pending.pop(pdu.sequence, None)
    if pdu.status == smpplib.consts.SMPP_ESME_RTHROTTLED and params is not None:
        throttled += 1
        retry.append((time.time() + 1.0, params))
    elif pdu.status == 0:
        ids.append(pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id)
    else:
        raise SystemExit(f"unexpected submit_sm_resp status {pdu.status:#x}")


def received(pdu):
    text = pdu.short_message.decode("ascii", "replace")
    receipts.append(text)


def query_answered(pdu):
    query_statuses.append(pdu.status)


def error_pdu(pdu):
    if pdu.command == "submit_sm_resp":
        return  # 0x58 is handled in sent()
    if pdu.command == "query_sm_resp":
        return  # counted by query_answered()
    raise SystemExit(f"error PDU {pdu.command} status {pdu.status:#x}")


client.set_message_sent_handler(lambda pdu: sent(pdu))
client.set_message_received_handler(lambda pdu: received(pdu))
client.set_query_resp_handler(lambda pdu: query_answered(pdu))
client.set_error_pdu_handler(error_pdu)


def submit(params):
    pdu = client.send_message(**params)
    pending[pdu.sequence] = params


def message(text, destination, coding=smpplib.consts.SMPP_ENCODING_DEFAULT):
    parts, encoding, esm_class = smpplib.gsm.make_parts(text, encoding=coding)
    return [dict(source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr="SMSCKZ",
                 dest_addr_ton=smpplib.consts.SMPP_TON_INTL, dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                 destination_addr=destination, short_message=part, data_coding=encoding, esm_class=esm_class,
                 registered_delivery=True) for part in parts]


client.connect()
client.bind_transceiver(system_id=system_id, password=password, system_type="SMPP")

for index in range(burst):
    for params in message(f"smpplib burst message {index}", f"7701100{index:04d}"):
        submit(params)
for params in message("Long GSM text: " + "the quick brown fox jumps over the lazy dog @ 5€ [ok] " * 6, "77012000001"):
    submit(params)
for params in message("Длинное сообщение UCS2 в нескольких частях: " + "съешь же ещё этих мягких французских булок " * 4,
                      "77012000002", smpplib.consts.SMPP_ENCODING_ISO10646):
    submit(params)
for params in message("Order 1234 shipped\n~~~\ncustomer 77, web shop", "77012000003"):
    submit(params)
for params in message("__HLR__", "77012000004"):
    submit(params)

deadline = time.time() + 30
while (pending or retry) and time.time() < deadline:
    client.poll()
    now = time.time()
    for due, params in [r for r in retry if r[0] <= now]:
        retry.remove((due, params))
        submit(params)
    time.sleep(0.005)
if pending or retry:
    raise SystemExit(f"{len(pending)} submits unanswered, {len(retry)} not retried")

client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
client.query_message(message_id=ids[0], source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr_npi=0,
                     source_addr="SMSCKZ")
client.query_message(message_id="999999999", source_addr_ton=smpplib.consts.SMPP_TON_ALNUM, source_addr_npi=0,
                     source_addr="SMSCKZ")
expected_receipts = len(set(ids))
deadline = time.time() + 15
while (len(receipts) < expected_receipts or len(query_statuses) < 2) and time.time() < deadline:
    client.poll()
    time.sleep(0.01)
if len(receipts) < expected_receipts:
    raise SystemExit(f"only {len(receipts)} of {expected_receipts} receipts arrived")
if sorted(query_statuses) != [0, smpplib.consts.SMPP_ESME_RINVMSGID]:
    raise SystemExit(f"unexpected query_sm statuses {query_statuses}")
client.unbind()
client.disconnect()
print(f"smpplib: {len(ids)} accepted, {throttled} throttled and retried, {len(receipts)} receipts, queries {query_statuses}")
