#!/bin/sh
# Runs the fuzz targets named as arguments, one after another, each on one
# core: first every reproducer in fuzz/regressions/<target>-*, then
# FUZZ_SECONDS of fuzzing from the seed corpus fuzz/corpus/<target>/ (new
# inputs go to build/fuzz/corpus/<target>/, findings to build/fuzz/artifacts/).
# Exits non-zero when any target finds anything: a crash, a leak, undefined
# behaviour, a timeout (an input that takes over 10 s), or a broken property.
#
# Environment: ROOT (repository), OUT (build/fuzz), FUZZ_SECONDS (60),
# FUZZ_SUPPRESS (a UBSan suppressions file; unset by default), FUZZ_ARGS
# (more libFuzzer options, e.g. -runs=10000000 instead of a time limit).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=${OUT:-$ROOT/build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_ARGS=${FUZZ_ARGS:-}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
if [ -n "${FUZZ_SUPPRESS:-}" ]; then
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$FUZZ_SUPPRESS"
fi

dict_of() {
  case "$1" in
    uri|query) echo uri ;;
    json) echo json ;;
    *) echo cmd ;;
  esac
}

failed=""
for t in "$@"; do
  bin="$OUT/fuzz_$t"
  log="$OUT/$t.log"
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts"

  regs=$(ls "$ROOT"/fuzz/regressions/"$t"-* 2>/dev/null)
  if [ -n "$regs" ]; then
    # shellcheck disable=SC2086
    if "$bin" $regs >"$OUT/$t.regressions.log" 2>&1; then
      echo "fuzz_$t: $(echo "$regs" | wc -l) regression input(s) pass"
    else
      echo "fuzz_$t: a regression input fails again, see $OUT/$t.regressions.log"
      failed="$failed $t"
      continue
    fi
  fi

  start=$(date +%s)
  # shellcheck disable=SC2086
  "$bin" "$OUT/corpus/$t" "$ROOT/fuzz/corpus/$t" \
    -dict="$ROOT/fuzz/dict/$(dict_of "$t").dict" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/$t-" $FUZZ_ARGS >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_$t: ${execs:-?} executions in ${secs} s, no finding"
  else
    echo "fuzz_$t: FINDING after ${execs:-?} executions in ${secs} s (exit $rc), see $log"
    grep -E 'ERROR:|runtime error|broken property|SUMMARY|Test unit written' "$log" | head -n 8
    failed="$failed $t"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: findings in:$failed"
  exit 1
fi
echo "fuzz: no finding in $*"
