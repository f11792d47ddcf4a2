#!/usr/bin/env bash
# The PostgreSQL store on a throwaway server on loopback (.ci/postgres): import speed (COPY) against the SQLite
# store in the same run, then on 10M PDUs the time of a message-id search and of a one-hour analyze.
#
#   Benchmarks/postgres.sh            1M PDUs for import speed, 10M PDUs for the queries (several minutes)
#   Benchmarks/postgres.sh --small    100k and 1M PDUs (a quick look)
#
# Needs python3 and the PostgreSQL server binaries (Debian: postgresql).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
mkdir -p "$data"
import_pdus=1000000
query_pdus=10000000
if [ "${1:-}" = "--small" ]; then import_pdus=100000; query_pdus=1000000; fi

swift build -c release --product smppscope >/dev/null
bin="$(swift build -c release --show-bin-path)/smppscope"

eval "$(.ci/postgres start)"
trap '.ci/postgres stop "$SMPPSCOPE_TEST_PGFOLDER"' EXIT
server=${SMPPSCOPE_TEST_POSTGRES%/postgres}
createdb() { "$SMPPSCOPE_PG_BIN/createdb" -h 127.0.0.1 -p "${server##*:}" -U smppscope "$1"; }
psql_() { "$SMPPSCOPE_PG_BIN/psql" -h 127.0.0.1 -p "${server##*:}" -U smppscope -d "$1" -Atc "$2"; }

seconds() { python3 -c "import time; print(time.time())"; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

imports="$data/pg_import_${import_pdus}.pcap"
[ -f "$imports" ] || python3 tools/gen_smpp_pcap.py --sessions 20 --pdus "$import_pdus" --seed 11 --out "$imports" >&2
pdus=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pdus_total'])" "$imports.truth.json")
cat "$imports" >/dev/null

rm -f "$data/pg_bench.sqlite"*
start=$(seconds); "$bin" import "$imports" --store "$data/pg_bench.sqlite" 2>/dev/null; end=$(seconds)
sqlite_time=$(elapsed "$start" "$end")
rm -f "$data/pg_bench.sqlite"*
createdb import_bench
start=$(seconds); "$bin" import "$imports" --store "$server/import_bench" 2>/dev/null; end=$(seconds)
pg_time=$(elapsed "$start" "$end")
bytes=$(psql_ import_bench "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")

queries="$data/pg_query_${query_pdus}.pcap"
# 500 submit_sm/s: the capture spans more than an hour.
[ -f "$queries" ] || python3 tools/gen_smpp_pcap.py --sessions 50 --pdus "$query_pdus" --rate 500 --seed 12 --out "$queries" >&2
query_total=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pdus_total'])" "$queries.truth.json")
createdb query_bench
start=$(seconds); "$bin" import "$queries" --store "$server/query_bench" 2>/dev/null; end=$(seconds)
big_time=$(elapsed "$start" "$end")
# A message id from the middle of the capture, and the hour after the capture's first ten minutes.
first_ns=$(psql_ query_bench "SELECT min(first_ts) FROM pdu_blocks")
from=$(python3 -c "print(($first_ns + 600 * 10**9) / 1e9)")
to=$(python3 -c "print(($first_ns + 4200 * 10**9) / 1e9)")
message_id=$("$bin" decode --store "$server/query_bench" --from "$(python3 -c "print($from + 1800)")" --to "$(python3 -c "print($from + 1801)")" --format jsonl 2>/dev/null \
    | python3 -c "import json,sys
for line in sys.stdin:
    d = json.loads(line)
    if d.get('command') == 'submit_sm_resp' and d.get('message_id'):
        print(d['message_id']); break")
start=$(seconds); found=$("$bin" decode --store "$server/query_bench" --message-id "$message_id" --format jsonl 2>/dev/null | wc -l); end=$(seconds)
lookup_time=$(elapsed "$start" "$end")
start=$(seconds); hour_pdus=$("$bin" analyze --store "$server/query_bench" --from "$from" --to "$to" --format json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['pdus_total'])"); end=$(seconds)
hour_time=$(elapsed "$start" "$end")

python3 - "$pdus" "$sqlite_time" "$pg_time" "$bytes" "$query_total" "$big_time" "$message_id" "$found" "$lookup_time" "$hour_pdus" "$hour_time" <<'PY'
import sys
pdus, sqlite_t, pg_t, size, total, big_t, mid, found, lookup_t, hour_pdus, hour_t = sys.argv[1:]
pdus, sqlite_t, pg_t, size, total, big_t = int(pdus), float(sqlite_t), float(pg_t), int(size), int(total), float(big_t)
print("| measure | result |")
print("|---|---|")
print(f"| import {pdus:,} PDUs into SQLite (baseline) | {sqlite_t:.2f} s, {pdus / sqlite_t:,.0f} PDUs/s |")
print(f"| import {pdus:,} PDUs into PostgreSQL (COPY) | {pg_t:.2f} s, {pdus / pg_t:,.0f} PDUs/s ({sqlite_t / pg_t:.2f}x SQLite's rate) |")
print(f"| database size after it | {size / 2**20:,.0f} MiB, {size / pdus:.0f} bytes per PDU |")
print(f"| import {total:,} PDUs into PostgreSQL | {big_t:.1f} s, {total / big_t:,.0f} PDUs/s |")
print(f"| `decode --message-id {mid}` on {total:,} PDUs | {float(lookup_t):.2f} s ({found} PDUs) |")
print(f"| `analyze --from T --to T+1h` on {total:,} PDUs | {float(hour_t):.2f} s ({int(hour_pdus):,} PDUs in the hour) |")
PY
