#!/usr/bin/env bash
# Records the captures in this folder from real SMPP software talking on loopback, with tcpdump:
#   smpplib_smsckz_port3700.pcap     python smpplib against an SMSC.kz-like server on Perl's Net::SMPP
#   smpplib_simulator_port3700.pcap  python smpplib against `smppscope simulate`
#   kannel_simulator_port3701.pcap   Kannel 1.4.5 (bearerbox + smsbox, sendsms) against `smppscope simulate`
# Needs root for tcpdump; installs what is missing (Debian packages, PyPI smpplib) and builds smppscope.
# Every client's own log is checked for errors. Usage: Captures/make-captures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pkill -f "kannel.conf" 2>/dev/null || true
    sleep 0.5
    rm -rf "$work"
}
trap cleanup EXIT

need_apt=()
command -v tcpdump >/dev/null || need_apt+=(tcpdump)
command -v bearerbox >/dev/null || need_apt+=(kannel)
command -v curl >/dev/null || need_apt+=(curl)
perl -MNet::SMPP -e1 2>/dev/null || need_apt+=(libnet-smpp-perl)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -c 'import smpplib' 2>/dev/null || pip install -q 'smpplib==2.2.4'
(cd "$root" && swift build -c release --product smppscope >/dev/null)
smppscope="$root/.build/release/smppscope"

# record NAME PORT COMMAND...: runs COMMAND while tcpdump records tcp PORT on loopback into NAME.
record() {
    local name=$1 port=$2
    shift 2
    tcpdump -i lo -U -s 0 -w "$work/$name" "tcp port $port" 2>"$work/tcpdump.log" &
    local dump=$!
    pids+=("$dump")
    sleep 1
    "$@"
    sleep 1
    kill -INT "$dump"
    wait "$dump" || true
    mv "$work/$name" "$here/$name"
    echo "wrote $here/$name ($(stat -c %s "$here/$name") bytes)"
}

# check NAME LOG PATTERN [EXPECTED]: fails when a log has lines matching PATTERN other than EXPECTED ones.
check() {
    local problems
    problems=$(grep -E "$3" "$2" | { if [ -n "${4:-}" ]; then grep -vE "$4"; else cat; fi; } || true)
    if [ -n "$problems" ]; then
        echo "$1 logged problems:" >&2
        echo "$problems" | head -20 >&2
        exit 1
    fi
}

# 1. smpplib against the Perl server.
perl "$here/tools/smsc_kz.pl" 3700 smsckz secret 30 >"$work/perl.log" 2>&1 &
pids+=($!)
sleep 1
record smpplib_smsckz_port3700.pcap 3700 python3 "$here/tools/smpplib_scenario.py" 127.0.0.1 3700 smsckz secret 45
check "the Perl server" "$work/perl.log" 'error|died|warn'
kill "${pids[-1]}" 2>/dev/null || true

# 2. smpplib against the simulator.
"$smppscope" simulate --listen 127.0.0.1:3700 --account smsckz:secret --receipt-delay 0.2-0.9 \
    --receipts DELIVRD=1 --log none >"$work/simulator1.log" 2>&1 &
pids+=($!)
sleep 1
record smpplib_simulator_port3700.pcap 3700 python3 "$here/tools/smpplib_scenario.py" 127.0.0.1 3700 smsckz secret 45
kill -INT "${pids[-1]}" 2>/dev/null || true

# 3. Kannel against the simulator, through sendsms, above the 30/s limit, with delivery reports.
"$smppscope" simulate --listen 127.0.0.1:3701 --account kannel:secret --receipt-delay 0.3-2 \
    --receipts DELIVRD=0.9,UNDELIV=0.1 --log none >"$work/simulator2.log" 2>&1 &
pids+=($!)
sed -e "s#@WORK@#$work#g" -e "s#@PORT@#3701#g" "$here/tools/kannel.conf.template" >"$work/kannel.conf"
kannel() {
    bearerbox "$work/kannel.conf" >"$work/bearerbox.out" 2>&1 &
    local bearer=$!
    sleep 2
    smsbox "$work/kannel.conf" >"$work/smsbox.out" 2>&1 &
    local sms=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:13013/" && break
        sleep 0.2
    done
    python3 "$here/tools/kannel_scenario.py" 60
    # A graceful shutdown through the admin interface: bearerbox unbinds and stops smsbox.
    curl -s -o /dev/null "http://127.0.0.1:13000/shutdown?password=capture"
    wait "$bearer" || true
    wait "$sms" || true
}
record kannel_simulator_port3701.pcap 3701 kannel
# ESME_RTHROTTLED is expected here: Kannel logs each one as an error and sends the message again later.
check "Kannel" "$work/bearerbox.log" 'ERROR:|PANIC:' 'error code 0x00000058 \(Throttling error\)'
check "Kannel" "$work/smsbox.log" 'ERROR:|PANIC:'
kill -INT "${pids[-1]}" 2>/dev/null || true
