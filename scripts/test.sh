#!/usr/bin/env bash
# Runs the test suite with node's test runner: unit tests (no root needed) and integration tests (root, real kernel).
# Usage: scripts/test.sh [unit|integration|FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  unit)        files=$(find dist/test/unit -name '*.test.js' | sort) ;;
  integration) files=$(find dist/test/integration -name '*.test.js' | sort) ;;
  all)         files=$(find dist/test/unit dist/test/integration -name '*.test.js' | sort) ;;
  *)           files="$*" ;;
esac
# One file at a time: integration tests share the kernel (cgroups, mounts, iptables) and the two cores.
exec node --test --test-concurrency=1 --test-reporter=spec $files
