#!/usr/bin/env bash
# Whole-run benchmarks of smppscope against the libpcap floor (tcpdump) and tshark, on synthetic captures made by
# tools/gen_smpp_pcap.py: tcpdump, tshark, decode, analyze, import into a fresh store, profile and anonymize. Prints a Markdown table:
# time, MB/s, PDUs/s, peak RSS, and ratios to tcpdump and tshark.
#
#   Benchmarks/run.sh              1 GB clean + 200 MB --stress, 5 rounds (minutes; tshark takes ~45 s a run)
#   Benchmarks/run.sh --smoke      a 20 MB capture, 1 round, no tshark: checks that everything runs (CI)
#   Benchmarks/run.sh --no-tshark  skip tshark
#   Benchmarks/run.sh --runs N     N rounds instead of 5 (the median of each command is reported)
#
# A round runs every command once, in turn: each command's runs are spread over the same minutes as the baseline's.
# A command that fails, or whose counts differ from the generator's truth file, fails the script.
# Needs python3, tcpdump and GNU time (/usr/bin/time); tshark optional.
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

# Built as a release is shipped: the Swift runtime and Foundation linked in (no dynamic loading of them at start).
swift build -c release --product smppscope --static-swift-stdlib >/dev/null
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/smppscope"

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

# measure_all COMMAND...: runs the commands in turn, $runs rounds (each command once a round, so that all of them
# are measured in the same minutes: a machine's speed drifts by 20% or more over minutes), and prints for each its
# median wall seconds and the peak RSS (MB) of its last run.
measure_all() {
    local count=$#
    local commands=("$@")
    local -a times rss
    for ((i = 0; i < count; i++)); do times[i]=""; rss[i]=0; done
    for ((round = 0; round < runs; round++)); do
        for ((i = 0; i < count; i++)); do
            # What the command before wrote (the store of an import) goes to disk first, not during this run.
            sync
            if ! /usr/bin/time -o "$data/time.out" -f "%e %M" bash -c "${commands[i]}" >/dev/null 2>"$data/errors.out"; then
                echo "failed: ${commands[i]}" >&2
                tail -5 "$data/errors.out" >&2
                return 1
            fi
            local out
            out=$(tail -1 "$data/time.out")
            times[i]="${times[i]} ${out% *}"
            rss[i]=$(( ${out#* } / 1024 ))
        done
    done
    for ((i = 0; i < count; i++)); do
        local median
        # shellcheck disable=SC2086
        median=$(printf '%s\n' ${times[i]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        echo "$median ${rss[i]}"
    done
}

echo "| input | command | time (s) | MB/s | PDUs/s | peak RSS (MB) | × tcpdump | tshark ÷ this |"
echo "|---|---|---|---|---|---|---|---|"
for input in "${inputs[@]}"; do
    file="$data/$input"
    cat "$file" >/dev/null  # warm the page cache
    size_mb=$(awk -v b="$(stat -L -c %s "$file")" 'BEGIN {printf "%.1f", b / 1048576}')
    pdus=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pdus_total'])" "$file.truth.json")
    # What a correct reader finds: the total, less what the generator dropped from a --stress capture.
    expected=$(python3 Benchmarks/expected_pdus.py "$file")
    labels=("tcpdump -r F -w /dev/null")
    commands=("tcpdump -r '$file' -w /dev/null")
    if [ $with_tshark = 1 ]; then
        labels+=("tshark -q -z smpp_commands,tree")
        commands+=("tshark -r '$file' -d tcp.port==2775,smpp -q -z smpp_commands,tree")
    fi
    for command in "decode --format jsonl" "analyze --format json"; do
        labels+=("smppscope $command")
        commands+=("'$bin' $command '$file'")
    done
    # import into a fresh store each run
    labels+=("smppscope import --store (fresh)")
    commands+=("rm -f '$data/bench.sqlite'*; '$bin' import '$file' --store '$data/bench.sqlite'")
    labels+=("smppscope profile --format json")
    commands+=("'$bin' profile --format json '$file'")
    # anonymize into a capture beside the input (a key made once)
    labels+=("smppscope anonymize -o F.anon.pcap")
    commands+=("'$bin' anonymize '$file' -o '$data/bench.anon.pcap' --key '$data/bench.key'")
    measure_all "${commands[@]}" >"$data/results.out" || exit 1
    mapfile -t results <"$data/results.out"
    # The counts, against the generator's truth: every PDU decoded, analyzed and stored.
    decoded=$("$bin" decode "$file" --format jsonl --pdus-only | wc -l)
    analyzed=$("$bin" analyze "$file" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['pdus_total'])")
    stored=$("$bin" sessions --store "$data/bench.sqlite" --format json | python3 -c "import json,sys; print(sum(s['pdus'] for s in json.load(sys.stdin)['sources']))")
    anonymized=$("$bin" analyze "$data/bench.anon.pcap" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['pdus_total'])")
    rm -f "$data/bench.anon.pcap"
    # The profile's submit_sm and throttled answers, against the truth (where the generator lost nothing).
    if [ ! -f "$file.lost.json" ]; then
        "$bin" profile --format json "$file" | python3 -c "
import json, sys
profile, truth = json.load(sys.stdin), json.load(open(sys.argv[1]))
submits = sum(s['responses']['submit_sm']['count'] for s in profile['smscs'])
throttled = sum(s['throttling']['throttled'] for s in profile['smscs'])
if submits != truth['pdus_by_command']['submit_sm'] or throttled != truth['throttled_0x58_responses']:
    sys.exit(f'profile: {submits} submit_sm, {throttled} throttled; the truth file says otherwise')
" "$file.truth.json" || exit 1
    fi
    if [ "$decoded" != "$expected" ] || [ "$analyzed" != "$expected" ] || [ "$stored" != "$expected" ] \
        || [ "$anonymized" != "$expected" ]; then
        echo "$input: the truth files say $expected PDUs; decode gave $decoded, analyze $analyzed, import $stored," \
            "the anonymized capture $anonymized" >&2
        exit 1
    fi
    read -r floor _ <<<"${results[0]}"
    tshark_time=""
    if [ $with_tshark = 1 ]; then read -r tshark_time _ <<<"${results[1]}"; fi
    rows=()
    for ((i = 0; i < ${#labels[@]}; i++)); do
        read -r t r <<<"${results[i]}"
        rows+=("${labels[i]}|x|$t|$r")
    done
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
