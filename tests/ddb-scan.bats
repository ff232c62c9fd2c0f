#!/usr/bin/env bats
# ddb-scan: DynamoDB Local -> ddb-scan -> (ddb-to-s3 -> the Swift S3 store),
# compared with `aws dynamodb scan` of the same table; killed and resumed

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb
load lib/tool

NITEMS=2000
C=1796156700	# --created-at of the runs compared

# load TABLE: NITEMS items of every attribute type, 25 a BatchWriteItem,
# signed by curl (the AWS CLI would take a minute for them)
load_items() {
	local i
	awk -v n="$NITEMS" -v t="$1" 'BEGIN {
		for (i = 1; i <= n; i++) {
			if (i % 25 == 1) printf "{\"RequestItems\":{\"%s\":[", t
			printf "%s{\"PutRequest\":{\"Item\":{\"id\":{\"S\":\"u%04d\"},\"v\":{\"N\":\"%d\"},\"s\":{\"S\":\"x, \\\"y\\\"\\n%d\"},\"n\":{\"N\":\"1234567890123456789012345678901234567%d\"},\"f\":{\"N\":\"-0.000%d\"},\"b\":{\"B\":\"AAEC\"},\"ss\":{\"SS\":[\"p\",\"q%d\"]},\"ns\":{\"NS\":[\"1.5\",\"-2E+3\"]},\"bs\":{\"BS\":[\"AAE=\",\"AgM=\"]},\"m\":{\"M\":{\"k\":{\"N\":\"0.000001\"},\"w\":{\"S\":\"\\u00e9\"}}},\"l\":{\"L\":[{\"S\":\"u\"},{\"NULL\":true},{\"BOOL\":false}]},\"z\":{\"NULL\":true},\"t\":{\"BOOL\":%s}}}}", \
			    i % 25 == 1 ? "" : ",", i, i % 7, i, i % 10, i, i, i % 2 ? "true" : "false"
			if (i % 25 == 0 || i == n) printf "]}}\n"
		}
	}' | while IFS= read -r body; do
		curl -sf --max-time 30 --aws-sigv4 "aws:amz:us-east-1:dynamodb" \
			--user "$DDB_ACCESS_KEY:ddblocal" \
			-H 'Content-Type: application/x-amz-json-1.0' \
			-H 'X-Amz-Target: DynamoDB_20120810.BatchWriteItem' \
			--data-binary "$body" "$DDB_ENDPOINT/" | grep -q '"UnprocessedItems":{}' ||
			return 1
	done
}

setup_file() {
	ddb_local_up
	# ddb-scan signs for DynamoDB Local with this file's key id (it refuses
	# the store's test:tester); s3-put keeps the environment's keys
	export AWS_SHARED_CREDENTIALS_FILE="$BATS_FILE_TMPDIR/credentials"
	printf '[ddb]\naws_access_key_id = %s\naws_secret_access_key = ddblocal\n' \
		"$DDB_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
	T=$(ddb_table scan)
	export T
	ddb_aws dynamodb create-table --table-name "$T" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		AttributeName=v,AttributeType=N \
		--key-schema AttributeName=id,KeyType=HASH AttributeName=v,KeyType=RANGE \
		--billing-mode PAY_PER_REQUEST >/dev/null
	load_items "$T"
	# the expected CSV: the AWS CLI's scan of the table, as records, by jq
	ddb_aws dynamodb scan --table-name "$T" --output json >"$BATS_FILE_TMPDIR/scan.json"
	[ "$(jq '.Items | length' "$BATS_FILE_TMPDIR/scan.json")" -eq "$NITEMS" ]
	jq -c --arg t "$T" --argjson c "$C" '.Items[] | {eventName: "INSERT",
		tableName: $t, dynamodb: {ApproximateCreationDateTime: $c,
		Keys: {id: .id, v: .v}, NewImage: ., StreamViewType: "NEW_IMAGE"}}' \
		"$BATS_FILE_TMPDIR/scan.json" >"$BATS_FILE_TMPDIR/expected.ndjson"
	ddb-flatten "$BATS_FILE_TMPDIR/expected.ndjson" | ddb-expand | csv-emit \
		>"$BATS_FILE_TMPDIR/expected.csv"
}

