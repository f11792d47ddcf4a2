#!/usr/bin/env bash
# Builds the libFuzzer targets and runs them on a seed corpus of real PDUs and captures.
# Usage: FuzzTesting/run.sh [runs-per-target]   (default 1,000,000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-1000000}
cd "$here"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
bin=$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --show-bin-path)

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/pdu" "$corpus/capture" "$here/FailCases"
# Seeds: every PDU of the reference captures, and the capture files themselves.
python3 - "$here/../Tests/Fixtures/reference" "$corpus/pdu" <<'PY'
import json, os, sys
source, target = sys.argv[1], sys.argv[2]
count = 0
for name in sorted(os.listdir(source)):
    if name.endswith(".pdus.jsonl"):
        for line in open(os.path.join(source, name)):
            pdu = bytes.fromhex(json.loads(line)["pdu_hex"])
            open(os.path.join(target, f"seed{count:05d}"), "wb").write(pdu)
            count += 1
print(f"{count} PDU seeds")
PY
cp "$here"/../Tests/Fixtures/reference/*.pcap "$here"/../Captures/*.pcap "$corpus/capture/"

"$bin/FuzzPDU" -runs="$runs" -max_len=4096 -artifact_prefix="$here/FailCases/pdu-" "$corpus/pdu" 2>&1 | tail -5
"$bin/FuzzCapture" -runs="$runs" -max_len=65536 -rss_limit_mb=4096 -artifact_prefix="$here/FailCases/capture-" "$corpus/capture" 2>&1 | tail -5
