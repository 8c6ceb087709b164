#!/usr/bin/env bash
# Verify-and-decrypt ops/s of our crypto and of Tencent's @wecom/crypto on the same inputs, side by
# side in one run, alternating three times each so a noisy neighbour hits both.
# Usage: benchmarks/run-crypto-compare.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-5}"
dotnet build WxkfManager.Benchmarks -c Release -v quiet -nologo >/dev/null
(cd crypto-compare && npm install --no-audit --no-fund --silent >/dev/null)
inputs=$(mktemp)
tool=WxkfManager.Benchmarks/bin/Release/net10.0/WxkfManager.Benchmarks.dll
dotnet "$tool" --inputs "$inputs"
ours=(); theirs=()
for _ in 1 2 3; do
    ours+=("$(dotnet "$tool" --throughput "$seconds")")
    theirs+=("$(node crypto-compare/bench.mjs "$inputs" "$seconds")")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
o=$(median "${ours[@]}"); t=$(median "${theirs[@]}")
echo "| implementation | verify + decrypt ops/s (runs) | median |"
echo "| --- | --- | --- |"
echo "| WxkfManager.Crypto (.NET) | ${ours[*]} | $o |"
echo "| @wecom/crypto (Node $(node --version)) | ${theirs[*]} | $t |"
awk -v o="$o" -v t="$t" 'BEGIN { printf "ratio (.NET / Node): %.2f\n", o / t }'