setup() {
	W=$BATS_TEST_TMPDIR
	E=$BATS_FILE_TMPDIR
}

scan() {
	ddb-scan -p ddb -u "$DDB_ENDPOINT" "$@"
}

@test "ddb-scan: --help exits 0 with the usage; bad options exit 2 with their message, touching nothing" {
	help_and_bad_option ddb-scan "  --segments N "
	run ddb-scan
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: no table given (-t)" ]
	run ddb-scan -t ab
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad table name: ab (3 to 255 of A-Z a-z 0-9 _ - .)" ]
	run ddb-scan -t abc --segments 0
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad --segments: 0" ]
	run ddb-scan -t abc --segments 1000001
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad --segments: 1000001" ]
	run ddb-scan -t abc --page-size 1x
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad --page-size: 1x" ]
	run ddb-scan -t abc --rcu 0
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad --rcu: 0" ]
	run ddb-scan -t abc -g -1
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad backoff: -1" ]
	run ddb-scan -t abc --created-at yesterday
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: --created-at yesterday is not epoch seconds, milliseconds (13 digits), microseconds (16 digits) or ISO 8601 with Z or an offset" ]
	run ddb-scan -t abc cat
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: a command needs a state directory (--state)" ]
	run ddb-scan -t abc --state "$W/st"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: --state needs a command: records on stdout are never committed" ]
	[ ! -e "$W/st" ]
	run ddb-scan -t abc --json
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: --json needs a command (without one the records are on stdout)" ]
}

@test "ddb-scan: a missing table is exit 4 with DynamoDB's message" {
	run scan -t "nosuch$RANDOM"
	[ "$status" -eq 4 ]
	[ "$output" = "ddb-scan: DescribeTable: HTTP 400 ResourceNotFoundException: Cannot do operations on a non-existent table" ]
}

@test "ddb-scan: every item as an INSERT record, through ddb-flatten|ddb-expand|csv-emit, gives the CSV of aws dynamodb scan byte for byte" {
	run --separate-stderr scan -t "$T" --created-at "$C"
	[ "$status" -eq 0 ]
	[[ "$stderr" =~ ^"ddb-scan: $T: $NITEMS items in 1 pages, "[0-9.]+" read capacity units, 2 requests"$ ]]
	printf '%s\n' "$output" >"$W/out.ndjson"
	ddb-flatten "$W/out.ndjson" | ddb-expand | csv-emit >"$W/got.csv"
	cmp "$E/expected.csv" "$W/got.csv"
	[ "$(wc -l <"$W/got.csv")" -eq $((NITEMS * 2 + 1)) ] # s holds a newline
	# shaped as a stream record; the table ARN from DescribeTable
	arn=$(ddb_aws dynamodb describe-table --table-name "$T" --query Table.TableArn --output text)
	[ "$(jq -c '[.eventName, .eventSource, .tableName, .eventSourceARN,
		.dynamodb.StreamViewType, (.dynamodb | has("SequenceNumber")),
		(.dynamodb.Keys | keys)]' "$W/out.ndjson" | sort -u)" = \
	  "[\"INSERT\",\"aws:dynamodb\",\"$T\",\"$arn\",\"NEW_IMAGE\",false,[\"id\",\"v\"]]" ]
	# numbers exactly as DynamoDB holds them
	[ "$(grep -c '"n":{"N":"1234567890123456789012345678901234567[0-9]"}' "$W/out.ndjson")" -eq "$NITEMS" ]
}

@test "ddb-scan: an item nested 32 levels deep (DynamoDB's limit) is read whole, not taken for a malformed answer" {
	t=$(ddb_table deep)
	ddb_aws dynamodb create-table --table-name "$t" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH \
		--billing-mode PAY_PER_REQUEST >/dev/null
	# a map in a map, 32 levels: the Scan answer is 66 JSON levels deep
	deep=$(jq -nc '{S: "deep"} | reduce range(31) as $i (.; {M: {"m\($i)": .}})')
	ddb_aws dynamodb put-item --table-name "$t" \
		--item "{\"id\":{\"S\":\"d\"},\"a\":$deep}"
	run --separate-stderr scan -a 2 -g 0.01 -t "$t"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -c .dynamodb.NewImage.a <<<"$output")" = "$deep" ]
}

