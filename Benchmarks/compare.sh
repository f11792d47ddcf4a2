#!/usr/bin/env bash
# Before and after in one run: two smppscope binaries (say, the previous build and this one) timed in turns on
# the benchmark captures, with tcpdump as the baseline in the same rounds. Prints median seconds, ratios to tcpdump
# and new ÷ old for decode and analyze. Checks that both find the truth file's PDU count.
#
#   Benchmarks/compare.sh OLD_BINARY NEW_BINARY [--runs N] [--stress-only]
#
# Build the old one from a worktree: git worktree add /tmp/old COMMIT && (cd /tmp/old &&
#   swift build -c release --static-swift-stdlib --product smppscope)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
old=${1:?old binary}
new=${2:?new binary}
shift 2
runs=5
inputs=(smpp_1g.pcap smpp_200m_stress.pcap)
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?}; shift ;;
        --stress-only) inputs=(smpp_200m_stress.pcap) ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
mkdir -p "$data"
cd "$here"
[ -f "$data/smpp_1g.pcap" ] || python3 tools/gen_smpp_pcap.py --sessions 50 --pdus 5800000 --seed 42 --out "$data/smpp_1g.pcap" >&2
[ -f "$data/smpp_200m_stress.pcap" ] || python3 tools/gen_smpp_pcap.py --sessions 20 --pdus 1160000 --seed 43 --stress --out "$data/smpp_200m_stress.pcap" >&2

time_of() {  # command... -> seconds
    sync
    /usr/bin/time -o "$data/compare.time" -f "%e" bash -c "$*" >/dev/null 2>&1
    tail -1 "$data/compare.time"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| input | command | old s | new s | old × tcpdump | new × tcpdump | new ÷ old |"
echo "|---|---|---|---|---|---|---|"
for input in "${inputs[@]}"; do
    file="$data/$input"
    cat "$file" >/dev/null
    truth=$(python3 Benchmarks/expected_pdus.py "$file")
    for binary in "$old" "$new"; do
        found=$("$binary" analyze "$file" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['pdus_total'])")
        [ "$found" = "$truth" ] || { echo "$binary found $found PDUs in $input, the truth is $truth" >&2; exit 1; }
    done
    declare -A times=()
    for ((round = 0; round < runs; round++)); do
        times[tcpdump]+=" $(time_of "tcpdump -r '$file' -w /dev/null")"
        for command in "analyze --format json" "decode --format jsonl"; do
            times["old $command"]+=" $(time_of "'$old' $command '$file'")"
            times["new $command"]+=" $(time_of "'$new' $command '$file'")"
        done
    done
    # shellcheck disable=SC2086
    floor=$(median ${times[tcpdump]})
    for command in "analyze --format json" "decode --format jsonl"; do
        # shellcheck disable=SC2086
        o=$(median ${times["old $command"]})
        # shellcheck disable=SC2086
        n=$(median ${times["new $command"]})
        awk -v i="$input" -v c="$command" -v o="$o" -v n="$n" -v f="$floor" 'BEGIN {
            printf "| %s | `%s` | %.2f | %.2f | %.2f | %.2f | %.3f |\n", i, c, o, n, o / f, n / f, n / o }'
    done
    echo "| $input | \`tcpdump -r F -w /dev/null\` (median) | $floor | | | | |"
    unset times
done
