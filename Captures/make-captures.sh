#!/usr/bin/env bash
# Records the captures in this folder from real SMPP software talking on loopback, with tcpdump.
#   smpplib_smsckz_port3700.pcap  python smpplib (client) against an SMSC.kz-like server on Perl's Net::SMPP
# Needs root for tcpdump; installs what is missing (Debian packages, PyPI smpplib).
# Usage: Captures/make-captures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

need_apt=()
command -v tcpdump >/dev/null || need_apt+=(tcpdump)
perl -MNet::SMPP -e1 2>/dev/null || need_apt+=(libnet-smpp-perl)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -c 'import smpplib' 2>/dev/null || pip install -q 'smpplib==2.2.4'

# record NAME PORT COMMAND...: runs COMMAND while tcpdump records tcp PORT on loopback into NAME.
record() {
    local name=$1 port=$2
    shift 2
    tcpdump -i lo -U -s 0 -w "$work/$name" "tcp port $port" 2>"$work/tcpdump.log" &
    local dump=$!
    sleep 1
    "$@"
    sleep 1
    kill -INT "$dump"
    wait "$dump" || true
    mv "$work/$name" "$here/$name"
    echo "wrote $here/$name ($(stat -c %s "$here/$name") bytes)"
}

port=3700
perl "$here/tools/smsc_kz.pl" "$port" smsckz secret 30 >"$work/smsc.log" 2>&1 &
pids+=($!)
sleep 1
record smpplib_smsckz_port3700.pcap "$port" \
    python3 "$here/tools/smpplib_scenario.py" 127.0.0.1 "$port" smsckz secret 45
if grep -qiE 'error|died|warn' "$work/smsc.log"; then
    echo "the server logged problems:" >&2
    cat "$work/smsc.log" >&2
    exit 1
fi
