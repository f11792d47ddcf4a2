#!/usr/bin/env bash
# Regenerates the synthetic captures used by the tests, with their exact totals (FILE.truth.json) and, for the
# stress variants, the segments left out of the capture (FILE.lost.json).
# Usage: Tests/Fixtures/generated/make.sh [path/to/gen_smpp_pcap.py]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
generator=${1:-${SMPP_GENERATOR:-$here/../../../../shared/tools/gen_smpp_pcap.py}}
[ -f "$generator" ] || { echo "generator not found: $generator (pass its path)" >&2; exit 1; }
gen() { python3 "$generator" "$@" >/dev/null; }
gen --sessions 4 --pdus 2500 --seed 101 --format pcap   --linktype ethernet --out "$here/clean_ethernet.pcap"
gen --sessions 4 --pdus 2500 --seed 102 --format pcapng --linktype sll      --out "$here/clean_sll.pcapng"
gen --sessions 4 --pdus 2500 --seed 103 --format pcap   --linktype sll      --stress --p-lost 0.004 --out "$here/stress_sll.pcap"
gen --sessions 4 --pdus 2500 --seed 104 --format pcapng --linktype ethernet --stress --p-lost 0.004 --out "$here/stress_ethernet.pcapng"
ls -la "$here"
