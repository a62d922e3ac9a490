#!/usr/bin/env bash
# scripts/s3server.sh — a throwaway S3 server (versitygw, Apache-2.0) for the
# tests: on 127.0.0.1, a free port, a fresh temporary directory as its POSIX
# backend, and a freshly generated access key and secret. It creates no
# buckets; each test makes its own.
#
# Two ways to use it:
#
#   source scripts/s3server.sh         # in a bash script (scripts/test.sh):
#                                      # starts the server, exports the
#                                      # variables below into that shell, and
#                                      # stops the server when it exits
#   scripts/s3server.sh CMD [ARGS...]  # runs CMD with the variables set,
#                                      # stops the server, exits with CMD's status
#   scripts/s3server.sh                # starts it and waits, printing the
#                                      # exports to paste into another shell
#
# Exports: TAPEDECK_TEST_S3_ENDPOINT (http://127.0.0.1:PORT),
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
#
# Installs versitygw with `go install` when it is not already in
# $(go env GOBIN) or $(go env GOPATH)/bin. Needs only Go and bash.

tapedeck_s3server_version=v1.8.0

# tapedeck_s3server_start does the work; a function so that, when this file
# is sourced, it can `return` on error without killing the caller's shell
# options or leaving half-set variables.
tapedeck_s3server_start() {
	local gobin
	gobin="$(go env GOBIN)"
	if [[ -z "$gobin" ]]; then
		gobin="$(go env GOPATH)"
		gobin="${gobin%%:*}/bin"
	fi
	local vgw="$gobin/versitygw"
	if [[ ! -x "$vgw" ]]; then
		echo "s3server: installing versitygw $tapedeck_s3server_version into $gobin" >&2
		go install "github.com/versity/versitygw/cmd/versitygw@$tapedeck_s3server_version" || return 1
	fi

	local dir
	dir="$(mktemp -d "${TMPDIR:-/tmp}/tapedeck-s3.XXXXXX")" || return 1
	mkdir -p "$dir/data"
	TAPEDECK_S3SERVER_DIR="$dir"

	local key secret
	key="TD$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
	secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

	# Pick a port nothing answers on, start the server there, and wait for it
	# to accept connections. Another process can take the port in between, in
	# which case versitygw exits and we try another.
	local try port pid ready i
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 40000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue # in use
		fi
		# The secret goes through the environment, not argv, so it does not
		# show in ps.
		ROOT_ACCESS_KEY_ID="$key" ROOT_SECRET_ACCESS_KEY="$secret" \
			"$vgw" --port "127.0.0.1:$port" --quiet \
			posix "$dir/data" >"$dir/versitygw.log" 2>&1 &
		pid=$!
		ready=
		for i in $(seq 1 100); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break # exited: port taken or bad backend
			fi
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				ready=1
				break
			fi
			sleep 0.1
		done
		if [[ -n "$ready" ]]; then
			TAPEDECK_S3SERVER_PID="$pid"
			export TAPEDECK_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
			export AWS_ACCESS_KEY_ID="$key"
			export AWS_SECRET_ACCESS_KEY="$secret"
			export AWS_REGION=us-east-1
			echo "s3server: versitygw $tapedeck_s3server_version on $TAPEDECK_TEST_S3_ENDPOINT (pid $pid, data $dir/data)" >&2
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "s3server: versitygw did not start; its log:" >&2
	cat "$dir/versitygw.log" >&2
	rm -rf "$dir"
	return 1
}

# tapedeck_s3server_stop stops the server and removes its directory.
tapedeck_s3server_stop() {
	if [[ -n "${TAPEDECK_S3SERVER_PID:-}" ]]; then
		kill "$TAPEDECK_S3SERVER_PID" 2>/dev/null || true
		wait "$TAPEDECK_S3SERVER_PID" 2>/dev/null || true
		TAPEDECK_S3SERVER_PID=
	fi
	if [[ -n "${TAPEDECK_S3SERVER_DIR:-}" ]]; then
		rm -rf "$TAPEDECK_S3SERVER_DIR"
		TAPEDECK_S3SERVER_DIR=
	fi
	return 0
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	# Sourced: start, and stop on the caller's exit, keeping any EXIT trap it
	# already had.
	tapedeck_s3server_start || return 1
	tapedeck_s3server_prev_trap="$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")"
	trap "tapedeck_s3server_stop; ${tapedeck_s3server_prev_trap:-:}" EXIT
else
	set -uo pipefail
	tapedeck_s3server_start || exit 1
	trap tapedeck_s3server_stop EXIT
	trap 'exit 130' INT TERM
	if [[ $# -gt 0 ]]; then
		"$@"
		exit $?
	fi
	echo "export TAPEDECK_TEST_S3_ENDPOINT=$TAPEDECK_TEST_S3_ENDPOINT AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=$AWS_REGION"
	echo "s3server: running; Ctrl-C stops it" >&2
	wait "$TAPEDECK_S3SERVER_PID"
fi