@test "ddb-scan --segments 3: the same items, each once, the same CSV rows" {
	run --separate-stderr scan -t "$T" --created-at "$C" --segments 3 --page-size 300
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ddb-scan: $T: $NITEMS items in "*" pages, "* ]]
	printf '%s\n' "$output" >"$W/out.ndjson"
	[ "$(jq -r .dynamodb.Keys.id.S "$W/out.ndjson" | sort | uniq | wc -l)" -eq "$NITEMS" ]
	[ "$(wc -l <"$W/out.ndjson")" -eq "$NITEMS" ]
	ddb-flatten "$W/out.ndjson" | ddb-expand | csv-emit | sort >"$W/got.csv"
	sort "$E/expected.csv" | cmp - "$W/got.csv"
}

@test "ddb-scan: created_at is T0, the service's Date before the scan less 60 s, unless --created-at names it (ISO 8601 kept as text)" {
	local t0 t1 c
	t0=$(date +%s)
	c=$(scan -t "$T" --page-size 50 | head -1 | jq .dynamodb.ApproximateCreationDateTime)
	t1=$(date +%s)
	[ "$c" -ge "$((t0 - 61))" ] && [ "$c" -le "$((t1 - 59))" ]
	scan -t "$T" --created-at 2026-12-01T23:00:00.5+05:30 >"$W/iso.ndjson"
	[ "$(jq -r .dynamodb.ApproximateCreationDateTime "$W/iso.ndjson" | sort -u)" = \
	  '2026-12-01T23:00:00.5+05:30' ]
	[ "$(ddb-flatten "$W/iso.ndjson" | ddb-expand -U | csv-emit | grep -o ',20[^,]*$' | sort -u)" = \
	  ,2026-12-01T17:30:00.5Z ]
}

@test "ddb-scan: T0 is the service's clock, not this host's: with the host's clock an hour ahead or behind (faketime) created_at is still the service's Date less 60 s" {
	local t0 t1 c skew
	for skew in +3600s -3600s; do
		t0=$(date +%s)
		c=$(faketime -f "$skew" ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$T" --page-size 50 |
			head -1 | jq .dynamodb.ApproximateCreationDateTime)
		t1=$(date +%s)
		[ "$c" -ge "$((t0 - 61))" ] && [ "$c" -le "$((t1 - 59))" ]
	done
	# the skew is real: the host's clock under faketime is an hour ahead
	[ "$(faketime -f +3600s date +%s)" -ge "$((t1 + 3500))" ]
}

@test "ddb-scan --consistent reads twice the capacity; --rcu holds the rate to it" {
	local eventual strong t0 t1
	run --separate-stderr scan -t "$T"
	eventual=$(sed -n 's/.* pages, \([0-9.]*\) read capacity.*/\1/p' <<<"$stderr")
	run --separate-stderr scan -t "$T" --consistent
	[ "$status" -eq 0 ]
	strong=$(sed -n 's/.* pages, \([0-9.]*\) read capacity.*/\1/p' <<<"$stderr")
	[ -n "$eventual" ] && [ "$strong" = "$(awk -v e="$eventual" 'BEGIN { print e * 2 }')" ]
	# 8 pages of about 3 units (25 in all) at 6 units a second: the first
	# second's worth is free, and the last page is charged once it is read
	# (so at most 4 units of it come after the run), at least 2.5 s
	t0=$(date +%s%N)
	run --separate-stderr scan -v -t "$T" --page-size 250 --rcu 6
	t1=$(date +%s%N)
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"ddb-scan: segment 0: --rcu 6: waiting "*" s"* ]]
	used=$(sed -n 's/.* pages, \([0-9.]*\) read capacity.*/\1/p' <<<"$stderr")
	awk -v u="$used" -v d=$(((t1 - t0) / 1000000)) 'BEGIN { exit !(u >= 12 && d >= (u - 6 - 4) / 6 * 1000) }'
}

