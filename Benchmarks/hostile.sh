#!/usr/bin/env bash
# Scaling on hostile captures (tools/gen_hostile_pcap.py): each class at 1×, 4× and 16× its base size, through
# `analyze` and `decode`; prints time and peak RSS per size and the growth from 1× to 16×. Time and memory must
# grow at most in proportion to the input (16× the input: at most ~16× the time, and memory that does not follow
# the input past its bounds). A command that fails, or finds other than the truth file's PDUs, fails the script.
#
#   Benchmarks/hostile.sh            3 runs per size, medians
#   Benchmarks/hostile.sh --runs N
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?--runs needs a number}; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}/hostile
mkdir -p "$data"
swift build -c release --product smppscope --static-swift-stdlib >/dev/null
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/smppscope"

echo "| class | command | 1× s | 4× s | 16× s | 16× ÷ 1× time | 1× MB | 4× MB | 16× MB | input 1× → 16× |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for kind in flows held fragments resync time-span time-extremes; do
    for scale in 1 4 16; do
        [ -f "$data/$kind-$scale.pcap" ] || python3 tools/gen_hostile_pcap.py "$kind" --scale "$scale" --out "$data/$kind-$scale.pcap" 2>/dev/null
    done
    for command in analyze decode; do
        row="| $kind | \`$command\` |"
        times=()
        peaks=()
        for scale in 1 4 16; do
            file="$data/$kind-$scale.pcap"
            expected=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['smpp_pdus'])" "$file.truth.json")
            samples=()
            for ((run = 0; run < runs; run++)); do
                if [ "$command" = analyze ]; then
                    /usr/bin/time -o "$data/time.out" -f "%e %M" "$bin" analyze "$file" --format json >"$data/out.json"
                    found=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pdus_total'])" "$data/out.json")
                else
                    /usr/bin/time -o "$data/time.out" -f "%e %M" "$bin" decode "$file" --format jsonl --pdus-only >"$data/out.json"
                    found=$(wc -l <"$data/out.json")
                fi
                if [ "$found" != "$expected" ]; then
                    echo "$kind ×$scale $command: $found PDUs, the truth file says $expected" >&2
                    exit 1
                fi
                samples+=("$(tail -1 "$data/time.out")")
            done
            median=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
            times+=("${median% *}")
            peaks+=("$(( ${median#* } / 1024 ))")
        done
        size1=$(stat -c %s "$data/$kind-1.pcap")
        size16=$(stat -c %s "$data/$kind-16.pcap")
        awk -v row="$row" -v t1="${times[0]}" -v t4="${times[1]}" -v t16="${times[2]}" -v m1="${peaks[0]}" -v m4="${peaks[1]}" \
            -v m16="${peaks[2]}" -v s1="$size1" -v s16="$size16" 'BEGIN {
            growth = (t1 > 0) ? sprintf("%.1f", t16 / t1) : "-"
            printf "%s %.2f | %.2f | %.2f | %s | %d | %d | %d | %.2f → %.2f MB |\n", row, t1, t4, t16, growth, m1, m4, m16, s1 / 1048576, s16 / 1048576
        }'
    done
done
