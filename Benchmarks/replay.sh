#!/usr/bin/env bash
# Replay benchmarks against `smppscope simulate` (no rate limit), on loopback:
#   1. timing fidelity: a 10-session capture at 400 submit_sm/s replayed at --speed 1; how late each request left
#      against its schedule (p50 / p90 / p99 / max);
#   2. throughput (the simulator answers at once: --latency 0 --jitter 0): a 1-session capture of ~100k submit_sm
#      against the same replay with --window 1 (one request at a time) as the baseline.
# Needs python3 (tools/gen_smpp_pcap.py). Takes about two minutes (the paced capture lasts 98 s).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
mkdir -p "$data"
swift build -c release --product smppscope >/dev/null
bin="$(swift build -c release --show-bin-path)/smppscope"

[ -f "$data/replay_paced.pcap" ] || python3 tools/gen_smpp_pcap.py --sessions 10 --pdus 60000 --rate 400 --seed 6 --out "$data/replay_paced.pcap" >&2
[ -f "$data/replay_fast.pcap" ] || python3 tools/gen_smpp_pcap.py --sessions 1 --pdus 400000 --seed 5 --out "$data/replay_fast.pcap" >&2
echo pw >"$data/replay_password"

port=$((20000 + RANDOM % 20000))
accounts=()
for i in $(seq 0 19); do accounts+=(--account "$(printf 'esme%03d' "$i"):pw"); done
"$bin" simulate --listen "127.0.0.1:$port" "${accounts[@]}" --throughput 1000000 --latency 0 --jitter 0 --log none --receipt-delay 0.05-0.2 >/dev/null 2>&1 &
simulator=$!
trap 'kill $simulator 2>/dev/null || true' EXIT
sleep 1

replay() {  # output-file args...
    local out=$1
    shift
    "$bin" replay "$@" --target "127.0.0.1:$port" --password-file "$data/replay_password" --receipt-wait 2 --format json >"$out"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

replay "$data/replay_paced.json" "$data/replay_paced.pcap" --speed 1
deviation=$(field "$data/replay_paced.json" "'p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms over %d requests' % tuple(d['timing_deviation_ms'][k] for k in ['p50','p90','p99','max','n'])")
# The simulator refuses repeats within a minute: each throughput run uses its own account.
replay "$data/replay_fast.json" "$data/replay_fast.pcap" --fast --window 1000 --system-id esme010
replay "$data/replay_window1.json" "$data/replay_fast.pcap" --fast --window 1 --system-id esme011
fast=$(field "$data/replay_fast.json" "round(d['submit_sm_per_second'])")
one=$(field "$data/replay_window1.json" "round(d['submit_sm_per_second'])")
echo "| measure | result |"
echo "|---|---|"
echo "| send time against the schedule at --speed 1 (10 sessions, 400 submit_sm/s) | $deviation |"
echo "| submit_sm/s, --fast --window 1000 (1 session) | $fast |"
echo "| submit_sm/s, --fast --window 1 (baseline: one at a time) | $one |"
echo "| ratio | $(python3 -c "print(f'{$fast / $one:.1f}x')") |"
