# shellcheck shell=bash disable=SC2034 # URL and the wrk figures: read by the sourcing script
# bench/stack.sh: sourced (from the source folder) by the bench/*.sh scripts.
# Starts bench/stack.py (a private MariaDB + troika-fcgi + nginx) in the
# background, tears it down and removes the work folder when the script
# exits, and reads the stack's state (ports, pids, folders).

# stack_up WORK [bench/stack.py options...]: the stack's state goes to
# WORK/state.json, its output to WORK/stack.log; returns once it answers, or
# ends the script with the log when it does not start. Sets URL.
stack_up() {
    work=$1
    shift
    state=$work/state.json
    /usr/bin/python3 bench/stack.py --state "$state" "$@" >"$work/stack.log" 2>&1 &
    stack_pid=$!
    trap stack_down EXIT
    for _ in $(seq 600); do
        [ -s "$state" ] && break
        kill -0 "$stack_pid" 2>/dev/null || { cat "$work/stack.log"; echo "bench: the stack did not start" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$state" ] || { cat "$work/stack.log"; echo "bench: timed out starting the stack" >&2; exit 1; }
    URL=$(js url)
}

stack_down() {
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
    rm -rf "$work"
}

# js KEY: one value of the stack's state (a list as space-separated words).
js() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(map(str,v)) if isinstance(v,list) else v)' "$state" "$1"; }

# wrk's figures by run name: requests/s, p50, p99, non-2xx count, its output.
declare -A RPS P50 P99 NON2XX RAW

# wrk_record NAME OUTPUT: keeps one wrk --latency run's figures under NAME.
wrk_record() {
    local name=$1 out=$2
    RAW[$name]=$out
    RPS[$name]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    P50[$name]=$(awk '$1 == "50%" {print $2}' <<<"$out")
    P99[$name]=$(awk '$1 == "99%" {print $2}' <<<"$out")
    NON2XX[$name]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    NON2XX[$name]=${NON2XX[$name]:-0}
}

# wrk_raw_section NAME...: the results file's "wrk output" section.
wrk_raw_section() {
    local name
    echo
    echo "## wrk output"
    for name in "$@"; do
        echo
        echo "### $name"
        echo
        echo '```'
        echo "${RAW[$name]}"
        echo '```'
    done
}