@test "ddb-scan: 5xx answers are retried with backoff" {
	fault_proxy_start "pass,500,503" "$DDB_ENDPOINT"
	run --separate-stderr ddb-scan -p ddb -u "$FAULT_URL" -g 0.01 -v -t "$T" --page-size 1000
	fault_proxy_stop
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq "$NITEMS" ]
	[[ "$stderr" == *"ddb-scan: Scan: HTTP 500; retry 1/9 in "* ]]
	[[ "$stderr" == *"ddb-scan: Scan: HTTP 503; retry 2/9 in "* ]]
	[[ "$stderr" != *'x, "y"'* ]]
}

@test "ddb-scan: a failing consumer commits nothing, its status is the run's; the next run hands on the same page first, then the rest" {
	run scan -t "$T" --page-size 700 --state "$W/st" sh -c 'cat >"$0"; exit 75' "$W/b1"
	[ "$status" -eq 75 ]
	[ "${lines[0]}" = "ddb-scan: batch: segment 0 page 1: 700 items" ]
	[ "${lines[1]}" = "ddb-scan: sh: exit 75; batch not committed" ]
	grep -q '^segment 0 open 0 0 -$' "$W/st/state"
	grep -q '^batch 0 700 [0-9]* [0-9a-f]\{64\} {"[a-z]":{' "$W/st/state"
	cmp "$W/b1" "$W/st/batch.0"
	# other settings than the state's: refused, nothing touched
	cp "$W/st/state" "$W/state.0"
	run scan -t "$T" --page-size 50 --state "$W/st" cat
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "ddb-scan: $W/st holds a scan with another --page-size (table $T, --segments 1, --page-size 700, --created-at "*"); give its settings or another state directory" ]]
	cmp "$W/st/state" "$W/state.0"
	run scan -t "$T" --state "$W/st" sh -c 'cat >"$0.$DDB_SCAN_PAGE"' "$W/b"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ddb-scan: batch staged by an earlier run, not committed, handed on again: segment 0 page 1: 700 items" ]
	[ "${lines[1]}" = "ddb-scan: batch: segment 0 page 2: 700 items" ]
	[ "${lines[2]}" = "ddb-scan: batch: segment 0 page 3: 600 items" ]
	cmp "$W/b1" "$W/b.1"
	[ "$(cat "$W"/b.[123] | jq -r .dynamodb.Keys.id.S | sort -u | wc -l)" -eq "$NITEMS" ]
	grep -q '^segment 0 done 3 2000 -$' "$W/st/state"
	! grep -q '^batch' "$W/st/state"
	[ ! -e "$W/st/batch.0" ]
	# done: a run again hands on nothing
	run scan -t "$T" --state "$W/st" sh -c 'cat >"$0"' "$W/again"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ ! -e "$W/again" ]
	# a consumer killed by a signal is no success either
	run scan -t "$T" --state "$W/st2" sh -c 'kill -9 $$'
	[ "$status" -eq 70 ]
	[ "${lines[1]}" = "ddb-scan: sh: killed by signal 9; batch not committed" ]
	# a batch file that is not the one the state names: refused
	cp "$W/st2/batch.0" "$W/batch.0"
	printf 'x\n' >>"$W/st2/batch.0"
	run scan -t "$T" --state "$W/st2" cat
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-scan: $W/st2/batch.0: $(($(stat -c %s "$W/batch.0") + 2)) bytes, the state names $(stat -c %s "$W/batch.0") (cut off or altered); not handed on" ]
	# cut off
	head -c 100 "$W/batch.0" >"$W/st2/batch.0"
	run scan -t "$T" --state "$W/st2" sh -c 'cat >"$0"' "$W/handed"
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-scan: $W/st2/batch.0: 100 bytes, the state names $(stat -c %s "$W/batch.0") (cut off or altered); not handed on" ]
	# the same size, one byte altered
	{ head -c 99 "$W/batch.0"; printf '#'; tail -c +101 "$W/batch.0"; } >"$W/st2/batch.0"
	run scan -t "$T" --state "$W/st2" sh -c 'cat >"$0"' "$W/handed"
	[ "$status" -eq 3 ]
	[ "${lines[1]}" = "ddb-scan: $W/st2/batch.0: its SHA-256 is not the one the state names (altered); not handed on" ]
	[ ! -e "$W/handed" ]
	# the file as staged: handed on, committed
	cp "$W/batch.0" "$W/st2/batch.0"
	run scan -t "$T" --state "$W/st2" sh -c 'cat >>"$0"' "$W/handed"
	[ "$status" -eq 0 ]
	[ "$(jq -r .dynamodb.Keys.id.S "$W/handed" | sort -u | wc -l)" -eq "$NITEMS" ]
	head -c "$(stat -c %s "$W/batch.0")" "$W/handed" | cmp - "$W/batch.0"
}

