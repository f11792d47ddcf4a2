#!/usr/bin/env bash
# How fast `smppscope serve` answers on a large store: a capture of N PDUs (tools/gen_smpp_pcap.py, 10 million by
# default) imported into a fresh SQLite store, then each API request of docs/serve.md timed with curl over several
# rounds (median and slowest), beside the floor of the same server answering a static file (/app.css). Prints a
# Markdown table. The target: every request within 200 ms.
#
#   Benchmarks/serve.sh                  10M PDUs, 7 rounds
#   Benchmarks/serve.sh --pdus 200000    a smaller store (CI runs it so, one round: every request must answer 200)
#   Benchmarks/serve.sh --rounds N
#   Benchmarks/serve.sh --postgres       the same store in PostgreSQL (a throwaway server on loopback, .ci/postgres)
#
# Needs python3 and curl. The capture and store are kept in $SMPPSCOPE_BENCH_DIR (/tmp/smppscope-bench).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
pdus=10000000
rounds=7
postgres=0
while [ $# -gt 0 ]; do
    case "$1" in
        --postgres) postgres=1 ;;
        --pdus) pdus=${2:?--pdus needs a number}; shift ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
mkdir -p "$data"
# Built as run.sh and the package build it (the Swift runtime linked in), so that one build serves all three.
swift build -c release --product smppscope --static-swift-stdlib >/dev/null
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/smppscope"

capture="$data/serve_${pdus}.pcap"
store="$data/serve_${pdus}.sqlite"
# The generator's count is approximate: ask for 2% more, so that the store holds at least $pdus.
[ -f "$capture" ] || python3 tools/gen_smpp_pcap.py --pdus $((pdus * 102 / 100)) --sessions 40 --seed 7 --out "$capture" >&2
cleanup=()
if [ $postgres = 1 ]; then
    eval "$(.ci/postgres start)"
    cleanup+=(".ci/postgres stop $SMPPSCOPE_TEST_PGFOLDER")
    server_url=${SMPPSCOPE_TEST_POSTGRES%/postgres}
    "$SMPPSCOPE_PG_BIN/createdb" -h 127.0.0.1 -p "${server_url##*:}" -U smppscope serve_bench
    store="$server_url/serve_bench"
fi
if [ $postgres = 1 ] || [ ! -f "$store" ]; then
    start=$(date +%s.%N)
    "$bin" import "$capture" --store "$store" 2>/dev/null
    echo "imported $(basename "$capture") in $(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s" >&2
fi

log=$(mktemp)
"$bin" serve --store "$store" --listen 127.0.0.1:0 2>"$log" &
server=$!
finish() {
    kill "$server" 2>/dev/null || true
    rm -f "$log"
    for command in "${cleanup[@]}"; do $command; done
}
trap finish EXIT
for _ in $(seq 100); do grep -q "Ctrl-C" "$log" && break; sleep 0.1; done
port=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
base="http://127.0.0.1:$port"

# What to ask for, taken from the store itself: a time in its middle, a message id, an address and a login there.
json() { curl -sf "$base$1"; }
stored=$(json /api/sources | python3 -c 'import json,sys; print(sum(s["pdus"] for s in json.load(sys.stdin)["sources"]))')
[ "$stored" -ge "$pdus" ] || { echo "the store holds $stored PDUs, fewer than $pdus" >&2; exit 1; }
read -r first last session < <(json '/api/sessions?limit=1000' | python3 -c '
import json, sys
sessions = json.load(sys.stdin)["sessions"]
print(min(s["started"] for s in sessions), max(s["last_pdu"] or s["started"] for s in sessions), sessions[len(sessions) // 2]["id"])')
# The middle of the capture's time, or earlier where the traffic was (receipts may trail the submits for long).
for fraction in 0.5 0.25 0.1 0.02; do
    middle=$(python3 -c "print(f'{$first + ($last - $first) * $fraction:.6f}')")
    message=$(json "/api/pdus?from=$middle&command=submit_sm_resp&limit=1" |
        python3 -c 'import json,sys; p=json.load(sys.stdin)["pdus"]; print(p[0]["message_id"] if p else "")')
    [ -n "$message" ] && break
done
[ -n "$message" ] || { echo "no submit_sm_resp found in the store" >&2; exit 1; }
address=$(json "/api/pdus?from=$middle&command=submit_sm&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pdus"][0]["destination_addr"])')
login=$(json "/api/sessions?limit=1000" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"][0]["system_id"])')

requests=(
    "/app.css"
    "/api/sources"
    "/api/sessions?order=desc&limit=100"
    "/api/pdus?message_id=$message"
    # The same id in its other number form (hex <-> decimal).
    "/api/pdus?message_id=$(python3 -c "m = '$message'; print(hex(int(m))[2:].upper() if m.isdigit() else int(m, 16))")"
    "/api/pdus?address=$address&limit=100"
    "/api/pdus?status=ESME_RTHROTTLED&limit=100"
    "/api/pdus?state=UNDELIV&limit=100"
    "/api/pdus?system_id=$login&limit=100"
    "/api/pdus?from=$middle&limit=100"
    "/api/pdus?command=submit_sm&from=$middle&limit=100"
    "/api/pdus?command=unbind&limit=100"
    "/api/sessions/$session?limit=500"
    "/api/sessions/$session?from=$middle&limit=500"
    "/api/messages/$message"
    "/api/analyze?message_id=$message"
)
echo "| request | median ms | slowest ms | PDUs | × static file |"
echo "|---|---|---|---|---|"
floor=""
for request in "${requests[@]}"; do
    times=()
    for _ in $(seq "$rounds"); do
        read -r code seconds < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base$request")
        [ "$code" = 200 ] || { echo "$request answered $code" >&2; exit 1; }
        times+=("$seconds")
    done
    count=$(curl -s "$base$request" | python3 -c 'import json,sys
try:
    d = json.load(sys.stdin)
    print(len(d.get("pdus", d.get("sessions", d.get("sources", [])))) if isinstance(d, dict) else "")
except Exception:
    print("")')
    read -r median slowest < <(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]*1000, a[NR]*1000}')
    [ -z "$floor" ] && floor=$median
    ratio=$(python3 -c "print(f'{$median / max($floor, 0.001):.0f}')")
    echo "| \`${request/$base/}\` | $median | $slowest | $count | $ratio |"
done
echo
size=$([ $postgres = 1 ] && echo "PostgreSQL" || du -h "$store" | cut -f1)
echo "store: $stored PDUs ($size), $rounds rounds; the static file is the server's floor"
