#!/usr/bin/env bats
# ddb-stream: DynamoDB Local -> ddb-stream -> ddb-to-s3 -> the Swift S3 store,
# crash points, and the Streams stand-in for what DynamoDB Local cannot show

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb
load lib/tool

setup_file() {
	ddb_local_up
	# ddb-stream signs for DynamoDB Local with this file's key id (it refuses
	# the store's test:tester); s3-put keeps the environment's keys
	export AWS_SHARED_CREDENTIALS_FILE="$BATS_FILE_TMPDIR/credentials"
	printf '[ddb]\naws_access_key_id = %s\naws_secret_access_key = ddblocal\n' \
		"$DDB_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
	# the AWS CLI prints ApproximateCreationDateTime as the wire's number
	printf '[default]\ncli_timestamp_format = wire\n' >"$BATS_FILE_TMPDIR/config"
}

setup() {
	W=$BATS_TEST_TMPDIR
}

# mktable NAME: a table with a NEW_AND_OLD_IMAGES stream
mktable() {
	ddb_aws dynamodb create-table --table-name "$1" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH \
		--billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
		>/dev/null
}

# workload TABLE: puts, an update, a delete, every attribute type
workload() {
	ddb_aws dynamodb put-item --table-name "$1" --item '{"id":{"S":"a1"},
		"s":{"S":"x, \"y\""},"n":{"N":"12345678901234567890123456789012345678"},
		"b":{"B":"AAEC"},"ss":{"SS":["p","q"]},"ns":{"NS":["1.5","-2E+3"]},
		"bs":{"BS":["AAE=","AgM="]},"m":{"M":{"k":{"N":"0.000001"}}},
		"l":{"L":[{"S":"u"},{"NULL":true},{"BOOL":false}]},"z":{"NULL":true},
		"t":{"BOOL":true}}'
	ddb_aws dynamodb put-item --table-name "$1" --item '{"id":{"S":"a2"},"n":{"N":"-1E-130"}}'
	ddb_aws dynamodb update-item --table-name "$1" --key '{"id":{"S":"a1"}}' \
		--update-expression 'SET n = :v' --expression-attribute-values '{":v":{"N":"7"}}'
	ddb_aws dynamodb delete-item --table-name "$1" --key '{"id":{"S":"a2"}}'
}

# expected TABLE OUT: the CSV rows of every record of TABLE's stream as the
# AWS CLI reads them (get-records), through the same stages, into OUT/
expected() {
	local arn sh it
	arn=$(ddb_aws dynamodb describe-table --table-name "$1" \
		--query Table.LatestStreamArn --output text)
	sh=$(ddb_aws dynamodbstreams describe-stream --stream-arn "$arn" \
		--query 'StreamDescription.Shards[0].ShardId' --output text)
	it=$(ddb_aws dynamodbstreams get-shard-iterator --stream-arn "$arn" \
		--shard-id "$sh" --shard-iterator-type TRIM_HORIZON \
		--query ShardIterator --output text)
	AWS_CONFIG_FILE=$BATS_FILE_TMPDIR/config ddb_aws dynamodbstreams \
		get-records --shard-iterator "$it" >"$W/get-records.json"
	ddb-to-s3 -n "$1" -o "$2" "$W/get-records.json" 2>/dev/null
}

# rows DIR-OR-FILES...: the data rows of CSV files, created_at as a whole
# number (the CLI prints 1796156700.0 where the API sent 1796156700.000)
rows() {
	local f
	for f in "$@"; do tail -n +2 "$f"; done | sed -E 's/\.0+$//'
}

# objects_ls BUCKET: the keys of the CSV objects (not the tables' _columns)
objects_ls() {
	s3_ls "$1" | grep -v -e '/_columns$' -e '^$' || :
}