@test "ddb-scan --batch-size, --batch-bytes: a batch is whole pages up to its bounds, staged as they come; killed once staged, the next run hands it on first; bad values exit 2" {
	# pages of 300: 7 of them; batches of at least 1,000 items: 1200 1200 1200 1200 ... ends 800
	run scan -t "$T" --created-at "$C" --page-size 300 --batch-size 1000 --state "$W/st" \
		sh -c 'cat >"$0.$DDB_SCAN_PAGE"' "$W/b"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ddb-scan: batch: segment 0 page 1: 1200 items" ]
	[ "${lines[1]}" = "ddb-scan: batch: segment 0 page 2: 800 items" ]
	[[ "${lines[2]}" == "ddb-scan: $T: 2000 items in 2 pages, "*", 8 requests" ]]
	[ "$(cat "$W"/b.[12] | jq -r .dynamodb.Keys.id.S | sort -u | wc -l)" -eq "$NITEMS" ]
	[ "$(cat "$W"/b.[12] | wc -l)" -eq "$NITEMS" ]
	grep -q '^segment 0 done 2 2000 -$' "$W/st/state"
	# --batch-bytes: pages while under N bytes: 1, a page a batch; 1 GB, one
	run scan -t "$T" --page-size 300 --batch-bytes 1 --state "$W/st1" cat
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ddb-scan: batch: segment 0 page [1-7]: [23]00 items$' <<<"$output")" -eq 7 ]
	run scan -t "$T" --page-size 300 --batch-bytes 1000000000 --state "$W/st2" cat
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ddb-scan: batch: ' <<<"$output")" -eq 1 ]
	[[ "$output" == *"ddb-scan: batch: segment 0 page 1: 2000 items"* ]]
	# the same batches as one run never killed, after a kill once staged
	DDB_TEST_KILL_AT=staged run scan -t "$T" --created-at "$C" --page-size 300 --batch-size 1000 \
		--state "$W/st3" sh -c 'cat >"$0.$DDB_SCAN_PAGE"' "$W/k"
	[ "$status" -eq 137 ]
	[ ! -e "$W/k.1" ]
	run scan -t "$T" --created-at "$C" --page-size 300 --batch-size 1000 --state "$W/st3" \
		sh -c 'cat >"$0.$DDB_SCAN_PAGE"' "$W/k"
	[ "$status" -eq 0 ]
	[ -z "$(ls "$W/st3" | grep -v '^lock$\|^state$')" ]
	cmp "$W/b.1" "$W/k.1"
	cmp "$W/b.2" "$W/k.2"
	run scan -t "$T" --batch-size 0 --state "$W/st4" cat
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad batch size: 0" ]
	run scan -t "$T" --batch-bytes 1x --state "$W/st4" cat
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "ddb-scan: bad batch bytes: 1x" ]
}

@test "ddb-scan: a second run while the first holds the lock does nothing and exits 0" {
	mkdir -p "$W/st"
	exec 8>"$W/st/lock"
	flock 8
	run ddb-scan --state "$W/st" -u http://127.0.0.1:9 -t nosuchtable cat
	exec 8>&-
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ ! -e "$W/st/state" ]
}

# objects BUCKET DIR: every object of BUCKET into DIR, keys in DIR.keys
objects() {
	local k
	s3_ls "$1" >"$2.keys"
	mkdir -p "$2"
	while read -r k; do
		s3_get "$1" "$k" "$2/${k##*/}"
	done <"$2.keys"
}

