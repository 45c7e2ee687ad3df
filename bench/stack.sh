# shellcheck shell=bash
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
    # shellcheck disable=SC2034 # the sourcing script's
    URL=$(js url)
}

stack_down() {
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
    rm -rf "$work"
}

# js KEY: one value of the stack's state (a list as space-separated words).
js() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(" ".join(map(str,v)) if isinstance(v,list) else v)' "$state" "$1"; }
