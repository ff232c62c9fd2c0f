#!/usr/bin/env bats
# One table written by every source of the suite at once, read as a table:
# three Lambda invocations at the same time (bootstrap, each with its own
# /tmp), a cron spool run, ddb-scan's backfill and ddb-stream from
# DynamoDB Local, all into one prefix through the conditional-write
# stand-in (tests/lib/cas-proxy); items whose attributes come in other
# orders, appear later, disappear, and one named created_at. Every object
# read back with /usr/bin/aws, then the whole prefix read by DuckDB by
# position through _columns: every value under its own name, as each
# object read alone says.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb
load lib/lambda
load lib/table

setup_file() {
	ddb_local_up
	# ddb-scan and ddb-stream sign for DynamoDB Local with profile ddb;
	# s3-put keeps the environment's keys
	export AWS_SHARED_CREDENTIALS_FILE="$BATS_FILE_TMPDIR/credentials"
	printf '[ddb]\naws_access_key_id = %s\naws_secret_access_key = ddblocal\n' \
		"$DDB_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
	B=$(s3_bucket table)
	s3_mb "$B"
	export B
}

setup() {
	T="$BATS_TEST_TMPDIR"
	P="t$BATS_TEST_NUMBER"
	unset DDB_TO_S3_KEY DDB_TO_S3_KEEP_DIR DDB_TO_S3_GZIP DDB_TO_S3_COLUMNS \
		DDB_TO_S3_EXTRA DDB_TO_S3_SINGLE_WRITER LAMBDA_TASK_ROOT
}

teardown() {
	local k
	for k in 1 2 3; do
		[ -f "$T/rt$k/pid" ] && kill "$(cat "$T/rt$k/pid")" 2>/dev/null
	done
	cas_proxy_stop
	return 0
}

# event K SEQ ITEM: a one-record Lambda event of table $TB inserting ITEM
# (DynamoDB JSON), with key id K and sequence number SEQ
event() {
	printf '{"Records":[{"eventID":"ev%s","eventName":"INSERT","eventSource":"aws:dynamodb","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/2026-12-07T00:00:00.000","dynamodb":{"ApproximateCreationDateTime":1796601600,"Keys":{"id":{"S":"%s"}},"NewImage":%s,"SequenceNumber":"%s","SizeBytes":64,"StreamViewType":"NEW_AND_OLD_IMAGES"}}]}\n' \
		"$1" "$TB" "$1" "$3" "$2"
}

put() {
	ddb_aws dynamodb put-item --table-name "$TB" --item "$1" >/dev/null
}

