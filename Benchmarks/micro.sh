#!/usr/bin/env bash
# Micro-benchmarks of the hot loops (ordo-one/benchmark, package Benchmarks/Micro) on a generated capture:
# reading + reassembly, sessions + analysis, the frame check, PDU decoding, JSON rendering.
#
#   Benchmarks/micro.sh                      20 000 PDUs from tools/gen_smpp_pcap.py (seed 5)
#   Benchmarks/micro.sh --capture FILE       any capture instead
#   Benchmarks/micro.sh -- ARGS              more arguments for `swift package benchmark` (e.g. --filter decode)
#
# The first run builds the benchmark package (a few minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
capture=""
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --capture) capture=${2:?--capture needs a file}; shift ;;
        --) shift; extra=("$@"); break ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$capture" ]; then
    mkdir -p "$data"
    capture="$data/micro_20k.pcap"
    [ -f "$capture" ] || python3 "$here/tools/gen_smpp_pcap.py" --sessions 4 --pdus 20000 --seed 5 --out "$capture" >&2
fi
capture=$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")
cd "$here/Benchmarks/Micro"
SMPPSCOPE_BENCH_CAPTURE="$capture" swift package --disable-sandbox benchmark --target HotLoops "${extra[@]}"
