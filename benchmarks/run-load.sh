#!/usr/bin/env bash
# End-to-end load benchmark: builds the service and the load tool in Release, then runs the load
# against the service on its embedded store (durable queue on) and against a do-nothing endpoint.
# Usage: benchmarks/run-load.sh [--puppets 1000] [--rate 0|N] [--seconds 10] [--connections 32]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/WxkfManager -c Release -v quiet -nologo >/dev/null
dotnet build benchmarks/WxkfManager.LoadTest -c Release -v quiet -nologo >/dev/null
dotnet benchmarks/WxkfManager.LoadTest/bin/Release/net10.0/WxkfManager.LoadTest.dll \
    --service src/WxkfManager/bin/Release/net10.0/WxkfManager.dll "$@"
