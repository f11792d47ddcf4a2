#!/usr/bin/env bash
# Proves that another package can depend on smppscope's library products by version: this checkout is committed
# into a throwaway git repository, tagged, and a consumer package (tools/consumer) that depends on the SMPP codec
# `from:` that tag builds, decodes a PDU, and follows a bundled capture through the public API: its count of
# submit_sm must be tshark's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=1.0.0
git clone -q "$here" "$work/smppscope"
# What is checked out here (committed or not) is what the consumer gets.
(cd "$here" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | (cd "$work/smppscope" && tar -xf -)
(cd "$work/smppscope" && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm "as checked out" --allow-empty && git tag "$version")
mkdir -p "$work/consumer"
cp -R "$here/tools/consumer/Sources" "$work/consumer/"
sed -e "s#@REPOSITORY@#file://$work/smppscope#" -e "s#@VERSION@#$version#" "$here/tools/consumer/Package.swift.template" \
    >"$work/consumer/Package.swift"
cd "$work/consumer"
swift build --product Consumer >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
"$(swift build --show-bin-path)/Consumer"
capture="$here/Captures/smpplib_simulator_port3700.pcap"
expected=$(tshark -r "$capture" -d tcp.port==3700,smpp -T fields -e smpp.command_id 2>/dev/null | tr ',' '\n' |
    grep -c '^0x00000004$')
got=$("$(swift build --show-bin-path)/Consumer" "$capture" | tail -1)
echo "$got (tshark: $expected)"
case "$got" in
    "submit_sm sent by clients: $expected "*) ;;
    *) echo "the consumer counted otherwise than tshark" >&2; exit 1 ;;
esac
