#!/usr/bin/env bash
# End-to-end load benchmark (issues 9 and 16): builds the service and the load tool in Release, then runs
# the chosen scenario(s) against the service as its own process on its embedded store (durable queue on).
#   throughput  the service vs a do-nothing forwarder vs a do-nothing endpoint: max, 1,000/s, half the forwarder's max
#   fleet       register 100,000 puppets over 1,000 corps (registrations/s per 10,000, RSS), load with 1,000 vs 100,000 registered
#   noisy       healthy delivery latency beside 50 black-holed puppets; a lone event beside 40 black holes holding 400 events
#   all         the three in turn
# Usage: benchmarks/run-load.sh [--scenario throughput|fleet|noisy|all] [--service-cpus 0] [--seconds 5]
#          [--puppets 1000] [--rate 0|N] [--connections 32] [--fleet 100000] [--corps 1000] [--fleet-budget 300]
#          [--broken 50] [--broken-rate 20] [--healthy-rate 1000] [--held 40] [--lone-timeout 60] [--label text]
#          [--log-level Warning]
# On a 2-core machine use --service-cpus 0: the server on core 0, the generator and the puppets on core 1.
# The Markdown report goes to stdout, progress to stderr. Every child process is stopped on exit and on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/WxkfManager -c Release -v quiet -nologo >/dev/null
dotnet build benchmarks/WxkfManager.LoadTest -c Release -v quiet -nologo >/dev/null
exec dotnet benchmarks/WxkfManager.LoadTest/bin/Release/net10.0/WxkfManager.LoadTest.dll \
    --service src/WxkfManager/bin/Release/net10.0/WxkfManager.dll "$@"
