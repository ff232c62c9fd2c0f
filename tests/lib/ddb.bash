# ddb.bash: helpers for bats tests that talk to DynamoDB: the suite's AWS
# DynamoDB Local (tests/lib/ddb-local) and the Streams stand-in
# (tests/lib/streams-standin). Load with `load lib/ddb`.
# Clients are Debian's awscli (/usr/bin/aws) and curl's own SigV4 signer:
# nobody here wrote them.
#
# DynamoDB Local starts once per suite, when the first file that needs it
# calls ddb_local_up in its setup_file (about 3 s of CPU and 150 MB; most
# files never need it); later files reuse it, teardown_suite stops it.
# Each file gets its own database: DynamoDB Local keeps one per access key
# id, and ddb_local_up picks one per file (letters and digits only: it
# refuses others, so the suite's S3 key id test:tester cannot be used here).

DDB_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DDB_LIB	# ddb_aws, also where a test writes it into a script
# the stand-in starts and stops as s3.bash's helper servers do
. "$DDB_LIB/s3.bash"

# _ddb_suite_pid: the pid of bats' suite process, so DynamoDB Local can
# stop by itself once a killed run is gone (empty if not found)
_ddb_suite_pid() {
	local p=$$ cmd
	while [ "${p:-0}" -gt 1 ]; do
		cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || return 0
		case $cmd in *bats-exec-suite*) echo "$p"; return 0 ;; esac
		p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || return 0
	done
}

# ddb_local_up: make sure the suite's DynamoDB Local runs (start it if
# not) and export DDB_ENDPOINT (http://127.0.0.1:PORT), DDB_ACCESS_KEY
# (this file's key id) and DDB_LOCAL_DIR. Call it in setup_file.
ddb_local_up() {
	local d=${S3_STORE_DIR:?ddb_local_up needs the suite (setup_suite.bash)}/ddb-local
	local pid
	(
		flock 9
		if ! { [ -f "$d/env" ] && pid=$(cat "$d/pid" 2>/dev/null) &&
			kill -0 "$pid" 2>/dev/null; }; then
			"$DDB_LIB/ddb-local" stop "$d"
			DDB_LOCAL_OWNER=$(_ddb_suite_pid) "$DDB_LIB/ddb-local" start "$d" \
				>/dev/null
		fi
	) 9>"$S3_STORE_DIR/ddb-local.lock" || return
	DDB_ENDPOINT=$(sed -n 's/^DDB_ENDPOINT=//p' "$d/env")
	[ -n "$DDB_ENDPOINT" ] || return 1
	DDB_LOCAL_DIR=$d
	DDB_ACCESS_KEY=ddb$(basename "${BATS_TEST_FILENAME:-x}" .bats | LC_ALL=C tr -cd 'A-Za-z0-9')
	export DDB_ENDPOINT DDB_LOCAL_DIR DDB_ACCESS_KEY
}

# ddb_aws ARGS...: /usr/bin/aws against DynamoDB Local with this file's key
# id (secret: anything; it checks none), no pager
ddb_aws() {
	AWS_ACCESS_KEY_ID=$DDB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=ddblocal \
		AWS_PAGER='' "$DDB_LIB/aws-warm" --endpoint-url "$DDB_ENDPOINT" --no-cli-pager "$@"
}

# ddb_table [TAG]: print a new unique, valid table name (does not create it)
ddb_table() {
	printf 't%s_%s_%04x%04x\n' "${BATS_SUITE_TEST_NUMBER:-0}" \
		"$(LC_ALL=C tr -c 'A-Za-z0-9_.\n-' '_' <<<"${1:-tab}")" "$RANDOM" "$RANDOM"
}