@test "ddb-scan | ddb-to-s3 --segments 2, SIGKILLed after an upload before its commit, then run again: the same objects as a run never killed, every item in exactly one" {
	local b1 b2 f
	[ -x "$BATS_TEST_DIRNAME/lib/kill-at" ] || skip "tests/lib/kill-at is not there"
	b1=$(s3_bucket whole)
	b2=$(s3_bucket crash)
	s3_mb "$b1"
	s3_mb "$b2"
	run scan -t "$T" --segments 2 --page-size 250 --created-at "$C" --state "$W/st1" \
		ddb-to-s3 -u "$S3_ENDPOINT" -b "$b1" -
	[ "$status" -eq 0 ]
	objects "$b1" "$W/whole"
	[ "$(wc -l <"$W/whole.keys")" -ge 8 ]

	mkdir -p "$W/shim" "$W/kill"
	ln -sf "$BATS_TEST_DIRNAME/lib/kill-at" "$W/shim/ddb-to-s3"
	PATH="$W/shim:$PATH" KILL_AT=ddb-to-s3:3:exit KILL_AT_DIR=$W/kill \
		setsid -w sh -c 'KILL_AT_PGID=$$; export KILL_AT_PGID; exec "$@"' sh \
		ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$T" --segments 2 --page-size 250 \
		--created-at "$C" --state "$W/st2" ddb-to-s3 -u "$S3_ENDPOINT" -b "$b2" - \
		</dev/null >"$W/crash.log" 2>&1 || :
	grep -v missed "$W/kill/killed"
	grep -q '^batch ' "$W/st2/state"
	[ "$(s3_ls "$b2" | wc -l)" -ge 3 ]
	[ "$(s3_ls "$b2" | wc -l)" -lt "$(wc -l <"$W/whole.keys")" ]
	# the state keeps the first run's created_at: no --created-at needed
	run scan -t "$T" --state "$W/st2" ddb-to-s3 -u "$S3_ENDPOINT" -b "$b2" -
	[ "$status" -eq 0 ]
	[[ "$output" == *"ddb-scan: batch staged by an earlier run, not committed, handed on again: segment "*" page "*": 250 items"* ]]
	! grep -q '^batch' "$W/st2/state"
	[ "$(grep -c '^segment [01] done [45] [0-9]* -$' "$W/st2/state")" -eq 2 ]
	objects "$b2" "$W/crash"
	cmp "$W/whole.keys" "$W/crash.keys"
	for f in "$W"/whole/*; do cmp "$f" "$W/crash/${f##*/}"; done
	# every item once: the rows of all objects are the scan's rows
	for f in "$W"/crash/*; do tail -n +2 "$f"; done | sort >"$W/got.rows"
	tail -n +2 "$E/expected.csv" | sort | cmp - "$W/got.rows"
}

@test "ddb-scan: a lock held by a run with no sign of life for over an hour (hung) is said loudly, exit 7, nothing done; a fresh one is not" {
	mkdir -p "$W/st"
	exec 8>"$W/st/lock"
	flock 8
	printf '4242\n' >&8
	touch -d '-3599 seconds' "$W/st/lock"
	run ddb-scan --state "$W/st" -u http://127.0.0.1:9 -t nosuchtable cat
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	touch -d '-2 hours' "$W/st/lock"
	run ddb-scan --state "$W/st" -u http://127.0.0.1:9 -t nosuchtable cat
	exec 8>&-
	[ "$status" -eq 7 ]
	[[ "$output" =~ ^"ddb-scan: $W/st: STALE LOCK: the run holding it (pid 4242) has shown no sign of life for "72[0-9][0-9]" s (more than 3600): hung? nothing done; stop that run and the next one goes on"$ ]]
	[ ! -e "$W/st/state" ]
	# a run that takes the lock leaves its pid there and a fresh mtime
	# (one try: no server listens on port 9)
	t0=$(date +%s)
	run ddb-scan --state "$W/st" -a 1 -u http://127.0.0.1:9 -t nosuchtable cat
	[ "$status" -eq 75 ]
	[ "$(cat "$W/st/lock")" -gt 1 ]
	[ "$(stat -c %Y "$W/st/lock")" -ge "$t0" ]
}

# batch TABLE FILE: one BatchWriteItem of the requests in FILE (a JSON
# array of PutRequest/DeleteRequest objects, at most 25), through the CLI
batch() {
	ddb_aws dynamodb batch-write-item --request-items "$(jq -c --arg t "$1" '{($t): .}' "$2")" \
		| jq -e '.UnprocessedItems == {}' >/dev/null
}

# reqs PUT|DEL V KEYS...: the requests of batch() for these keys
reqs() {
	local op=$1 v=$2
	shift 2
	printf '%s\n' "$@" | jq -R --arg op "$op" --arg v "$v" \
		'if $op == "PUT" then {PutRequest: {Item: {id: {S: .}, v: {N: $v}}}}
		 else {DeleteRequest: {Key: {id: {S: .}}}} end' | jq -s .
}

# merged ROWS: the rule of ddb-scan.1: per key the row with the latest
# created_at, on a tie the stream's, among stream rows the later; the
# items whose winning row is an INSERT, as {id, v}, sorted
merged() {
	jq -s -c 'to_entries | map(.value + {i: .key}) | group_by(.id)
		| map(max_by([.created_at, (if .source == "stream" then 1 else 0 end), .i]))
		| map(select(.EventType == "INSERT") | {id, v}) | sort_by(.id)' "$1"
}

@test "ddb-scan then ddb-stream: changes and deletes during and right after a scan; per key the latest created_at, the stream's on a tie, gives the table's final state (stream times to the minute as DynamoDB Local rounds them, and to the second as AWS does)" {
	local t n tb tc
	t=$(ddb_table handover)
	ddb_aws dynamodb create-table --table-name "$t" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
	reqs PUT 0 k0{0..9} k1{0..9} k2{0..4} >"$W/a1"
	reqs PUT 0 k2{5..9} k3{0..9} k4{0..9} >"$W/a2"
	batch "$t" "$W/a1"
	batch "$t" "$W/a2"
	# during the scan (after its first page): deletes, changes and new
	# items, some where the scan has been, some where it has not
	jq -s add <(reqs DEL 0 k01 k07 k13 k22 k36 k44) <(reqs PUT 1 k02 k11 k25 k31 k47) \
		<(reqs PUT 1 n0 n1 n2) >"$W/b"
	# right after it
	jq -s add <(reqs DEL 0 k03 k29 n1) <(reqs PUT 2 k04 k11 k38 n3) >"$W/c"
	cat >"$W/during" <<-EOF
	#!/bin/bash
	cat >>"$W/scan.ndjson"
	[ -e "$W/b.time" ] && exit 0
	date +%s >"$W/b.time"
	$(declare -f ddb_aws batch)
	batch "$t" "$W/b"
	EOF
	chmod +x "$W/during"
	scan -t "$t" --page-size 8 --state "$W/st" "$W/during"
	[ -s "$W/b.time" ]
	[ "$(wc -l <"$W/scan.ndjson")" -ge 40 ]
	date +%s >"$W/c.time"
	batch "$t" "$W/c"
	ddb-stream -p ddb -u "$DDB_ENDPOINT" "$t" >"$W/stream.ndjson" 2>/dev/null
	[ "$(wc -l <"$W/stream.ndjson")" -eq $((50 + 14 + 7)) ]
	# the table's true final state
	ddb_aws dynamodb scan --table-name "$t" \
		| jq -c '.Items | map({id: .id.S, v: (.v.N | tonumber)}) | sort_by(.id)' >"$W/truth"
	# as DynamoDB Local rounds (to the minute)
	ddb-flatten "$W/scan.ndjson" "$W/stream.ndjson" | ddb-expand -l source >"$W/rows"
	[ "$(jq -r .source "$W/rows" | sort | uniq -c | tr -s ' ')" = " $(wc -l <"$W/scan.ndjson") scan
 $((50 + 6 + 2 * 5 + 3 + 3 + 2 * 3 + 1)) stream" ]
	merged "$W/rows" >"$W/got"
	diff "$W/truth" "$W/got"
	# as AWS rounds (down to the second): each change at the earliest
	# second it can have had, the second its batch began
	tb=$(cat "$W/b.time")
	tc=$(cat "$W/c.time")
	jq -c --argjson tb "$tb" --argjson tc "$tc" --slurp 'to_entries[] | .key as $i | .value
		| .dynamodb.ApproximateCreationDateTime = (if $i < 50 then $tb - 600
		  elif $i < 64 then $tb else $tc end)' "$W/stream.ndjson" >"$W/stream-aws.ndjson"
	ddb-flatten "$W/scan.ndjson" "$W/stream-aws.ndjson" | ddb-expand -l source >"$W/rows-aws"
	merged "$W/rows-aws" >"$W/got-aws"
	diff "$W/truth" "$W/got-aws"
}

@test "ddb-scan: a page the consumer refuses (exit 1) is bisected to the bad items, the good ones land once; without --dead-letter the run stops at the first, its progress kept; with it each bad item is stored whole with its segment, page and message, and the scan goes on" {
	mkdir -p "$W/out"
	# refuses a batch holding item u0007 or u1500; stores any other under
	# its first item's id (a page's first half has the page's key); the
	# segments' commands run at once
	printf '%s\n' 'd=$1; t=$(mktemp "$d/.in.XXXXXX"); cat >"$t"' \
		'if grep -q "\"u0007\"\|\"u1500\"" "$t"; then echo "refuser: item refused" >&2; exit 1; fi' \
		'k=$(head -n 1 "$t" | jq -r .dynamodb.Keys.id.S); mv "$t" "$d/$k"' >"$W/refuser"
	run scan -t "$T" --segments 2 --page-size 500 --state "$W/st" --json sh "$W/refuser" "$W/out"
	[ "$status" -eq 1 ]
	[[ "$output" =~ "ddb-scan: BAD RECORD: segment "[01]" page "[1-9]" item "[0-9]+" (record "[0-9]+" of "[0-9]+") refused by the consumer; no dead-letter place (--dead-letter): stopped there, nothing skipped" ]]
	[[ "$output" == *"refused as bad data: bisected into"* ]]
	# --json: the counts of the last log line
	j=$(grep '^{' <<<"$output")
	jq -e '.bisections >= 1 and .dead_lettered == 0 and .temporary_failures == 0 and
		(keys | sort) == ["bisections", "dead_lettered", "items", "pages",
		"read_capacity_units", "requests", "temporary_failures"]' <<<"$j"
	[[ "$output" == *"ddb-scan: $T: $(jq .items <<<"$j") items in $(jq .pages <<<"$j") pages, "*" read capacity units, $(jq .requests <<<"$j") requests; $(jq .bisections <<<"$j") bisection"* ]]
	grep -q '^todo [01] 0 [0-9]' "$W/st/state"
	[[ "$output" != *'"u0'* ]]
	run scan -t "$T" --segments 2 --page-size 500 --state "$W/st" --dead-letter "$W/dl" \
		--json sh "$W/refuser" "$W/out"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 records dead-lettered"* ]]
	j=$(grep '^{' <<<"$output")
	jq -e '.bisections >= 1 and .dead_lettered == 2 and .temporary_failures == 0' <<<"$j"
	re="; $(jq .bisections <<<"$j") bisections?, 2 records dead-lettered"
	[[ "$output" =~ $re ]]
	[[ "$output" != *'"u0'* ]]
	! grep -q '^batch\|^todo' "$W/st/state"
	# every good item once, the bad ones only in the dead-letter place
	cat "$W"/out/* | jq -r .dynamodb.Keys.id.S | sort >"$W/got"
	jq -r .dynamodb.Keys.id.S "$E/expected.ndjson" | grep -v -x 'u0007\|u1500' | sort >"$W/want"
	cmp "$W/got" "$W/want"
	[ "$(ls "$W/dl" | wc -l)" -eq 2 ]
	for f in "$W"/dl/*; do
		head -n 1 "$f" | jq -e --arg t "$T" '.source == "scan" and .table == $t and
			.message == "refuser: item refused" and (.segment | IN(0, 1)) and
			.page >= 1 and .pageItem >= 1'
		tail -n +2 "$f" | jq -e '.dynamodb.Keys.id.S | IN("u0007", "u1500")'
		[ "$(wc -l <"$f")" -eq 2 ]
		case ${f##*/} in "scan.$T."*) ;; *) false ;; esac
	done
}
