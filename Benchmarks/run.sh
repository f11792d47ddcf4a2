#!/usr/bin/env bash
# Whole-run benchmarks of smppscope against the libpcap floor (tcpdump) and tshark, on synthetic captures made by
# tools/gen_smpp_pcap.py: tcpdump, tshark, decode, analyze, and import into a fresh store. Prints a Markdown table:
# time, MB/s, PDUs/s, peak RSS, and ratios to tcpdump and tshark.
#
#   Benchmarks/run.sh              1 GB clean + 200 MB --stress, 5 runs each (minutes; tshark takes ~45 s a run)
#   Benchmarks/run.sh --smoke      a 20 MB capture, 1 run, no tshark: checks that everything runs
#   Benchmarks/run.sh --no-tshark  skip tshark
#   Benchmarks/run.sh --runs N     N runs of each command instead of 5 (the median is reported)
#
# Needs python3, tcpdump and GNU time (/usr/bin/time); hyperfine for repeated runs if installed; tshark optional.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
smoke=0
with_tshark=1
runs_wanted=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1; with_tshark=0 ;;
        --no-tshark) with_tshark=0 ;;
        --runs) runs_wanted=${2:?--runs needs a number}; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v tshark >/dev/null || with_tshark=0
data=${SMPPSCOPE_BENCH_DIR:-/tmp/smppscope-bench}
mkdir -p "$data"

swift build -c release --product smppscope >/dev/null
bin="$(swift build -c release --show-bin-path)/smppscope"

make_input() {  # name args...
    local name=$1
    shift
    if [ ! -f "$data/$name" ]; then
        python3 tools/gen_smpp_pcap.py "$@" --out "$data/$name" >&2
    fi
}
if [ $smoke = 1 ]; then
    make_input smoke_20m.pcap --sessions 10 --pdus 115000 --seed 7
    inputs=(smoke_20m.pcap)
    runs=1
else
    make_input smpp_1g.pcap --sessions 50 --pdus 5800000 --seed 42
    make_input smpp_200m_stress.pcap --sessions 20 --pdus 1160000 --seed 43 --stress
    inputs=(smpp_1g.pcap smpp_200m_stress.pcap)
    runs=5
fi
[ -n "$runs_wanted" ] && runs=$runs_wanted

# measure NAME COMMAND: median wall seconds over $runs runs, and peak RSS (MB) of the last run.
measure() {
    local command=$1
    local times=()
    local rss=0
    for ((i = 0; i < runs; i++)); do
        local out
        /usr/bin/time -o "$data/time.out" -f "%e %M" bash -c "$command" >/dev/null 2>&1 || true
        out=$(tail -1 "$data/time.out")
        times+=("${out% *}")
        rss=$(( ${out#* } / 1024 ))
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$median $rss"
}

echo "| input | command | time (s) | MB/s | PDUs/s | peak RSS (MB) | × tcpdump | tshark ÷ this |"
echo "|---|---|---|---|---|---|---|---|"
for input in "${inputs[@]}"; do
    file="$data/$input"
    cat "$file" >/dev/null  # warm the page cache
    size_mb=$(awk -v b="$(stat -L -c %s "$file")" 'BEGIN {printf "%.1f", b / 1048576}')
    pdus=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pdus_total'])" "$file.truth.json")
    read -r floor floor_rss < <(measure "tcpdump -r '$file' -w /dev/null")
    tshark_time=""
    if [ $with_tshark = 1 ]; then
        read -r tshark_time tshark_rss < <(measure "tshark -r '$file' -d tcp.port==2775,smpp -q -z smpp_commands,tree")
    fi
    rows=(
        "tcpdump -r F -w /dev/null|tcpdump -r '$file' -w /dev/null|$floor|$floor_rss"
    )
    if [ -n "$tshark_time" ]; then
        rows+=("tshark -q -z smpp_commands,tree|tshark|$tshark_time|$tshark_rss")
    fi
    for command in "decode --format jsonl" "analyze --format json"; do
        read -r t r < <(measure "'$bin' $command '$file'")
        rows+=("smppscope $command|x|$t|$r")
    done
    # import into a fresh store each run
    read -r t r < <(measure "rm -f '$data/bench.sqlite'*; '$bin' import '$file' --store '$data/bench.sqlite'")
    rows+=("smppscope import --store (fresh)|x|$t|$r")
    rm -f "$data/bench.sqlite"*
    for row in "${rows[@]}"; do
        IFS='|' read -r label _ t r <<<"$row"
        awk -v label="$label" -v input="$input" -v t="$t" -v r="$r" -v mb="$size_mb" -v p="$pdus" -v f="$floor" -v ts="$tshark_time" 'BEGIN {
            ratio = (f > 0) ? sprintf("%.2f", t / f) : "-"
            vs = (ts != "" && t > 0) ? sprintf("%.1f", ts / t) : "-"
            printf "| %s | `%s` | %.2f | %.0f | %.0f | %d | %s | %s |\n", input, label, t, mb / t, p / t, r, ratio, vs
        }'
    done
done