# streams_start SCRIPT [ARGS...]: start tests/lib/streams-standin on
# SCRIPT (ARGS as its options, e.g. -x 1 -k KEY -s SECRET); sets
# STREAMS_URL and STREAMS_DIR (its log: $STREAMS_DIR/log). Lifetime:
# $STREAMS_LIFE seconds (default 120).
streams_start() {
	local dir script=$1
	shift
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/streams.XXXXXX") || return
	_s3_helper_start STREAMS streams-standin "$dir" -t "${STREAMS_LIFE:-120}" \
		"$@" "$script" "$dir"
}

# streams_stop: stop the stand-in streams_start started
streams_stop() {
	_s3_helper_stop "${STREAMS_DIR:-/nonexistent}"
}

# streams_call KEYID:SECRET TARGET JSON: one request to the stand-in, signed
# by curl's SigV4 (key ids without a colon: curl splits --user there);
# prints the body, then a line "HTTP STATUS"
streams_call() {
	curl -s --max-time 30 --aws-sigv4 "aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:dynamodb" \
		--user "$1" -H 'Content-Type: application/x-amz-json-1.0' \
		-H "X-Amz-Target: $2" --data "$3" -w '\nHTTP %{http_code}\n' "$STREAMS_URL/"
}

# ddb_fill TABLE N: put N items into TABLE (DynamoDB Local, which must
# exist), 25 a BatchWriteItem, by one curl (its SigV4 signer) with 4
# requests in flight; fails unless every request was taken whole. Item i
# (0 to N-1): id "k" and i in 7 digits, s a string with a quote, a comma,
# a newline and a non-ASCII letter, n a number of i; every 10th item also
# a map m (so columns come and go between rows). DynamoDB Local's own CPU
# is the cost: about 20 s for 100,000 items on 2 busy cores.
ddb_fill() {
	local t=$1 n=$2 d bad
	d=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/fill.XXXXXX") || return
	LC_ALL=C awk -v t="$t" -v n="$n" -v d="$d" -v url="$DDB_ENDPOINT/" \
		-v user="$DDB_ACCESS_KEY:ddblocal" \
		-v sig="aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:dynamodb" '
	function item(i,  m) {
		m = i % 10 ? "" : sprintf(",\"m\":{\"M\":{\"a\":{\"L\":" \
			"[{\"N\":\"%d\"},{\"BOOL\":true},{\"NULL\":true}]}}}", i)
		return sprintf("{\"PutRequest\":{\"Item\":{\"id\":{\"S\":\"k%07d\"}," \
			"\"s\":{\"S\":\"row %d, \\\"q\\\"\\n\xc3\xa9\"}," \
			"\"n\":{\"N\":\"%d.%02d\"}%s}}}", i, i, i * 7, i % 100, m)
	}
	BEGIN {
		for (b = 0; b * 25 < n; b++) {
			f = d "/" b
			printf "{\"RequestItems\":{\"%s\":[", t >f
			for (i = b * 25; i < b * 25 + 25 && i < n; i++)
				printf "%s%s", (i > b * 25 ? "," : ""), item(i) >f
			printf "]}}" >f
			close(f)
			if (b)
				print "next"
			printf "url = \"%s\"\naws-sigv4 = \"%s\"\nuser = \"%s\"\n", url, sig, user
			print "header = \"Content-Type: application/x-amz-json-1.0\""
			print "header = \"X-Amz-Target: DynamoDB_20120810.BatchWriteItem\""
			printf "data-binary = \"@%s\"\noutput = \"%s.out\"\n", f, f
			print "fail\nretry = 3"
		}
	}' >"$d/config" &&
		curl --no-progress-meter -Z --parallel-max 4 -K "$d/config" || { rm -rf "$d"; return 1; }
	# an answer per request, each with nothing left unprocessed
	bad=$(cd "$d" && for ((b = 0; b * 25 < n; b++)); do echo "$b.out"; done |
		xargs -r grep -L -x -F '{"UnprocessedItems":{}}' 2>&1) || :
	rm -rf "$d"
	[ -z "$bad" ] || { echo "ddb_fill: not taken whole: $bad" >&2; return 1; }
}
