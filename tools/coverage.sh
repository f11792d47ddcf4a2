#!/usr/bin/env bash
# Line coverage of Sources/ per module: the whole suite with coverage, the command-line tests running a binary
# built with coverage too (their runs count). Prints a Markdown table (docs/testing.md keeps the last one).
#   tools/coverage.sh            (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-coverage
# The toolchain's own LLVM tools read the profiles its compiler writes.
tools=$(dirname "$(readlink -f "$(command -v swift)")")
swift build --scratch-path "$scratch" --enable-code-coverage --build-tests >/dev/null
bin=$(swift build --scratch-path "$scratch" --show-bin-path)
rm -rf "$bin/codecov"
mkdir -p "$bin/codecov"
# Every process (the test runner and each smppscope it starts) writes its own profile.
export LLVM_PROFILE_FILE="$bin/codecov/%p-%m.profraw"
SMPPSCOPE_BINARY="$bin/smppscope" swift test --scratch-path "$scratch" --enable-code-coverage --skip-build >"$bin/codecov/tests.log" 2>&1 || {
    grep -E "✘" "$bin/codecov/tests.log" | head -20 >&2
    echo "the tests failed; coverage not reported" >&2
    exit 1
}
profile="$bin/codecov/all.profdata"
"$tools/llvm-profdata" merge -sparse "$bin"/codecov/*.profraw -o "$profile"
objects=("$bin/smppscopePackageTests.xctest" -object "$bin/smppscope")
"$tools/llvm-cov" export -summary-only -instr-profile "$profile" "${objects[@]}" -ignore-filename-regex '(\.build|Tests|Benchmarks)/' \
    >"$bin/codecov/summary.json"
python3 - "$bin/codecov/summary.json" "$PWD/Sources/" <<'PY'
import json, sys, collections
data = json.load(open(sys.argv[1]))
sources = sys.argv[2]
modules = collections.OrderedDict()
for file in data["data"][0]["files"]:
    name = file["filename"]
    if not name.startswith(sources):
        continue
    module = name[len(sources):].split("/")[0]
    lines = file["summary"]["lines"]
    functions = file["summary"]["functions"]
    entry = modules.setdefault(module, [0, 0, 0, 0])
    entry[0] += lines["covered"]; entry[1] += lines["count"]
    entry[2] += functions["covered"]; entry[3] += functions["count"]
print("| module | lines covered | lines | line coverage | functions covered |")
print("|---|---|---|---|---|")
total = [0, 0, 0, 0]
for module, (covered, count, fcovered, fcount) in sorted(modules.items()):
    total = [a + b for a, b in zip(total, (covered, count, fcovered, fcount))]
    print(f"| {module} | {covered} | {count} | {100 * covered / max(1, count):.1f}% | {100 * fcovered / max(1, fcount):.1f}% |")
print(f"| all | {total[0]} | {total[1]} | {100 * total[0] / max(1, total[1]):.1f}% | {100 * total[2] / max(1, total[3]):.1f}% |")
PY
