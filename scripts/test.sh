#!/usr/bin/env bash
# Runs the test suite with node's test runner: unit tests (no root needed) and integration tests (root, real kernel).
# Usage: scripts/test.sh [unit|integration|FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
tests_in() { find "$@" -name '*.test.js' 2>/dev/null | sort; }
case "${1:-all}" in
  unit)        files=$(tests_in dist/test/unit) ;;
  integration) files=$(tests_in dist/test/integration) ;;
  all)         files=$(tests_in dist/test/unit dist/test/integration) ;;
  *)           files="$*" ;;
esac
[ -n "$files" ] || { echo "test: no test files found (did the build run?)" >&2; exit 1; }
# One file at a time: integration tests share the kernel (cgroups, mounts, iptables) and the two cores.
exec node --test --test-concurrency=1 --test-reporter=spec $files
