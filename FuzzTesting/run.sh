#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each on a seed corpus made from the bundled captures and the reference
# PDUs, for a bounded time or number of runs. A crash (or a leak, a timeout, memory past the limit) fails the
# script and leaves the input in FuzzTesting/FailCases/TARGET-*; keep it there (the test suite replays every file).
#
#   FuzzTesting/run.sh                 60 s per target
#   FuzzTesting/run.sh --seconds 45    (CI)
#   FuzzTesting/run.sh --runs 3000000  a number of runs per target instead
#   FuzzTesting/run.sh --target FuzzPDU --runs 3000000   one target only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
limit=(-max_total_time=60)
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --target) only=${2:?--target needs a name}; shift ;;
        --seconds) limit=(-max_total_time="${2:?--seconds needs a number}"); shift ;;
        --runs) limit=(-runs="${2:?--runs needs a number}"); shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
cd "$here"
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
if ! swift build "${flags[@]}" >"${TMPDIR:-/tmp}/smppscope-fuzz-build.log" 2>&1; then
    tail -30 "${TMPDIR:-/tmp}/smppscope-fuzz-build.log" >&2
    echo "the fuzz targets did not build" >&2
    exit 1
fi
bin=$(swift build "${flags[@]}" --show-bin-path)

corpus=$(mktemp -d)
trap 'rm -rf "$corpus" /tmp/smppscope-fuzz-* /dev/shm/smppscope-fuzz-*' EXIT
mkdir -p "$corpus/pdu" "$corpus/capture" "$corpus/segments" "$here/FailCases"
# Seeds: every PDU of the reference captures; the capture files themselves; segment sequences carrying PDUs.
python3 - "$here/../Tests/Fixtures/reference" "$corpus" <<'PY'
import json, os, struct, sys
source, target = sys.argv[1], sys.argv[2]
pdus = []
for name in sorted(os.listdir(source)):
    if name.endswith(".pdus.jsonl"):
        for line in open(os.path.join(source, name)):
            pdus.append(bytes.fromhex(json.loads(line)["pdu_hex"]))
for index, pdu in enumerate(pdus):
    open(os.path.join(target, "pdu", f"seed{index:05d}"), "wb").write(pdu)
# Segment sequences in FuzzReassembly's format: [connection+direction][flags][jump][time step][length] payload.
for index in range(0, len(pdus), 8):
    ops = [bytes([0, 0x02, 0, 1, 0]), bytes([1, 0x12, 0, 1, 0])]
    for number, pdu in enumerate(pdus[index:index + 8]):
        for start in range(0, len(pdu), 200):
            piece = pdu[start:start + 200]
            ops.append(bytes([number & 1, 0x18, 0, 1, len(piece)]) + piece)
    ops.append(bytes([0, 0x11, 0, 1, 0]))
    open(os.path.join(target, "segments", f"seed{index:05d}"), "wb").write(b"".join(ops))
print(f"{len(pdus)} PDU seeds")
PY
cp "$here"/../Tests/Fixtures/reference/*.pcap "$here"/../Captures/*.pcap "$corpus/capture/"

total=0
run() {  # target max_len corpus
    local target=$1 max_len=$2 seeds=$3 log="$corpus/$1.log"
    if [ -n "$only" ] && [ "$only" != "$target" ]; then return; fi
    if ! "$bin/$target" "${limit[@]}" -max_len="$max_len" -rss_limit_mb=2048 -timeout=20 \
        -artifact_prefix="$here/FailCases/$target-" "$seeds" >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "$target failed: the input is in FuzzTesting/FailCases/" >&2
        exit 1
    fi
    local runs
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1)
    echo "$target: ${runs:-?} runs, no crash"
    total=$((total + ${runs:-0}))
}
run FuzzPDU 4096 "$corpus/pdu"
run FuzzReassembly 16384 "$corpus/segments"
run FuzzCapture 65536 "$corpus/capture"
run FuzzAnalyze 65536 "$corpus/capture"
run FuzzAnonymize 65536 "$corpus/capture"
run FuzzProfile 65536 "$corpus/capture"
run FuzzTrace 65536 "$corpus/capture"
echo "all targets: $total runs, no crash"