@test "table: three Lambda invocations at once, a cron spool, ddb-scan and ddb-stream write one table; DuckDB reads the whole prefix by position, every value under its own name" {
	# each GET of the stand-in answered a second late: the three
	# invocations read the same list and race to extend it
	CAS_PROXY_LIFE=300 cas_proxy_start -d 1
	export DDB_TO_S3_BUCKET="$B" DDB_TO_S3_ENDPOINT_URL="$CAS_URL"
	export DDB_TO_S3_PREFIX="$P/lake"
	TB=$(ddb_table people)
	ddb_aws dynamodb create-table --table-name "$TB" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
		>/dev/null
	put '{"name":{"S":"Ann"},"id":{"S":"a"},"age":{"N":"41"}}'
	put '{"id":{"S":"b"},"age":{"N":"7"},"email":{"S":"b@x"}}'

	# the backfill
	run --separate-stderr ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$TB" \
		--state "$T/scan" ddb-to-s3 -
	[ "$status" -eq 0 ] || { printf '%s\n' "$stderr"; false; }

	# three invocations on three shards at once, each bringing a new
	# attribute (one of them named like an added column)
	event l1 21000000000000000000001 '{"zip":{"S":"44600"},"id":{"S":"l1"},"name":{"S":"Lu"}}' >"$T/ev1.json"
	event l2 21000000000000000000002 '{"id":{"S":"l2"},"created_at":{"S":"2024-01-01"}}' >"$T/ev2.json"
	event l3 21000000000000000000003 '{"scores":{"L":[{"N":"1"},{"N":"2.50"}]},"id":{"S":"l3"},"email":{"S":"l3@x"}}' >"$T/ev3.json"
	local k pids=()
	for k in 1 2 3; do
		runtime_standin "$T/rt$k" "$T/ev$k.json"
	done
	for k in 1 2 3; do
		mkdir "$T/tmp$k"
		DDB_TO_S3_COLUMNS_CACHE="$T/tmp$k/columns" TMPDIR="$T/tmp$k" \
			AWS_LAMBDA_RUNTIME_API=$(cat "$T/rt$k/address") \
			timeout 120 bootstrap 2>"$T/rt$k/log" &
		pids+=($!)
	done
	wait "${pids[@]}" || :
	for k in 1 2 3; do
		cat "$T/rt$k/log"
		[ "$(cat "$T/rt$k/posts")" = 'req-1.response 202' ]
	done

	# a cron run of the spool: a note column, and no age
	mkdir -p "$T/spool/incoming"
	event s1 21000000000000000000004 '{"note":{"S":"say \"hi\", then\nleave"},"id":{"S":"s1"}}' \
		>"$T/spool/incoming/s1.json"
	run --separate-stderr ddb-to-s3 -q "$T/spool"
	[ "$status" -eq 0 ] || { printf '%s\n' "$stderr"; false; }

	# changes on the table, then its stream: a nick appears, age goes
	ddb_aws dynamodb update-item --table-name "$TB" --key '{"id":{"S":"a"}}' \
		--update-expression 'SET nick = :n REMOVE age' \
		--expression-attribute-values '{":n":{"S":"annie"}}' >/dev/null
	ddb_aws dynamodb delete-item --table-name "$TB" --key '{"id":{"S":"b"}}' >/dev/null
	run --separate-stderr ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$T/st" \
		"$TB" ddb-to-s3 -
	[ "$status" -eq 0 ] || { printf '%s\n' "$stderr"; false; }

	# every writer swapped the list (nobody wrote as a single writer)
	! grep -h 'conditional' "$T"/rt*/log

	mkdir "$T/got"
	s3_aws s3 sync --only-show-errors "s3://$B/$P/lake/$TB/" "$T/got/"
	table_prefixes "$T/got"
	# scan 1, Lambda 3, spool 1, stream 1 (its 4 changes in one batch)
	[ "$(ls "$T"/got/*.csv | wc -l)" -eq 6 ]
	for c in id name age email zip _created_at scores note nick EventType created_at; do
		[ "$(jq -r '.columns[]' "$T/got/_columns" | grep -cxF "$c")" -eq 1 ]
	done
	table_cells "$T/got" "$T/whole" "$T/alone"
	diff -u "$T/alone" "$T/whole"
	# every value under its own name
	grep -q ',l1,INSERT,zip,44600$' "$T/whole"
	grep -q ',l2,INSERT,_created_at,2024-01-01$' "$T/whole"
	grep -q ',l3,INSERT,scores,"\[1,2.50\]"$' "$T/whole"
	grep -q ',l3,INSERT,email,l3@x$' "$T/whole"
	grep -q ',b,REMOVE,email,b@x$' "$T/whole"
	grep -q ',a,INSERT,nick,annie$' "$T/whole"
	[ "$(grep -c ',a,INSERT,age,41$' "$T/whole")" -eq 2 ]	# scan, stream's put
	[ "$(grep -c ',a,INSERT,nick,' "$T/whole")" -eq 1 ]
	grep -q ',s1,INSERT,note,"say ""hi"", then$' "$T/whole"
	# every non-null cell, none more: a header, Lambda's 8, the spool's 2
	# (its note two lines), the scan's 6 and the stream's 15
	[ "$(wc -l <"$T/whole")" -eq 33 ]
}