# s3_rows BUCKET: every object's rows, and their keys in $W/keys
s3_rows() {
	local k
	objects_ls "$1" >"$W/keys"
	mkdir -p "$W/got"
	while read -r k; do
		s3_get "$1" "$k" "$W/got/${k//\//_}"
	done <"$W/keys"
	rows "$W"/got/*
}

# stream BUCKET TABLE: ddb-stream from DynamoDB Local into BUCKET, the
# state in $W/st
stream() {
	ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$2" \
		ddb-to-s3 -u "$S3_ENDPOINT" -b "$1" - </dev/null
}

@test "ddb-stream: --help exits 0 with the usage; a bad option exits 2" {
	help_and_bad_option ddb-stream "  --state DIR "
}

@test "ddb-stream: a command without a state directory is a usage error" {
	run ddb-stream arn:aws:dynamodb:us-east-1:1:table/t/stream/x cat
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ddb-stream: a command needs a state directory (--state)" ]]
	run ddb-stream
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ddb-stream: no stream given (an ARN or a table name)" ]]
	run ddb-stream --limit 0 t
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ddb-stream: bad limit: 0" ]]
	run ddb-stream --follow --list-every 0 t
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ddb-stream: bad list interval: 0" ]]
}

@test "ddb-to-s3's old stream mode options say what to run instead (ddb-stream ... ddb-to-s3 -), exit 2, touch nothing" {
	for o in "--state $W/st" "--limit 5" --follow --latest --accept-gap; do
		run ddb-to-s3 -b bkt $o t
		[ "$status" -eq 2 ]
		[ "$output" = "ddb-to-s3: ${o%% *}: stream mode is ddb-stream's: ddb-stream --state DIR [--limit N|Ns] [--follow] [--latest] [--accept-gap] STREAM ddb-to-s3 [options] - (ddb-stream(1))" ]
	done
	[ ! -e "$W/st" ]
}

@test "ddb-stream: DynamoDB Local to S3: the rows the CLI's get-records give, once; a second run writes nothing; later changes are picked up" {
	local t b
	t=$(ddb_table e2e)
	b=$(s3_bucket e2e)
	s3_mb "$b"
	mktable "$t"
	workload "$t"
	run stream "$b" "$t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ddb-stream: batch 4 records: shardId-"*" (4)"* ]]
	[[ "$output" == *"$t: 4 records, 5 rows, seq "*" -> s3://$b/staging/$t/${t}_"*".csv"* ]]
	# no item value in the log (the table's name is random hex: not "a1")
	[[ "$output" != *'x, "y"'* && "$output" != *12345678901234567890* ]]
	expected "$t" "$W/exp"
	s3_rows "$b" >"$W/got.rows"
	rows "$W"/exp/staging/"$t"/*.csv >"$W/exp.rows"
	diff "$W/exp.rows" "$W/got.rows"
	# the same key as the same records given as a file
	[ "$(cat "$W/keys")" = "$(cd "$W/exp" && echo staging/"$t"/*.csv)" ]
	grep -q '^shard shardId-[^ ]* [0-9]\{21\} open$' "$W/st/state"
	! grep -q '^batch' "$W/st/state"

	# nothing new: nothing written, the state unchanged
	cp "$W/st/state" "$W/state.1"
	run stream "$b" "$t"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(objects_ls "$b" | wc -l)" -eq 1 ]
	cmp "$W/st/state" "$W/state.1"

	# later changes: one more object with them alone
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"a3"}}'
	run stream "$b" "$t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ddb-stream: batch 1 record: shardId-"*" (1)"* ]]
	[ "$(objects_ls "$b" | wc -l)" -eq 2 ]
}

@test "ddb-stream: a failing consumer commits nothing and its status is the run's; the next run hands on the same batch" {
	local t
	t=$(ddb_table fail)
	mktable "$t"
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"k"}}'
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"l"}}'
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$t" \
		sh -c 'cat >"$0"; exit 75' "$W/b1"
	[ "$status" -eq 75 ]
	[[ "$output" == *"ddb-stream: sh: exit 75; batch not committed"* ]]
	grep -q '^batch 0 2 [0-9]* [0-9a-f]\{64\}$' "$W/st/state"
	grep -q '^range shardId-[^ ]* [0-9]\{21\} [0-9]\{21\} 2$' "$W/st/state"
	cmp "$W/b1" "$W/st/batch.0"
	# the staged batch is handed on first, exactly, then committed
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"m"}}'
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --limit 2 "$t" \
		sh -c 'cat >"$0"' "$W/b2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"batch staged by an earlier run, not committed, handed on again: 2 records: shardId-"*" (2)"* ]]
	cmp "$W/b1" "$W/b2"
	[ ! -e "$W/st/batch.0" ]
	[ "$(jq -r .eventSourceARN "$W/b2" | sort -u | wc -l)" -eq 1 ]
	! grep -q '^batch' "$W/st/state"
	# a consumer killed by a signal is no success either
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$t" sh -c 'kill -9 $$'
	[ "$status" -eq 70 ]
	[[ "$output" == *"ddb-stream: sh: killed by signal 9; batch not committed"* ]]
}

@test "ddb-stream: a second run while the first holds the lock does nothing and exits 0" {
	mkdir -p "$W/st"
	exec 8>"$W/st/lock"
	flock 8
	run ddb-stream --state "$W/st" -u http://127.0.0.1:9 nosuchtable cat
	exec 8>&-
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ ! -e "$W/st/state" ]
}

# crash KILL: the stream job SIGKILLed at point KILL (tests/lib/kill-at),
# then a healthy run; every record's rows in exactly one object
crash() {
	local t b
	# tests/lib/kill-at comes with the crash matrix (branch crash)
	[ -x "$BATS_TEST_DIRNAME/lib/kill-at" ] || skip "tests/lib/kill-at is not there yet"
	t=$(ddb_table crash)
	b=$(s3_bucket crash)
	s3_mb "$b"
	mktable "$t"
	workload "$t"
	mkdir -p "$W/shim" "$W/kill"
	for tool in ddb-flatten s3-put ddb-to-s3; do
		ln -sf "$BATS_TEST_DIRNAME/lib/kill-at" "$W/shim/$tool"
	done
	PATH="$W/shim:$PATH" KILL_AT=$1 KILL_AT_DIR=$W/kill KILL_AT_FEED=${2:-} \
		setsid -w sh -c 'KILL_AT_PGID=$$; export KILL_AT_PGID; exec "$@"' sh \
		ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$t" \
		ddb-to-s3 -u "$S3_ENDPOINT" -b "$b" - </dev/null >"$W/crash.log" 2>&1 || :
	grep -v missed "$W/kill/killed"
	grep -q '^batch ' "$W/st/state"
	objects_ls "$b" >"$W/after-crash"
	[ -n "${3:-}" ] && eval "$3"
	run stream "$b" "$t"
	[ "$status" -eq 0 ]
	[[ "$output" == *"batch staged by an earlier run, not committed, handed on again: 4 records"* ]]
	! grep -q '^batch' "$W/st/state"
	expected "$t" "$W/exp"
	rows "$W"/exp/staging/"$t"/*.csv | sort >"$W/exp.rows"
	s3_rows "$b" | sort >"$W/got.rows"
	diff "$W/exp.rows" "$W/got.rows"
	[ "$(wc -l <"$W/keys")" -eq 1 ]
	[ "$(s3_uploads "$b" | wc -l)" -eq 0 ]
	# and nothing more on the next run
	run stream "$b" "$t"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "ddb-stream crash: SIGKILL before the upload (ddb-flatten done), then a healthy run: every record once" {
	crash ddb-flatten:1:exit
	[ ! -s "$W/after-crash" ]
}

@test "ddb-stream crash: SIGKILL mid-upload, then a healthy run: every record once" {
	crash s3-put:1:input 100
	[ ! -s "$W/after-crash" ]
}

@test "ddb-stream crash: SIGKILL after the upload, before the commit, then a healthy run: the same batch to the same key" {
	crash ddb-to-s3:1:exit
	[ "$(wc -l <"$W/after-crash")" -eq 1 ]
	[ "$(cat "$W/after-crash")" = "$(cat "$W/keys")" ]
}

@test "ddb-stream crash: SIGKILL while writing the commit (a half-written temp state), then a healthy run: every record once" {
	crash ddb-to-s3:1:exit "" \
		'printf "ddb-stream-state 1\nstream arn:x\nshard sh" >"$W/st/.state.AbCdEf"'
	[ "$(wc -l <"$W/after-crash")" -eq 1 ]
	[ ! -e "$W/st/.state.AbCdEf" ]
}

# the Streams stand-in (tests/lib/streams-standin): it checks every
# signature with botocore, and serves what DynamoDB Local cannot
rec() {
	printf '{"dynamodb":{"Keys":{"id":{"S":"%s"}},"NewImage":{"id":{"S":"%s"}}}}' "$1" "$1"
}

# run_standin [OPTIONS...]: run ddb-stream OPTIONS on the stand-in's table
# student, the state in $W/st, each batch appended to $W/out
run_standin() {
	run ddb-stream "$@" -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
}

# gap_refused: the run refused a gap (6), handed nothing on and left the
# state as it was ($W/state.0)
gap_refused() {
	[ "$status" -eq 6 ]
	[ ! -e "$W/out" ]
	cmp "$W/st/state" "$W/state.0"
}

@test "ddb-stream: three shard generations over paged DescribeStream, listed children first: parents read to their end first, closed shards past empty pages, throttling, 5xx and an expired iterator retried; every record once, in order" {
	cat >"$W/tree.json" <<EOF
{"describeLimit": 1,
 "streams": [{"table": "student",
  "order": ["shardId-00000000000000000003-cccccccc", "shardId-00000000000000000002-bbbbbbbb", "shardId-00000000000000000001-aaaaaaaa"],
  "shards": [
   {"id": "shardId-00000000000000000001-aaaaaaaa", "parent": "shardId-00000000000000000000-gone0000",
    "closed": true, "pages": [0, 1, 0, 1], "records": [$(rec a), $(rec b)]},
   {"id": "shardId-00000000000000000002-bbbbbbbb", "parent": "shardId-00000000000000000001-aaaaaaaa",
    "closed": true, "records": [$(rec c)]},
   {"id": "shardId-00000000000000000003-cccccccc", "parent": "shardId-00000000000000000002-bbbbbbbb",
    "pages": [0, 1], "records": [$(rec d), $(rec e)]}]}],
 "faults": [{"op": "GetRecords", "call": 2, "error": "LimitExceededException"},
  {"op": "GetRecords", "call": 4, "error": "InternalServerError"},
  {"op": "GetRecords", "call": 5, "status": 502, "body": "<html>bad gateway</html>"},
  {"op": "GetRecords", "call": 7, "error": "ExpiredIteratorException"}]}
EOF
	streams_start "$W/tree.json"
	run --separate-stderr ddb-stream -g 0.01 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(jq -r .dynamodb.Keys.id.S "$W/out" | tr -d '\n')" = abcde ]
	[ "$(jq -r .eventSourceARN "$W/out" | sort -u)" = \
	  "arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000" ]
	[[ "$stderr" == *"shard shardId-00000000000000000001-aaaaaaaa read to its end (last seq 000000000000000000002)"* ]]
	[[ "$stderr" == *"shard shardId-00000000000000000002-bbbbbbbb read to its end (last seq 000000000000000000003)"* ]]
	# no iterator for a child before its parent was read to its end
	jq -s -e 'all(.[]; .early != true)' "$STREAMS_DIR/log" >/dev/null
	[ "$(jq -r 'select(.error == "ExpiredIteratorException") | .op' "$STREAMS_DIR/log")" = GetRecords ]
	grep -qx 'shard shardId-00000000000000000001-aaaaaaaa 000000000000000000002 done' "$W/st/state"
	grep -qx 'shard shardId-00000000000000000003-cccccccc 000000000000000000005 open' "$W/st/state"
	# every page of DescribeStream was read (one shard a page)
	[ "$(jq -r 'select(.op == "DescribeStream") | .start // "-"' "$STREAMS_DIR/log" | head -3 | tr '\n' ' ')" = \
	  "- shardId-00000000000000000003-cccccccc shardId-00000000000000000002-bbbbbbbb " ]
	streams_stop
}

@test "ddb-stream: trimmed records are a loud gap, exit 6, nothing skipped; --accept-gap goes on from TRIM_HORIZON and names the gap" {
	cat >"$W/trim.json" <<EOF
{"streams": [{"table": "student", "shards": [
   {"id": "shardId-00000000000000000001-aaaaaaaa", "trimmed": 2,
    "records": [$(rec a), $(rec b), $(rec c)]}]}]}
EOF
	streams_start "$W/trim.json"
	mkdir -p "$W/st"
	printf 'ddb-stream-state 1\nstream %s\nshard %s %s open\n' \
		arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000 \
		shardId-00000000000000000001-aaaaaaaa 000000000000000000001 >"$W/st/state"
	cp "$W/st/state" "$W/state.0"
	run_standin
	gap_refused
	[ "${lines[0]}" = "ddb-stream: GAP: shard shardId-00000000000000000001-aaaaaaaa: the records after seq 000000000000000000001 are gone from the stream (TrimmedDataAccessException, older than it keeps); nothing skipped; --accept-gap accepts the gap" ]
	run_standin --accept-gap
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ddb-stream: GAP accepted: shard shardId-00000000000000000001-aaaaaaaa: records after seq 000000000000000000001 are lost; going on from TRIM_HORIZON" ]
	[ "$(jq -r .dynamodb.Keys.id.S "$W/out")" = c ]
	streams_stop
}

@test "ddb-stream: an ExpiredIterator or Trimmed answer where none can be acted on (DescribeStream) is refused with its message (4); an iterator that expires again with each fresh one is for a later run (75); nothing handed on" {
	local A=shardId-00000000000000000001-aaaaaaaa
	cat >"$W/x.json" <<EOF
{"streams": [{"table": "student", "shards": [{"id": "$A", "records": [$(rec a)]}]}],
 "faults": [{"op": "DescribeStream", "call": 1, "error": "ExpiredIteratorException"}]}
EOF
	streams_start "$W/x.json"
	run_standin
	streams_stop
	[ "$status" -eq 4 ]
	[ "$output" = "ddb-stream: DescribeStream: HTTP 400 ExpiredIteratorException: Iterator expired. The iterator was created at time X while right now it is Y which is further in the future than the tolerated delay of 900000 milliseconds." ]
	[ ! -e "$W/out" ] && [ ! -e "$W/st/state" ]
	sed 's/"DescribeStream", "call": 1/"GetRecords", "call": 1, "times": 5/' "$W/x.json" >"$W/y.json"
	streams_start "$W/y.json"
	run_standin
	[ "$status" -eq 75 ]
	[ "$output" = "ddb-stream: shard $A: ExpiredIteratorException, again with a fresh iterator: for a later run" ]
	[ "$(jq -r 'select(.op == "GetRecords") | .error' "$STREAMS_DIR/log" | sort | uniq -c | tr -s ' ')" = " 5 ExpiredIteratorException" ]
	[ ! -e "$W/out" ]
	streams_stop
}

@test "ddb-stream: --latest on a new state skips what the stream holds; records after it are handed on" {
	cat >"$W/l.json" <<EOF
{"streams": [{"table": "student", "shards": [
   {"id": "shardId-00000000000000000001-aaaaaaaa", "records": [$(rec a), $(rec b)]}]}]}
EOF
	streams_start "$W/l.json"
	run_standin --latest
	[ "$status" -eq 0 ]
	[[ "$output" == *"skipped (start at latest) 2 records: shardId-00000000000000000001-aaaaaaaa 000000000000000000001..000000000000000000002 (2)"* ]]
	[ ! -e "$W/out" ]
	cat >"$W/l.json" <<EOF
{"streams": [{"table": "student", "shards": [
   {"id": "shardId-00000000000000000001-aaaaaaaa", "records": [$(rec a), $(rec b), $(rec c)]}]}]}
EOF
	touch -d '+2 seconds' "$W/l.json"
	run_standin --latest
	[ "$status" -eq 0 ]
	[ "$(jq -r .dynamodb.Keys.id.S "$W/out")" = c ]
	streams_stop
}

@test "ddb-stream: a refused signature is exit 4, said once, no retry" {
	cat >"$W/s.json" <<EOF
{"streams": [{"table": "student", "shards": []}]}
EOF
	streams_start "$W/s.json" -s othersecret
	run ddb-stream -u "$STREAMS_URL" student
	[ "$status" -eq 4 ]
	[[ "${lines[0]}" == "ddb-stream: DescribeTable: HTTP 400 InvalidSignatureException: "* ]]
	[ "$(wc -l <"$STREAMS_DIR/log")" -eq 1 ]
	streams_stop
}

A=shardId-00000000000000000001-aaaaaaaa
B=shardId-00000000000000000002-bbbbbbbb
C=shardId-00000000000000000003-cccccccc
GONE=shardId-00000000000000000000-gone0000
SARN=arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000

teardown() {
	if [ -n "${FOLLOW_PID:-}" ]; then
		kill "$FOLLOW_PID" 2>/dev/null || :
	fi
	streams_stop
}

# wait_for SECS CMD...: poll CMD until it succeeds, at most SECS seconds
wait_for() {
	local i=0 n=$(($1 * 10))
	shift
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -le "$n" ] || { echo "wait_for: gave up on: $*" >&2; return 1; }
		sleep 0.1
	done
}

# ids FILE: the records' keys, in order, as one word
ids() {
	jq -r .dynamodb.Keys.id.S "$1" | tr -d '\n'
}

# script FILE SHARDS-JSON: a one-stream stand-in script (a newer mtime
# each time, so the running stand-in re-reads it)
script() {
	printf '{"streams": [{"table": "student", "shards": [%s]}]}\n' "$2" >"$1.new"
	touch -d "@$(($(date +%s) + ${SCRIPT_N:=1}))" "$1.new"
	SCRIPT_N=$((SCRIPT_N + 1))
	mv "$1.new" "$1"
}

# follow ARGS...: ddb-stream --follow in the background (FOLLOW_PID),
# appending each batch to $W/out; stderr to $W/err
follow() {
	ddb-stream --follow --batch-window 0 "$@" -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; if [ -e "$0.slow" ]; then : >"$0.busy"; sleep 1; fi' \
		"$W/out" 2>"$W/err" 3>&- &
	FOLLOW_PID=$!
}

# stop_follow: SIGTERM to ddb-stream alone; its exit status in $rc
stop_follow() {
	rc=0
	kill -TERM "$FOLLOW_PID"
	wait "$FOLLOW_PID" || rc=$?
	FOLLOW_PID=
}

@test "ddb-stream --follow: records appended later, a child at its parent's end (at once), a shard listed later (at the next --list-every); SIGTERM mid-batch: that batch committed, nothing in flight, exit 0; a caught-up shard is asked once a second" {
	script "$W/f.json" "{\"id\": \"$A\", \"records\": [$(rec a)]}"
	streams_start "$W/f.json"
	follow
	wait_for 10 grep -q '"a"' "$W/out"
	# a record appended to the open shard
	script "$W/f.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]}"
	wait_for 10 grep -q '"b"' "$W/out"
	# the shard closes and its child appears: read when the parent ends,
	# not at the next listing (60 s away)
	script "$W/f.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [$(rec a), $(rec b)]},
		{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec c)]}"
	wait_for 10 grep -q '"c"' "$W/out"
	grep -q "ddb-stream: shard $A read to its end (last seq 000000000000000000002)" "$W/err"
	# SIGTERM while the consumer holds a batch: it finishes, is committed
	: >"$W/out.slow"
	script "$W/f.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [$(rec a), $(rec b)]},
		{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec c), $(rec d)]}"
	wait_for 10 test -e "$W/out.busy"
	stop_follow
	[ "$rc" -eq 0 ]
	[ "$(ids "$W/out")" = abcd ]
	[ "$(tail -n 1 "$W/err")" = "ddb-stream: $SARN: 4 records in 4 batches, $(jq -s length "$STREAMS_DIR/log") requests" ]
	[ "$(tail -n 3 "$W/err" | head -n 1)" = "ddb-stream: signal 15: stopped, nothing in flight" ]
	[[ "$(tail -n 2 "$W/err" | head -n 1)" == "ddb-stream: lag: the oldest record not yet committed was "*" s old (shard "*"), 0 s now; last commit "*" s ago" ]]
	grep -qx "shard $B 000000000000000000004 open" "$W/st/state"
	! grep -q '^batch' "$W/st/state"
	jq -s -e 'all(.[]; .early != true)' "$STREAMS_DIR/log" >/dev/null
	[ "$(jq -r 'select(.op == "DescribeStream") | .op' "$STREAMS_DIR/log" | wc -l)" -eq 2 ]

	# a shard listed later, its parent long gone: found by the listing
	# every --list-every seconds
	rm "$W/out.slow" "$W/out.busy"
	: >"$STREAMS_DIR/log"
	follow --list-every 1
	t0=$(date +%s.%N)
	wait_for 10 grep -q '"GetRecords"' "$STREAMS_DIR/log"
	script "$W/f.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [$(rec a), $(rec b)]},
		{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec c), $(rec d)]},
		{\"id\": \"$C\", \"parent\": \"$GONE\", \"records\": [$(rec e)]}"
	wait_for 10 grep -q '"e"' "$W/out"
	sleep 3
	stop_follow
	t1=$(date +%s.%N)
	[ "$rc" -eq 0 ]
	[ "$(ids "$W/out")" = abcde ]
	grep -qx "shard $C 000000000000000000005 open" "$W/st/state"
	# idle: one GetRecords a second and shard, after the first three
	# empty pages in a row (not three a second)
	n=$(jq -r "select(.op == \"GetRecords\" and .shard == \"$B\") | .n" "$STREAMS_DIR/log" | wc -l)
	max=$(awk -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; print int(d) + (d > int(d)) + 3 }')
	echo "GetRecords of $B: $n, at most $max"
	[ "$n" -le "$max" ]
}

@test "ddb-stream: 3 MB of records in GetRecords pages of at most 1 MB: every record handed on once, in order, numbers exact; a batch is whole pages" {
	local big=12345678901234567890123456789012345678
	script "$W/big.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [
		{\"dynamodb\": {\"Keys\": {\"id\": {\"N\": \"$big\"}},
		 \"NewImage\": {\"id\": {\"N\": \"$big\"}, \"f\": {\"N\": \"-1E-130\"},
		  \"ns\": {\"NS\": [\"0.000001\", \"1.50\"]}}}}],
		\"generate\": {\"count\": 1200, \"pad\": 2500}}"
	streams_start "$W/big.json"
	run --separate-stderr ddb-stream --batch-window 0 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out")" -eq 1201 ]
	# pages: more than one, none over 1 MiB, 1201 records in all
	jq -s -e '[.[] | select(.op == "GetRecords" and .records > 0)] |
		length >= 3 and all(.bytes <= 1048576) and
		(map(.records) | add) == 1201 and (map(.bytes) | add) > 3000000' \
		"$STREAMS_DIR/log"
	# every sequence number once, in order
	diff <(jq -r .dynamodb.SequenceNumber "$W/out") <(seq -f '%021g' 1 1201)
	diff <(jq -r '.dynamodb.Keys.id.N' "$W/out" | tail -n +2) <(seq 1 1200)
	[ "$(tail -n +2 "$W/out" | jq -r '.dynamodb.NewImage.pad.S | length' | sort -u)" = 2500 ]
	# numbers as their text, not as doubles
	head -n 1 "$W/out" | grep -qF "{\"Keys\":{\"id\":{\"N\":\"$big\"}}"
	head -n 1 "$W/out" | grep -qF '"f":{"N":"-1E-130"},"ns":{"NS":["0.000001","1.50"]}'
	head -n 1 "$W/out" | grep -qF '"ApproximateCreationDateTime":1796083201.0,'
	# one batch a page, each logged with its range
	[ "$(grep -c '^ddb-stream: batch ' <<<"$stderr")" -eq \
	  "$(jq -s '[.[] | select(.op == "GetRecords" and .records > 0)] | length' "$STREAMS_DIR/log")" ]
	[[ "$stderr" == *"ddb-stream: shard $A read to its end (last seq 000000000000000001201)"* ]]
	[[ "$stderr" == *"ddb-stream: $SARN: 1201 records in "*" batches, "* ]]
	grep -qx "shard $A 000000000000000001201 done" "$W/st/state"
}

@test "ddb-stream: a GetRecords answer of several MB (AWS counts 1 MB of item data, the typed JSON answer is larger) is read whole" {
	# one page of 700 records of ~2.5 KB: an answer of about 1.9 MB
	printf '{"maxPageBytes": 4000000, "streams": [{"table": "student", "shards": [%s]}]}\n' \
		"{\"id\": \"$A\", \"closed\": true, \"generate\": {\"count\": 700, \"pad\": 2500}}" \
		>"$W/huge.json"
	streams_start "$W/huge.json"
	run --separate-stderr ddb-stream -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	jq -s -e '[.[] | select(.op == "GetRecords" and .records > 0)] |
		length == 1 and .[0].records == 700 and .[0].bytes > 1800000' "$STREAMS_DIR/log"
	diff <(jq -r .dynamodb.SequenceNumber "$W/out") <(seq -f '%021g' 1 700)
	grep -qx "shard $A 000000000000000000700 done" "$W/st/state"
}

@test "ddb-stream: an item nested 32 levels deep (DynamoDB's limit) is read and handed on whole, not taken for a malformed answer" {
	# a map in a map, 32 levels: the GetRecords answer is 68 JSON levels deep
	deep=$(jq -nc '{S: "deep"} | reduce range(31) as $i (.; {M: {"m\($i)": .}})')
	printf '{"streams": [{"table": "student", "shards": [{"id": "%s", "closed": true,
		"records": [{"dynamodb": {"Keys": {"id": {"N": "1"}},
		"NewImage": {"id": {"N": "1"}, "a": %s}}}]}]}]}\n' "$A" "$deep" >"$W/deep.json"
	streams_start "$W/deep.json"
	run --separate-stderr ddb-stream -a 2 -g 0.01 -u "$STREAMS_URL" student
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -c .dynamodb.NewImage <<<"$output")" = "{\"id\":{\"N\":\"1\"},\"a\":$deep}" ]
}

@test "ddb-stream: a shard gone from the stream before it was read to its end: exit 6, its message, the state kept; --accept-gap goes on, names the gap, forgets the shard; a finished shard gone is forgotten quietly" {
	script "$W/g.json" "{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec b)]}"
	streams_start "$W/g.json"
	mkdir -p "$W/st"
	printf 'ddb-stream-state 1\nstream %s\nshard %s %s done\nshard %s %s open\n' \
		"$SARN" "$GONE" 000000000000000000001 "$A" 000000000000000000007 >"$W/st/state"
	cp "$W/st/state" "$W/state.0"
	run_standin
	gap_refused
	[ "$output" = "ddb-stream: GAP: shard $A is gone from the stream (trimmed) after seq 000000000000000000007: its later records are lost; --accept-gap accepts the gap" ]
	[ "$(jq -r .op "$STREAMS_DIR/log" | sort -u)" = "$(printf 'DescribeStream\nDescribeTable')" ]
	run_standin --accept-gap
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ddb-stream: GAP accepted: shard $A is gone from the stream after seq 000000000000000000007; its later records are lost" ]
	[ "$(ids "$W/out")" = b ]
	[ "$(grep '^shard' "$W/st/state")" = "shard $B 000000000000000000001 open" ]
	# the gap is named once: the next run has nothing to say
	run_standin
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "ddb-stream: --limit N stops at N records, the last batch cut to it; each next run goes on exactly after; the first run starts at TRIM_HORIZON" {
	script "$W/n.json" "{\"id\": \"$A\", \"closed\": true, \"trimmed\": 1,
		\"records\": [$(rec x), $(rec a), $(rec b), $(rec c), $(rec d), $(rec e)]}"
	streams_start "$W/n.json"
	for want in ab cd e; do
		run ddb-stream --limit 2 -u "$STREAMS_URL" --state "$W/st" student \
			sh -c 'cat >"$0"' "$W/out"
		[ "$status" -eq 0 ]
		[ "$(ids "$W/out")" = "$want" ]
		! grep -q '^batch' "$W/st/state"
	done
	[ "${lines[0]}" = "ddb-stream: batch 1 record: $A 000000000000000000006..000000000000000000006 (1)" ]
	[ "${lines[1]}" = "ddb-stream: shard $A read to its end (last seq 000000000000000000006)" ]
	grep -qx "shard $A 000000000000000000006 done" "$W/st/state"
	jq -r 'select(.op == "GetShardIterator") | "\(.type) \(.seq)"' "$STREAMS_DIR/log" >"$W/its"
	[ "$(cat "$W/its")" = "$(printf 'TRIM_HORIZON null\nAFTER_SEQUENCE_NUMBER 000000000000000000003\nAFTER_SEQUENCE_NUMBER 000000000000000000005')" ]
	[ "$(jq -r 'select(.op == "GetRecords") | .limit' "$STREAMS_DIR/log" | sort -u)" = 2 ]
	# and nothing more
	run ddb-stream --limit 2 -u "$STREAMS_URL" --state "$W/st" student sh -c 'cat >"$0"' "$W/out2"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ ! -e "$W/out2" ]
}

@test "ddb-stream: --limit Ns starts no batch after N seconds and the next run goes on exactly after; an iterator that expired while the consumer ran is replaced from the last position" {
	script "$W/s.json" "{\"id\": \"$A\", \"pages\": [1, 2, 2],
		\"records\": [$(rec a), $(rec b), $(rec c), $(rec d), $(rec e)]}"
	streams_start "$W/s.json" -x 1
	# each batch takes the consumer 1.5 s, more than an iterator lives:
	# the second batch starts before 3 s, the third would start after
	run ddb-stream --limit 3s --batch-window 0 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'sleep 1.5; cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = abc ]
	[ "$(grep -c '^ddb-stream: batch' <<<"$output")" -eq 2 ]
	grep -qx "shard $A 000000000000000000003 open" "$W/st/state"
	! grep -q '^batch' "$W/st/state"
	jq -s -e 'any(.[]; .op == "GetRecords" and .error == "ExpiredIteratorException")' \
		"$STREAMS_DIR/log" >/dev/null
	[ "$(jq -r 'select(.op == "GetShardIterator") | "\(.type) \(.seq)"' "$STREAMS_DIR/log" | tail -n 1)" = \
	  "AFTER_SEQUENCE_NUMBER 000000000000000000001" ]
	run_standin
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = abcde ]
	grep -qx "shard $A 000000000000000000005 open" "$W/st/state"
}

@test "ddb-stream: a child only after its parent is finished, across runs; a shard that appears between runs is read by the next" {
	script "$W/c.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [$(rec a), $(rec b), $(rec c)]},
		{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec d)]}"
	streams_start "$W/c.json"
	run_standin --limit 2
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = ab ]
	[ "$(jq -r 'select(.op == "GetShardIterator") | .shard' "$STREAMS_DIR/log")" = "$A" ]
	grep -qx "shard $A 000000000000000000002 open" "$W/st/state"
	grep -qx "shard $B - open" "$W/st/state"
	run_standin
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = abcd ]
	[ "${lines[0]}" = "ddb-stream: batch 1 record: $A 000000000000000000003..000000000000000000003 (1)" ]
	[ "${lines[1]}" = "ddb-stream: shard $A read to its end (last seq 000000000000000000003)" ]
	[ "${lines[2]}" = "ddb-stream: batch 1 record: $B 000000000000000000004..000000000000000000004 (1)" ]
	jq -s -e 'all(.[]; .early != true)' "$STREAMS_DIR/log" >/dev/null
	script "$W/c.json" "{\"id\": \"$A\", \"closed\": true, \"records\": [$(rec a), $(rec b), $(rec c)]},
		{\"id\": \"$B\", \"parent\": \"$A\", \"records\": [$(rec d)]},
		{\"id\": \"$C\", \"records\": [$(rec e)]}"
	run_standin
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = abcde ]
	grep -qx "shard $C 000000000000000000005 open" "$W/st/state"
}

# bad_shard ID: the stand-in's one shard named ID; the run refuses it as a
# broken answer (75), hands nothing on and writes no state
bad_shard() {
	jq -n --arg id "$1" --argjson r "$(rec a)" \
		'{streams: [{table: "student", shards: [{id: $id, records: [$r]}]}]}' \
		>"$W/bad.json"
	streams_start "$W/bad.json"
	run_standin
	streams_stop
	[ "$status" -eq 75 ]
	[ "${lines[0]}" = "ddb-stream: DescribeStream: a ShardId ($(printf %s "$1" | wc -c) bytes) that is not 28 to 65 printable ASCII characters without a space: refused" ]
	[ ! -e "$W/out" ]
	[ ! -e "$W/st/state" ]
}

@test "ddb-stream: a ShardId with a tab, a newline, a non-ASCII byte, a space or more than 65 characters never reaches the state (exit 75); the next run does not refuse its state" {
	bad_shard "$(printf 'shardId-00000000000000000001\taaaaaaaa')"
	bad_shard "$(printf 'shardId-00000000000000000001\naaaaaaaa')"
	bad_shard "shardId-00000000000000000001-aaaaaaaé"
	bad_shard "shardId-00000000000000000001 aaaaaaaa"
	bad_shard "shardId-00000000000000000001-$(printf 'a%.0s' $(seq 37))"
	bad_shard "shardId-0001"
	# 65 characters are the documented limit: read and saved, read back
	local id="shardId-00000000000000000001-$(printf 'a%.0s' $(seq 36))"
	jq -n --arg id "$id" --argjson r "$(rec a)" \
		'{streams: [{table: "student", shards: [{id: $id, records: [$r]}]}]}' \
		>"$W/ok.json"
	streams_start "$W/ok.json"
	run_standin
	[ "$status" -eq 0 ]
	grep -q "^shard $id 000000000000000000001 open\$" "$W/st/state"
	run_standin
	[ "$status" -eq 0 ]
	streams_stop
}

@test "ddb-stream: a stream ARN with a space, from DescribeTable (exit 75) or the command line (exit 2), never reaches the state" {
	jq -n --argjson r "$(rec a)" '{streams: [{table: "student",
		arn: "arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01 00:00",
		shards: [{id: "shardId-00000000000000000001-aaaaaaaa", records: [$r]}]}]}' \
		>"$W/arn.json"
	streams_start "$W/arn.json"
	run_standin
	[ "$status" -eq 75 ]
	[ "${lines[0]}" = "ddb-stream: DescribeTable: table student: its LatestStreamArn is not a stream ARN: refused" ]
	[ ! -e "$W/st/state" ]
	run ddb-stream -u "$STREAMS_URL" --state "$W/st" \
		"arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01 00:00" cat
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-stream: not a stream ARN (arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL, 37 to 1024 printable characters without a space): arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01 00:00" ]
	[ ! -e "$W/st/state" ]
	streams_stop
}

@test "ddb-stream --latest with a state directory and no command writes no positions: the state is only read" {
	cat >"$W/l.json" <<EOF2
{"streams": [{"table": "student", "shards": [
   {"id": "shardId-00000000000000000001-aaaaaaaa", "records": [$(rec a), $(rec b)]}]}]}
EOF2
	streams_start "$W/l.json"
	run --separate-stderr ddb-stream --latest -u "$STREAMS_URL" --state "$W/st" student
	[ "$status" -eq 0 ]
	[ ! -e "$W/st/state" ]
	# the next run with a command starts where a new state starts
	run_standin
	[ "$status" -eq 0 ]
	[ "$(jq -r .dynamodb.Keys.id.S "$W/out" | tr '\n' ' ')" = "a b " ]
	cp "$W/st/state" "$W/state.1"
	run --separate-stderr ddb-stream --latest -u "$STREAMS_URL" --state "$W/st" student
	[ "$status" -eq 0 ]
	cmp "$W/st/state" "$W/state.1"
	streams_stop
}

@test "ddb-stream: a lock held by a run with no sign of life for over an hour (hung) is said loudly, exit 7, nothing done; a fresh one is not" {
	mkdir -p "$W/st"
	exec 8>"$W/st/lock"
	flock 8
	printf '4242\n' >&8
	touch -d '-3599 seconds' "$W/st/lock"
	run ddb-stream --state "$W/st" -u http://127.0.0.1:9 nosuchtable cat
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	touch -d '-2 hours' "$W/st/lock"
	run ddb-stream --state "$W/st" -u http://127.0.0.1:9 nosuchtable cat
	exec 8>&-
	[ "$status" -eq 7 ]
	[[ "$output" =~ ^"ddb-stream: $W/st: STALE LOCK: the run holding it (pid 4242) has shown no sign of life for "72[0-9][0-9]" s (more than 3600): hung? nothing done; stop that run and the next one goes on"$ ]]
	[ ! -e "$W/st/state" ]
	# a run that takes the lock leaves its pid there and a fresh mtime
	# (one try: no server listens on port 9)
	t0=$(date +%s)
	run ddb-stream --state "$W/st" -a 1 -u http://127.0.0.1:9 nosuchtable cat
	[ "$status" -eq 75 ]
	[ "$(cat "$W/st/lock")" -gt 1 ]
	[ "$(stat -c %Y "$W/st/lock")" -ge "$t0" ]
}

@test "ddb-stream: a staged batch whose records have since been trimmed from the stream is still handed on, byte for byte, from its file; the stream goes on after it" {
	script "$W/t.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b), $(rec c)]}"
	streams_start "$W/t.json"
	run ddb-stream --limit 2 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >"$0"; exit 75' "$W/b1"
	[ "$status" -eq 75 ]
	grep -qx "range $A 000000000000000000001 000000000000000000002 2" "$W/st/state"
	# the stream trims a and b: only the staged file holds them now
	script "$W/t.json" "{\"id\": \"$A\", \"trimmed\": 2, \"records\": [$(rec a), $(rec b), $(rec c)]}"
	: >"$STREAMS_DIR/log"
	run_standin
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ddb-stream: batch staged by an earlier run, not committed, handed on again: 2 records: $A 000000000000000000001..000000000000000000002 (2)" ]
	[ "$(ids "$W/out")" = abc ]
	head -n 2 "$W/out" | cmp - "$W/b1"
	[[ "$output" != *GAP* ]]
	# nothing was asked of the stream for the staged batch
	[ "$(jq -r 'select(.op == "GetShardIterator") | "\(.type) \(.seq)"' "$STREAMS_DIR/log")" = \
	  "AFTER_SEQUENCE_NUMBER 000000000000000000002" ]
	grep -qx "shard $A 000000000000000000003 open" "$W/st/state"
	! grep -q '^batch\|^range' "$W/st/state"
	[ ! -e "$W/st/batch.0" ]
}

@test "ddb-stream: a staged batch file altered or cut off is refused with its message, never handed on, the state kept" {
	script "$W/t.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]}"
	streams_start "$W/t.json"
	run ddb-stream -u "$STREAMS_URL" --state "$W/st" student sh -c 'cat >"$0"; exit 75' "$W/b1"
	[ "$status" -eq 75 ]
	cp "$W/st/state" "$W/state.0"
	n=$(stat -c %s "$W/b1")
	head -c 10 "$W/b1" >"$W/st/batch.0"
	run_standin
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-stream: $W/st/batch.0: 10 bytes, the state names $n (cut off or altered); not handed on" ]
	sed 's/"a"/"z"/' "$W/b1" >"$W/st/batch.0"
	run_standin
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-stream: $W/st/batch.0: its SHA-256 is not the one the state names (altered); not handed on" ]
	rm "$W/st/batch.0"
	run_standin
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-stream: $W/st/batch.0: the staged batch the state names: No such file or directory" ]
	[ ! -e "$W/out" ]
	cmp "$W/st/state" "$W/state.0"
	cp "$W/b1" "$W/st/batch.0"
	run_standin
	[ "$status" -eq 0 ]
	cmp "$W/out" "$W/b1"
}

@test "ddb-stream: a state of the older format is read and rewritten in the new one; its batch in flight is read again from its cursor" {
	script "$W/o.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b), $(rec c)]}"
	streams_start "$W/o.json"
	mkdir -p "$W/st"
	printf 'ddb-stream-state 1\nstream %s\nshard %s %s open\nbatch %s %s %s 1\n' "$SARN" \
		"$A" 000000000000000000001 "$A" 000000000000000000002 000000000000000000002 \
		>"$W/st/state"
	run_standin
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = bc ]
	[ "$(grep -v '^committed [0-9]*$' "$W/st/state")" = "$(printf 'ddb-state 2\nsource stream %s\nshard %s %s open' "$SARN" "$A" 000000000000000000003)" ]
	# a scan's state is not a stream's
	printf 'ddb-state 2\nsource scan tbl\n' >"$W/st/state"
	run_standin
	[ "$status" -eq 3 ]
	[ "$output" = "ddb-stream: $W/st/state:2: the state of another kind of source (not a stream)" ]
}

@test "ddb-stream --batch-size, --batch-bytes: a batch spans pages and rounds up to its bounds; the defaults make one batch of 2,500 records; bad values are usage errors" {
	script "$W/bs.json" "{\"id\": \"$A\", \"closed\": true, \"generate\": {\"count\": 2500, \"pad\": 100}}"
	streams_start "$W/bs.json"
	# the default: every page of the run in one batch
	run --separate-stderr ddb-stream -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; echo "$(wc -l <"$0")" >>"$0.n"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(cat "$W/out.n")" = 2500 ]
	[ "$(jq -s -e '[.[] | select(.op == "GetRecords" and .records > 0)] | length' "$STREAMS_DIR/log")" -ge 3 ]
	diff <(jq -r .dynamodb.SequenceNumber "$W/out") <(seq -f '%021g' 1 2500)
	# the seed's mapping: batches of 100 records
	rm -rf "$W/st" "$W/out" "$W/out.n"
	run --separate-stderr ddb-stream --batch-size 100 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; echo "$(wc -l <"$0")" >>"$0.n"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out.n")" -eq 25 ]
	[ "$(sed -n '1p;2p;25p' "$W/out.n" | tr '\n' ' ')" = "100 200 2500 " ]
	diff <(jq -r .dynamodb.SequenceNumber "$W/out") <(seq -f '%021g' 1 2500)
	# --batch-bytes: whole pages until the bound is passed (a page of 1,000
	# records is about 330 KB)
	rm -rf "$W/st" "$W/out" "$W/out.n"
	run --separate-stderr ddb-stream --batch-bytes 700000 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; echo "$(wc -l <"$0")" >>"$0.n"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(cat "$W/out.n" | tr '\n' ' ')" = "2000 2500 " ]
	for o in "size 0" "size 1000000001" "bytes 0" "bytes 1x" "window -1" "window 604801"; do
		run ddb-stream "--batch-${o% *}" "${o#* }" t
		[ "$status" -eq 2 ]
		[ "${lines[0]}" = "ddb-stream: bad batch ${o% *}: ${o#* }" ]
	done
}

@test "ddb-stream --follow --batch-window: a batch waits for more records up to its window, then goes; --batch-size sends a full one at once" {
	script "$W/w.json" "{\"id\": \"$A\", \"records\": [$(rec a)]}"
	streams_start "$W/w.json"
	ddb-stream --follow --batch-window 3 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; echo "--" >>"$0"' "$W/out" 2>"$W/err" 3>&- &
	FOLLOW_PID=$!
	wait_for 10 grep -q '"GetRecords"' "$STREAMS_DIR/log"
	script "$W/w.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]}"
	wait_for 15 grep -q -- '--' "$W/out"
	# a and b in one batch: b came within a's window
	[ "$(jq -R -r 'fromjson? | .dynamodb.Keys.id.S // empty' "$W/out" | tr -d '\n')" = ab ]
	[ "$(grep -c -- '^--$' "$W/out")" -eq 1 ]
	stop_follow
	[ "$rc" -eq 0 ]
	grep -q "batch 2 records: $A 000000000000000000001..000000000000000000002 (2)" "$W/err"
	# the seed's mapping: --batch-size 100 --batch-window 57; a full batch goes at once
	script "$W/w.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b), $(rec c), $(rec d)]}"
	ddb-stream --follow --batch-size 2 --batch-window 57 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"; echo "--" >>"$0"' "$W/out" 2>"$W/err" 3>&- &
	FOLLOW_PID=$!
	wait_for 10 sh -c '[ "$(grep -c -- "^--\$" "$0")" -eq 2 ]' "$W/out"
	stop_follow
	[ "$(jq -R -r 'fromjson? | .dynamodb.Keys.id.S // empty' "$W/out" | tr -d '\n')" = abcd ]
}

@test "ddb-stream: each run logs its lag; --json reports it per shard; --max-lag: a record older than the bound is exit 10 naming the shard and the age, the work done" {
	# the stand-in's records were made on 2026-12-01 (ApproximateCreationDateTime)
	script "$W/lag.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]},
		{\"id\": \"$B\", \"records\": [$(rec c)]}"
	streams_start "$W/lag.json"
	now=$(date +%s)
	run --separate-stderr ddb-stream --max-lag 3600 --json -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 10 ]
	[ "$(ids "$W/out")" = abc ]
	age=$((now - 1796083201))
	[[ "$stderr" =~ "ddb-stream: LAG: shard $A: a record not yet committed was "([0-9]+)" s old, more than --max-lag 3600: the stream is behind" ]]
	[ "${BASH_REMATCH[1]}" -ge "$age" ] && [ "${BASH_REMATCH[1]}" -le $((age + 60)) ]
	[[ "$stderr" == *"ddb-stream: lag: the oldest record not yet committed was ${BASH_REMATCH[1]} s old (shard $A), 0 s now; last commit "[0-9]" s ago"* ]]
	# the work is done: committed, the time of the commit in the state
	grep -qx "shard $A 000000000000000000002 open" "$W/st/state"
	c=$(sed -n 's/^committed //p' "$W/st/state")
	[ "$c" -ge "$now" ] && [ "$c" -le $((now + 60)) ]
	jq -e --arg a "$A" --arg b "$B" --argjson age "$age" '.records == 3 and .batches == 1 and
		.lag == 0 and .max_lag >= $age and .last_commit_age <= 60 and
		(.shards | length) == 2 and
		(.shards[] | select(.shard == $a) | .max_lag >= $age and .lag == 0) and
		(.shards[] | select(.shard == $b) | .max_lag >= $age - 10)' <<<"$output"
	# a bound the stream is within: exit 0; nothing new: nothing said
	script "$W/lag.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]},
		{\"id\": \"$B\", \"records\": [$(rec c), $(rec d)]}"
	run ddb-stream --max-lag 8000000 -u "$STREAMS_URL" --state "$W/st" student sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(ids "$W/out")" = abcd ]
	run ddb-stream --max-lag 3600 -u "$STREAMS_URL" --state "$W/st" student sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run ddb-stream --json -u "$STREAMS_URL" student
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-stream: --json needs a command (without one the records are on stdout)" ]
	run ddb-stream --max-lag 0 student
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-stream: bad max lag: 0" ]
}

@test "ddb-stream: DynamoDB Local, 3,000 changes to S3: one object with the default batch size where batches of 1,000 made three; every row once" {
	local t b1 b2
	t=$(ddb_table many)
	b1=$(s3_bucket one)
	b2=$(s3_bucket three)
	s3_mb "$b1"
	s3_mb "$b2"
	mktable "$t"
	# 3,000 puts, 25 a BatchWriteItem, by botocore (Debian's awscli)
	AWS_ACCESS_KEY_ID=$DDB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=ddblocal /usr/bin/python3 - "$DDB_ENDPOINT" "$t" <<-'PY'
	import sys
	import awscli  # noqa: F401  (puts awscli's botocore on the path)
	from botocore.session import get_session
	c = get_session().create_client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1")
	for k in range(0, 3000, 25):
	    c.batch_write_item(RequestItems={sys.argv[2]: [{"PutRequest": {"Item": {
	        "id": {"S": "k%05d" % i}, "v": {"N": str(i)}}}} for i in range(k, k + 25)]})
	PY
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st1" "$t" ddb-to-s3 -u "$S3_ENDPOINT" -b "$b1" -
	[ "$status" -eq 0 ]
	[[ "$output" == *"ddb-stream: batch 3000 records: "* ]]
	[ "$(objects_ls "$b1" | wc -l)" -eq 1 ]
	s3_rows "$b1" | cut -d, -f1 | sort -u | wc -l | grep -qx 3000
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st2" --batch-size 1000 "$t" \
		ddb-to-s3 -u "$S3_ENDPOINT" -b "$b2" -
	[ "$status" -eq 0 ]
	[ "$(objects_ls "$b2" | wc -l)" -eq 3 ]
}

# refuser DIR: a consumer that refuses (exit 1, its message on stderr) a
# batch holding the marker BAD, and stores any other whole in DIR under its
# first record's sequence number: a batch's first half has the whole
# batch's key, as an object of ddb-to-s3 has
refuser() {
	mkdir -p "$1"
	printf '%s\n' 'd=$1; t=$d/.in; cat >"$t"' \
		'if grep -q BAD "$t"; then echo "refuser: a record with the marker" >&2; exit 1; fi' \
		'k=$(head -n 1 "$t" | jq -r .dynamodb.SequenceNumber); mv "$t" "$d/$k"' >"$W/refuser"
	echo "sh $W/refuser $1"
}

@test "ddb-stream: a batch the consumer refuses (exit 1) is bisected to the bad records, the good ones land, progress in the state; without --dead-letter the run stops at the first bad record; with it each bad record is stored whole with its shard, seq and message, and the stream goes on" {
	local t c s i
	t=$(ddb_table bisect)
	mktable "$t"
	for i in 1 2 3 4 5 6 7 8; do
		case $i in 3|6) v=BAD ;; *) v=ok$i ;; esac
		ddb_aws dynamodb put-item --table-name "$t" --item "{\"id\":{\"S\":\"k$i\"},\"v\":{\"S\":\"$v\"}}"
	done
	c=$(refuser "$W/out")
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --json "$t" $c
	[ "$status" -eq 1 ]
	# --json: the counts of the last line, also for a run that stopped
	grep '^{' <<<"$output" | jq -e '.records == 2 and .batches == 0 and .bisections == 3 and
		.dead_lettered == 0 and .temporary_failures == 0'
	[[ "$output" == *"ddb-stream: records 1-8 of 8 refused as bad data: bisected into 1-4 and 5-8"* ]]
	[[ "$output" == *"ddb-stream: records 1-4 of 8 refused as bad data: bisected into 1-2 and 3-4"* ]]
	[[ "$output" == *"ddb-stream: records 3-4 of 8 refused as bad data: bisected into 3 and 4"* ]]
	[[ "$output" == *"refuser: a record with the marker"* ]]
	[[ "$output" =~ "ddb-stream: BAD RECORD: shard shardId-"[^\ ]*" seq "[0-9]{21,40}" (record 3 of 8) refused by the consumer; no dead-letter place (--dead-letter): stopped there, nothing skipped" ]]
	[[ "$output" == *"; 3 bisections"* ]]
	# no item data in the log
	[[ "$output" != *ok1* ]] && [[ "$output" != *'"v"'* ]]
	# records 1-2 landed, under the batch's first key; the rest is to do
	[ "$(ls "$W/out" | wc -l)" -eq 1 ]
	[ "$(wc -l <"$W/out/$(ls "$W/out")")" -eq 2 ]
	grep -qx 'todo 0 0 2-3,3-4,4-8' "$W/st/state"
	grep -q '^batch 0 8 ' "$W/st/state"
	cp "$W/st/batch.0" "$W/batch"
	# the next run resumes the bisection: never the whole batch again
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$t" $c
	[ "$status" -eq 1 ]
	[[ "$output" == *"(record 3 of 8)"* ]]
	[[ "$output" != *"records 1-8"* ]]
	[ "$(ls "$W/out" | wc -l)" -eq 1 ]
	# with a dead-letter place: the bad records there, the rest landed once
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --dead-letter "$W/dl" --json "$t" $c
	[ "$status" -eq 0 ]
	grep '^{' <<<"$output" | jq -e '.records == 4 and .batches == 1 and .bisections == 2 and
		.dead_lettered == 2 and .temporary_failures == 0'
	[[ "$output" == *"ddb-stream: batch staged by an earlier run, not committed, handed on again: 8 records"* ]]
	[[ "$output" =~ "ddb-stream: shard shardId-"[^\ ]*" seq "[0-9]{21,40}": dead-lettered to $W/dl/stream.shardId-"[^\ ]*" (refused as bad data (exit 1))" ]]
	[[ "$output" == *"2 records dead-lettered"* ]]
	[[ "$output" != *ok1* ]]
	! grep -q '^batch\|^todo' "$W/st/state"
	[ ! -e "$W/st/batch.0" ]
	# every good record in exactly one object, in order; none of the bad
	cat "$W"/out/* | sort >"$W/got"
	grep -v BAD "$W/batch" | sort >"$W/want"
	cmp "$W/got" "$W/want"
	[ "$(ls "$W/out" | wc -l)" -eq 4 ]
	# each bad record whole and exact: its line as the consumer got it
	[ "$(ls "$W/dl" | wc -l)" -eq 2 ]
	for f in "$W"/dl/*; do
		[ "$(wc -l <"$f")" -eq 2 ]
		s=$(head -n 1 "$f" | jq -r .sequenceNumber)
		[ "$f" = "$W/dl/stream.$(head -n 1 "$f" | jq -r .shard).$s" ]
		head -n 1 "$f" | jq -e --arg t "$t" '.source == "stream" and
			(.stream | test("table/" + $t + "/stream/")) and
			(.shard | startswith("shardId-")) and
			.message == "refuser: a record with the marker" and
			.reason == "refused as bad data (exit 1)" and .batchRecords == 8'
		grep -F -x -q "$(tail -n +2 "$f")" "$W/batch"
		tail -n +2 "$f" | jq -e ".dynamodb.SequenceNumber == \"$s\" and .dynamodb.NewImage.v.S == \"BAD\""
	done
	# the stream goes on
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"k9"},"v":{"S":"ok9"}}'
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --dead-letter "$W/dl" "$t" $c
	[ "$status" -eq 0 ]
	[ "$(ls "$W/out" | wc -l)" -eq 5 ]
}

@test "ddb-stream --batch-attempts: temporary failures (exit 75) counted in the state across runs; at the bound, without --dead-letter exit 11 and the batch kept; with it the batch's records dead-lettered and the stream goes on; bad values are usage errors" {
	local t
	t=$(ddb_table attempts)
	mktable "$t"
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"a"}}'
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"b"}}'
	printf '%s\n' 'cat >/dev/null; echo "busy: try later" >&2; exit 75' >"$W/busy"
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --batch-attempts 2 "$t" sh "$W/busy"
	[ "$status" -eq 75 ]
	[[ "$output" == *"ddb-stream: sh: exit 75; batch not committed"* ]]
	[[ "$output" == *"; 1 temporary failure"* ]]
	grep -qx 'todo 0 1 0-2' "$W/st/state"
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --batch-attempts 2 --json "$t" sh "$W/busy"
	[ "$status" -eq 11 ]
	grep '^{' <<<"$output" | jq -e '.records == 0 and .bisections == 0 and
		.dead_lettered == 0 and .temporary_failures == 1'
	[[ "$output" == *"ddb-stream: ATTEMPTS: records 1-2 of $W/st/batch.0: the consumer failed temporarily 2 times in a row (--batch-attempts 2); no dead-letter place: the batch is kept, nothing dropped"* ]]
	grep -q '^batch 0 2 ' "$W/st/state"
	grep -qx 'todo 0 2 0-2' "$W/st/state"
	# without a bound (the default) a temporary failure stays 75
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" "$t" sh "$W/busy"
	[ "$status" -eq 75 ]
	grep -qx 'todo 0 3 0-2' "$W/st/state"
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st" --batch-attempts 2 \
		--dead-letter "$W/dl" --json "$t" sh "$W/busy"
	[ "$status" -eq 0 ]
	grep '^{' <<<"$output" | jq -e '.records == 0 and .batches == 1 and .bisections == 0 and
		.dead_lettered == 2 and .temporary_failures == 1'
	[[ "$output" == *"2 records dead-lettered, 1 temporary failure"* ]]
	[ "$(ls "$W/dl" | wc -l)" -eq 2 ]
	cat "$W"/dl/* | jq -r 'select(.reason) | .reason + " / " + .message' | sort -u >"$W/why"
	[ "$(cat "$W/why")" = "temporary failure (exit 75) 4 times in a row / busy: try later" ]
	! grep -q '^batch\|^todo' "$W/st/state"
	# bad values
	for v in 0 -1 x ''; do
		run ddb-stream --batch-attempts "$v" x
		[ "$status" -eq 2 ]
	done
	run ddb-stream --dead-letter s3:// x
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-stream: --dead-letter: not a directory or s3://BUCKET/PREFIX: s3://" ]
}

@test "ddb-stream --dead-letter s3://BUCKET/PREFIX: a bad record stored by s3-put (the environment's S3 settings) under PREFIX/stream.SHARD.SEQ, whole; a store that refuses is the run's status, the record kept in the batch" {
	local t b k
	t=$(ddb_table dls3)
	b=$(s3_bucket dead)
	s3_mb "$b"
	mktable "$t"
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"k1"},"v":{"S":"ok"}}'
	ddb_aws dynamodb put-item --table-name "$t" --item '{"id":{"S":"k2"},"v":{"S":"BAD"}}'
	c=$(refuser "$W/out")
	# a bucket that is not there: s3-put's status (4), nothing skipped
	run env AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" ddb-stream -p ddb -u "$DDB_ENDPOINT" \
		--state "$W/st" --dead-letter "s3://$b-none/dl" "$t" $c
	[ "$status" -eq 4 ]
	[[ "$output" == *"ddb-stream: s3-put: failed (exit 4); dead letter stream.shardId-"*" not stored"* ]]
	grep -qx 'todo 0 0 1-2' "$W/st/state"
	run env AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" ddb-stream -p ddb -u "$DDB_ENDPOINT" \
		--state "$W/st" --dead-letter "s3://$b/dl/" "$t" $c
	[ "$status" -eq 0 ]
	[[ "$output" == *"dead-lettered to s3://$b/dl/stream.shardId-"* ]]
	k=$(s3_ls_all "$b" dl/)
	[[ "$k" =~ ^dl/stream\.shardId-[^/]*\.[0-9]{21}$ ]]
	s3_get "$b" "$k" "$W/dead"
	[ "$(wc -l <"$W/dead")" -eq 2 ]
	head -n 1 "$W/dead" | jq -e '.reason == "refused as bad data (exit 1)" and .message == "refuser: a record with the marker"'
	tail -n +2 "$W/dead" | jq -e '.dynamodb.NewImage.v.S == "BAD"'
	! grep -q '^batch\|^todo' "$W/st/state"
	[ "$(cat "$W"/out/* | wc -l)" -eq 1 ]
}

# example_cmd FILE BUCKET: the command of examples/FILE (the crontab's job,
# the service's ExecStart) as words, each /usr/bin/TOOL the built TOOL, the
# state in $W/st, the bucket BUCKET
example_cmd() {
	local w
	case $1 in
	*.crontab) set -- "$(grep '^[*0-9]' "examples/$1" | cut -d ' ' -f 6-)" "$2" ;;
	*.service) set -- "$(sed -n '/^ExecStart=/,/[^\\]$/p' "examples/$1" |
		sed -e 's/^ExecStart=//' -e 's/\\$//' | tr '\n' ' ')" "$2" ;;
	esac
	CMD=()
	for w in $1; do
		case $w in
		/usr/bin/*) w=${w#/usr/bin/} ;;
		/var/lib/ddb-stream/student) w=$W/st ;;
		lake) w=$2 ;;
		esac
		CMD+=("$w")
	done
}

# staging DIR: a batch is being staged in the state directory DIR
staging() {
	find "$1" -maxdepth 1 -name '.state.batch.*' -size +0 | grep -q .
}

# service_run: the command in CMD (--follow) until a batch is being staged,
# then SIGTERM (a batch fills for --batch-window, 300 s by default; SIGTERM
# stores what is in hand and ends the run): exit 0
service_run() {
	"${CMD[@]}" </dev/null 2>"$W/err" 3>&- &
	FOLLOW_PID=$!
	wait_for 120 staging "$W/st"
	stop_follow
	[ "$rc" -eq 0 ]
}

# n_objects BUCKET N: BUCKET holds N objects
n_objects() {
	[ "$(objects_ls "$1" | wc -l)" -eq "$2" ]
}

@test "examples: the crontab's job and the systemd service's ExecStart run as written (ddb-stream owning the state, ddb-to-s3 - per batch): every record in the bucket once; the service stops on SIGTERM with exit 0" {
	local b
	cd "$BATS_TEST_DIRNAME/.."
	export AWS_ENDPOINT_URL_DYNAMODB_STREAMS AWS_ENDPOINT_URL_DYNAMODB \
		AWS_ENDPOINT_URL_S3=$S3_ENDPOINT
	script "$W/x.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b)]}"
	streams_start "$W/x.json"
	AWS_ENDPOINT_URL_DYNAMODB_STREAMS=$STREAMS_URL
	AWS_ENDPOINT_URL_DYNAMODB=$STREAMS_URL

	b=$(s3_bucket cron)
	s3_mb "$b"
	example_cmd ddb-to-s3.crontab "$b"
	[ "${CMD[0]}" = ddb-stream ]
	run "${CMD[@]}" </dev/null
	[ "$status" -eq 0 ]
	[ "$(s3_rows "$b" | cut -d, -f1 | tr -d '\n')" = ab ]
	[ "$(objects_ls "$b" | wc -l)" -eq 1 ]
	# the next run: nothing new, nothing stored again
	run "${CMD[@]}" </dev/null
	[ "$status" -eq 0 ]
	[ "$(objects_ls "$b" | wc -l)" -eq 1 ]

	rm -rf "$W/st" "$W/got"
	b=$(s3_bucket service)
	s3_mb "$b"
	example_cmd ddb-stream.service "$b"
	[ "${CMD[0]}" = ddb-stream ]
	[[ " ${CMD[*]} " == *" --follow "* ]]
	service_run
	n_objects "$b" 1
	[ "$(s3_rows "$b" | cut -d, -f1 | tr -d '\n')" = ab ]
	script "$W/x.json" "{\"id\": \"$A\", \"records\": [$(rec a), $(rec b), $(rec c)]}"
	service_run
	n_objects "$b" 2
	[ "$(s3_rows "$b" | cut -d, -f1 | sort | tr -d '\n')" = abc ]
}
