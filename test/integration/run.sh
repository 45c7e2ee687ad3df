#!/usr/bin/env bash
# Integration tests: a private MariaDB + troika-fcgi + nginx per test class,
# driven by Python's unittest (standard library only, Debian's /usr/bin/python3).
# `make check` runs this through automake's TESTS; run it by hand from the
# build folder (where ./troika-fcgi is), optionally naming tests:
#   test/integration/run.sh [test_foundation.HealthTest ...]
# Prints each test's result and, last, `integration: N passed, M failed`.
# Exit status: 0 all passed, 1 a failure, 77 (automake's "skip") only when
# TROIKA_SKIP_INTEGRATION=1 is set; a missing prerequisite is a failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)

if [ "${TROIKA_SKIP_INTEGRATION:-0}" = 1 ]; then
    echo "integration: skipped (TROIKA_SKIP_INTEGRATION=1)"
    exit 77
fi

fail() {
    echo "integration: $*" >&2
    echo "integration: 0 passed, 1 failed"
    exit 1
}

py=/usr/bin/python3
[ -x "$py" ] || fail "$py not found (apt-get install python3, or run ./quickstart test)"
for tool in mariadbd mariadb-install-db mariadb nginx; do
    command -v "$tool" >/dev/null 2>&1 ||
        PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found: run ./quickstart test (it installs mariadb-server and nginx)"
done
export PATH="$PATH:/usr/sbin:/sbin"

# The binary under test: $TROIKA_FCGI, else the build folder's (the current
# folder under make check), else the source folder's.
if [ -z "${TROIKA_FCGI:-}" ]; then
    if [ -x "$PWD/troika-fcgi" ]; then TROIKA_FCGI=$PWD/troika-fcgi; else TROIKA_FCGI=$src/troika-fcgi; fi
fi
[ -x "$TROIKA_FCGI" ] || fail "$TROIKA_FCGI not built (run make first)"
export TROIKA_FCGI
echo "integration: testing $TROIKA_FCGI"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$here" || exit 1
if [ $# -gt 0 ]; then
    args=(-v "$@")
else
    args=(discover -v -s "$here" -t "$here" -p 'test_*.py')
fi
# Bounded: a hung stack must not hold CI for long.
PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 timeout -k 10 "${TROIKA_IT_TIMEOUT:-900}" \
    "$py" -W ignore::ResourceWarning -m unittest "${args[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

# Count from unittest's closing lines: "Ran N tests" and "OK (skipped=K)" or
# "FAILED (failures=F, errors=E, skipped=K)". An error in setUpClass (or
# another fixture) counts in E but its tests are not in N. Without a summary
# (the run crashed or timed out), fall back to the per-test result lines.
ran=$(sed -n 's/^Ran \([0-9][0-9]*\) tests\{0,1\} in .*/\1/p' "$out" | tail -n 1)
count() {
    local v
    v=$(grep -E '^(OK|FAILED)( \(|$)' "$out" | tail -n 1 | grep -oE "$1=[0-9]+" | cut -d= -f2)
    echo "${v:-0}"
}
if [ -n "$ran" ]; then
    fixture=$(grep -cE '^ERROR: (setUpClass|tearDownClass|setUpModule|tearDownModule) ' "$out")
    failed=$(( $(count failures) + $(count errors) + $(count 'unexpected successes') ))
    skipped=$(count skipped)
    passed=$(( ran - (failed - fixture) - skipped - $(count 'expected failures') ))
    [ "$passed" -ge 0 ] || passed=0
else
    ran=0
    passed=$(grep -cE ' \.\.\. ok$' "$out")
    failed=$(grep -cE ' \.\.\. (FAIL|ERROR|unexpected success)$' "$out")
    skipped=$(grep -cE " \.\.\. skipped( |$)" "$out")
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # killed by the timeout, or crashed before the summary
    echo "integration: the test run ended with status $rc before finishing"
    failed=1
fi
if [ "$ran" -eq 0 ] && [ "$passed" -eq 0 ]; then
    echo "integration: no test ran"
    failed=$(( failed > 0 ? failed : 1 ))
fi
[ "$skipped" -gt 0 ] && echo "integration: $skipped skipped"
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
