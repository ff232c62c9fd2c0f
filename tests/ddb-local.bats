#!/usr/bin/env bats
# Against a real DynamoDB (AWS's DynamoDB Local, tests/lib/ddb-local, on
# 127.0.0.1): a table with a stream, every attribute type, its stream read
# with /usr/bin/aws (CLI v2) under three time zones and raw, through the
# pipeline. Then the Streams stand-in (tests/lib/streams-standin): its
# signature check and a scripted shard tree. One access key id throughout.

bats_require_minimum_version 1.5.0
load lib/ddb
load lib/parquet

F="$BATS_TEST_DIRNAME/fixtures/ddb-local"
TZS="UTC Asia/Kolkata America/Los_Angeles"

# read_stream ARN OUT FORM...: DynamoDB Local's one open shard from
# TRIM_HORIZON, read once per FORM (an env assignment such as TZ=UTC, or
# "-" for none) with the same iterator, page after page until an empty
# one, to OUT.FORM (FORM with / made -)
read_stream() {
	local arn=$1 out=$2 shard it first page form
	shift 2
	shard=$(ddb_aws dynamodbstreams describe-stream --stream-arn "$arn" \
		--query 'StreamDescription.Shards[].ShardId' --output text) || return
	[[ $shard =~ ^shardId-[0-9a-f-]+$ ]] || return
	first=$(ddb_aws dynamodbstreams get-shard-iterator --stream-arn "$arn" \
		--shard-id "$shard" --shard-iterator-type TRIM_HORIZON \
		--query ShardIterator --output text) || return
	for form; do
		it=$first
		while [ -n "$it" ]; do
			page=$([ "$form" = - ] || export "${form?}"
				ddb_aws dynamodbstreams get-records --shard-iterator "$it") || return
			[ "$(jq '.Records | length' <<<"$page")" -gt 0 ] || break
			printf '%s\n' "$page" >>"$out.${form//\//-}"
			it=$(jq -r '.NextShardIterator // empty' <<<"$page")
		done
	done
}

setup_file() {
	ddb_local_up
	local d=$BATS_FILE_TMPDIR arn tz
	# the table is "student", as in issue 11; this file's key id is its
	# own database, so the name is free
	arn=$(ddb_aws dynamodb create-table --table-name student \
		--attribute-definitions AttributeName=id,AttributeType=N \
		--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
		--query TableDescription.LatestStreamArn --output text)
	ddb_aws dynamodb put-item --table-name student --item "file://$F/item1.json"
	ddb_aws dynamodb put-item --table-name student --item "file://$F/item2.json"
	ddb_aws dynamodb update-item --table-name student --key '{"id":{"N":"1"}}' \
		--update-expression 'SET fname = :f REMOVE bo' \
		--expression-attribute-values '{":f":{"S":"Gaurav"}}'
	ddb_aws dynamodb delete-item --table-name student \
		--key '{"id":{"N":"12345678901234567890123456789012345678"}}'
	printf '[default]\ncli_timestamp_format = wire\n' >"$d/wire.config"
	read_stream "$arn" "$d/out" AWS_CONFIG_FILE="$d/wire.config" TZ=UTC \
		TZ=Asia/Kolkata TZ=America/Los_Angeles
	mv "$d/out.AWS_CONFIG_FILE=${d//\//-}-wire.config" "$d/raw.json"
	for tz in $TZS; do
		mv "$d/out.TZ=${tz//\//-}" "$d/out.${tz//\//-}.json"
	done
	echo "$arn" >"$d/arn"
}

teardown() {
	streams_stop
}

@test "ddb-local: listens on 127.0.0.1 only, on the port it printed" {
	[[ $DDB_ENDPOINT =~ ^http://127\.0\.0\.1:([0-9]+)$ ]]
	local port hex pid inodes
	port=${BASH_REMATCH[1]}
	printf -v hex '%04X' "$port"
	pid=$(cat "$DDB_LOCAL_DIR/pid")
	inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' | tr -cd '0-9\n')
	# every listening socket of the JVM (state 0A), IPv4 or IPv6
	run awk -v inodes="$inodes" 'BEGIN { n = split(inodes, a, "\n");
		for (i = 1; i <= n; i++) want[a[i]] = 1 }
		$4 == "0A" && ($10 in want) { print $2 }' /proc/net/tcp /proc/net/tcp6
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	local addr
	for addr in $output; do
		[[ $addr == 0100007F:$hex || $addr == 0000000000000000FFFF00000100007F:$hex ]]
	done
}

@test "ddb-local: stream records of every attribute type, as DynamoDB Local writes them" {
	local d=$BATS_FILE_TMPDIR
	run jq -r '.Records[] | .eventName' "$d/raw.json"
	[ "$output" = $'INSERT\nINSERT\nMODIFY\nREMOVE' ]
	[[ $(cat "$d/arn") == arn:aws:dynamodb:ddblocal:000000000000:table/student/stream/* ]]
	# the raw form is epoch seconds; CLI v2's is ISO 8601 in local time
	run jq -r '.Records[0].dynamodb | [(.ApproximateCreationDateTime | type),
		(.SequenceNumber | length), (.NewImage | [.[] | keys[0]] | sort | unique | join(" "))]
		| @tsv' "$d/raw.json"
	[ "$output" = $'number\t21\tB BOOL BS L M N NS NULL S SS' ]
	run jq -r '.Records[0].dynamodb.ApproximateCreationDateTime' "$d/out.Asia-Kolkata.json"
	[[ $output =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\+05:30$ ]]
	run jq -r '.Records[0].dynamodb.ApproximateCreationDateTime' "$d/out.America-Los_Angeles.json"
	[[ $output =~ T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]-0[78]:00$ ]]
	run jq -r '.Records[0].dynamodb.ApproximateCreationDateTime' "$d/out.UTC.json"
	[[ $output =~ T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\+00:00$ ]]
	# the same records in every form but the time's text
	local tz strip='del(.Records[].dynamodb.ApproximateCreationDateTime, .NextShardIterator)'
	for tz in $TZS; do
		cmp <(jq -c "$strip" "$d/raw.json") <(jq -c "$strip" "$d/out.${tz//\//-}.json")
	done
}

@test "ddb-local: the raw records (epoch seconds) through the pipeline give the expected rows" {
	run --separate-stderr sh -c 'ddb-flatten -n student "$1" | ddb-expand | csv-emit' \
		sh "$BATS_FILE_TMPDIR/raw.json"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# created_at is the record's time: the last cell, a number here
	[ "$(sed 's/,[^,]*$//' <<<"$output")" = "$(cat "$F/student.csv")" ]
	[ "$(sed -n '2,$s/.*,//p' <<<"$output" | grep -cE '^[0-9]{10}(\.[0-9]+)?$')" -eq 5 ]
}

@test "ddb-local: the records as Parquet: DuckDB and hyparquet read csv-emit's cells, every type, 38 digits, B as base64" {
	local d=$BATS_FILE_TMPDIR
	ddb-flatten "$d/raw.json" | ddb-expand > "$BATS_TEST_TMPDIR/rows.ndjson"
	pq_same "" "" "$BATS_TEST_TMPDIR/rows.ndjson"
	pq_same "" "--compression snappy" "$BATS_TEST_TMPDIR/rows.ndjson"
	TZ=UTC ddb-flatten -n student "$d/out.UTC.json" | ddb-expand -U > "$BATS_TEST_TMPDIR/rows.ndjson"
	pq_same "" "--compression gzip" "$BATS_TEST_TMPDIR/rows.ndjson"
}

@test "issue 11: aws dynamodbstreams get-records (CLI v2) | ddb-flatten -n student | ddb-expand | csv-emit, in three time zones" {
	local d=$BATS_FILE_TMPDIR tz want
	want=$(ddb-flatten -n student "$d/raw.json" | ddb-expand | csv-emit | sed 's/,[^,]*$//')
	for tz in $TZS; do
		run --separate-stderr env TZ="$tz" sh -c \
			'ddb-flatten -n student "$1" | ddb-expand | csv-emit' sh "$d/out.${tz//\//-}.json"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		# identical rows but for created_at, which keeps the CLI's text
		[ "$(sed 's/,[^,]*$//' <<<"$output")" = "$want" ]
		[ "$(sed 's/,[^,]*$//' <<<"$output")" = "$(cat "$F/student.csv")" ]
		[ "$(sed -n '2,$s/.*,//p' <<<"$output" | sort -u)" = \
			"$(jq -r '.Records[].dynamodb.ApproximateCreationDateTime' "$d/out.${tz//\//-}.json" | sort -u)" ]
	done
}

@test "issue 11: ddb-expand -U makes the three time zones byte-identical, the same instants as the raw form" {
	local d=$BATS_FILE_TMPDIR tz want
	want=$(TZ=UTC ddb-flatten -n student "$d/out.UTC.json" | ddb-expand -U | csv-emit)
	[[ $(sed -n 2p <<<"$want") =~ ,20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$ ]]
	for tz in $TZS; do
		run --separate-stderr env TZ="$tz" sh -c \
			'ddb-flatten -n student "$1" | ddb-expand --utc-created-at | csv-emit' \
			sh "$d/out.${tz//\//-}.json"
		[ "$status" -eq 0 ]
		[ "$output" = "$want" ]
	done
	# the raw form's epoch seconds (1796156940.0) name the same instant:
	# -U writes its value, so the texts are the same (ddb-expand.1)
	run --separate-stderr sh -c 'ddb-flatten -n student "$1" | ddb-expand -U | csv-emit' \
		sh "$d/raw.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
}

@test "ddb-local quirk: an empty map is {} in stream records (GetItem: {\"M\":{}}), and ddb-flatten refuses it" {
	local t arn
	t=$(ddb_table quirk)
	arn=$(ddb_aws dynamodb create-table --table-name "$t" \
		--attribute-definitions AttributeName=id,AttributeType=N \
		--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE \
		--query TableDescription.LatestStreamArn --output text)
	ddb_aws dynamodb put-item --table-name "$t" --item "file://$F/empty-map.json"
	run ddb_aws dynamodb get-item --table-name "$t" --key '{"id":{"N":"3"}}' \
		--query Item.em --output json
	[ "$(jq -c . <<<"$output")" = '{"M":{}}' ]
	read_stream "$arn" "$BATS_TEST_TMPDIR/q" -
	mv "$BATS_TEST_TMPDIR/q.-" "$BATS_TEST_TMPDIR/q.json"
	[ "$(jq -c '.Records[0].dynamodb.NewImage.em' "$BATS_TEST_TMPDIR/q.json")" = '{}' ]
	# not one of the ten types: bad data, named by its path
	run --separate-stderr ddb-flatten "$BATS_TEST_TMPDIR/q.json"
	[ "$status" -eq 1 ]
	[[ $stderr == "ddb-flatten: "*"q.json:1: eventID "*": NewImage.em: "* ]]
}

# -- the Streams stand-in ------------------------------------------------

# tree.json: two generations, served in a scrambled order
@test "streams-standin: a wrong secret or key id is refused as AWS refuses it; the right one passes" {
	streams_start "$F/tree.json"
	local arn=arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000
	run --separate-stderr env AWS_SECRET_ACCESS_KEY=wrong /usr/bin/aws \
		--endpoint-url "$STREAMS_URL" dynamodbstreams describe-stream --stream-arn "$arn"
	[ "$status" -ne 0 ]
	[[ $stderr == *"An error occurred (InvalidSignatureException) when calling the DescribeStream operation: The request signature we calculated does not match the signature you provided."* ]]
	run --separate-stderr env AWS_ACCESS_KEY_ID=AKIDNOBODY /usr/bin/aws \
		--endpoint-url "$STREAMS_URL" dynamodbstreams describe-stream --stream-arn "$arn"
	[ "$status" -ne 0 ]
	[[ $stderr == *"(UnrecognizedClientException) when calling the DescribeStream operation: The security token included in the request is invalid."* ]]
	run --separate-stderr /usr/bin/aws --endpoint-url "$STREAMS_URL" \
		dynamodb describe-table --table-name student --query Table.LatestStreamArn --output text
	[ "$status" -eq 0 ]
	[ "$output" = "$arn" ]
	# curl's signer, a second one nobody here wrote
	streams_stop
	streams_start "$F/tree.json" -k AKIDSTANDIN -s standin-secret
	run streams_call AKIDSTANDIN:standin-secret DynamoDBStreams_20120810.ListStreams '{}'
	[ "${lines[-1]}" = "HTTP 200" ]
	[ "$(jq -r '.Streams[0].StreamArn' <<<"${lines[0]}")" = "$arn" ]
	run streams_call AKIDSTANDIN:standin-secreT DynamoDBStreams_20120810.ListStreams '{}'
	[ "${lines[-1]}" = "HTTP 400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = com.amazon.coral.service#InvalidSignatureException ]
	run jq -r '[.op, .status, .error // "-"] | @tsv' "$STREAMS_DIR/log"
	[ "$output" = $'ListStreams\t200\t-\nListStreams\t400\tInvalidSignatureException' ]
}

@test "streams-standin: a tree of two shard generations comes in DescribeStream pages of --limit 2" {
	streams_start "$F/tree.json"
	local arn=arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000
	local start= page all=
	while :; do
		page=$(/usr/bin/aws --endpoint-url "$STREAMS_URL" dynamodbstreams describe-stream \
			--stream-arn "$arn" --limit 2 ${start:+--exclusive-start-shard-id "$start"})
		all+=$(jq -r '.StreamDescription.Shards[] | [.ShardId, .ParentShardId // "-",
			.SequenceNumberRange.EndingSequenceNumber // "open"] | @tsv' <<<"$page")$'\n'
		start=$(jq -r '.StreamDescription.LastEvaluatedShardId // empty' <<<"$page")
		[ -n "$start" ] || break
	done
	diff - <(printf %s "$all") <<'EOF'
shardId-00000002000000000000-cccccccc	shardId-00000001000000000000-aaaaaaaa	open
shardId-00000001000000000000-aaaaaaaa	-	000000000000000000002
shardId-00000002000000000000-dddddddd	shardId-00000001000000000000-bbbbbbbb	open
shardId-00000001000000000000-bbbbbbbb	-	000000000000000000004
shardId-00000002000000000000-eeeeeeee	shardId-00000000000000000000-gone0000	open
EOF
	# three requests, each logged with where it started and what it served
	run jq -r 'select(.op == "DescribeStream") | [.start // "-", .limit,
		(.shards | length), .lastEvaluated // "-"] | @tsv' "$STREAMS_DIR/log"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = $'-\t2\t2\tshardId-00000001000000000000-aaaaaaaa' ]
	[ "${lines[1]}" = $'shardId-00000001000000000000-aaaaaaaa\t2\t2\tshardId-00000001000000000000-bbbbbbbb' ]
	[ "${lines[2]}" = $'shardId-00000001000000000000-bbbbbbbb\t2\t1\t-' ]
}

@test "streams-standin: empty pages, a closed shard's end, throttling, expiry, trimmed data, 5xx" {
	streams_start "$F/tree.json" -k AKIDSTANDIN -s standin-secret -x 8
	local k=AKIDSTANDIN:standin-secret P=DynamoDBStreams_20120810
	local arn=arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000
	local a=shardId-00000001000000000000-aaaaaaaa it
	# tree.json: shard a is closed, pages [0, 1] over its 2 records,
	# the 2nd GetRecords on it is throttled (LimitExceededException)
	run streams_call $k $P.GetShardIterator \
		"{\"StreamArn\":\"$arn\",\"ShardId\":\"$a\",\"ShardIteratorType\":\"TRIM_HORIZON\"}"
	it=$(jq -r .ShardIterator <<<"${lines[0]}")
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\"}"
	[ "${lines[-1]}" = "HTTP 200" ]
	[ "$(jq -c '[(.Records | length), (.NextShardIterator != null)]' <<<"${lines[0]}")" = '[0,true]' ]
	it=$(jq -r .NextShardIterator <<<"${lines[0]}")
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\"}"
	[ "${lines[-1]}" = "HTTP 400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = com.amazonaws.dynamodb.v20120810#LimitExceededException ]
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\"}"
	[ "$(jq -c '[(.Records | length), (.NextShardIterator != null)]' <<<"${lines[0]}")" = '[1,true]' ]
	it=$(jq -r .NextShardIterator <<<"${lines[0]}")
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\"}"
	[ "$(jq -c '[.Records[].dynamodb.SequenceNumber, (.NextShardIterator != null)]' <<<"${lines[0]}")" = '["000000000000000000002",false]' ]
	# trimmed: shard b's first record is gone
	run streams_call $k $P.GetShardIterator \
		"{\"StreamArn\":\"$arn\",\"ShardId\":\"shardId-00000001000000000000-bbbbbbbb\",\"ShardIteratorType\":\"AT_SEQUENCE_NUMBER\",\"SequenceNumber\":\"000000000000000000003\"}"
	[ "${lines[-1]}" = "HTTP 400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException ]
	# 5xx: the 1st GetShardIterator on shard c
	run streams_call $k $P.GetShardIterator \
		"{\"StreamArn\":\"$arn\",\"ShardId\":\"shardId-00000002000000000000-cccccccc\",\"ShardIteratorType\":\"LATEST\"}"
	[ "${lines[-1]}" = "HTTP 500" ]
	run streams_call $k $P.GetShardIterator \
		"{\"StreamArn\":\"$arn\",\"ShardId\":\"shardId-00000002000000000000-cccccccc\",\"ShardIteratorType\":\"LATEST\"}"
	[ "${lines[-1]}" = "HTTP 200" ]
	# an iterator older than -x 8 seconds has expired (8: the calls before
	# take seconds on a loaded machine, and must not see theirs expire)
	it=$(jq -r .ShardIterator <<<"${lines[0]}")
	sleep 8.5
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\"}"
	[ "${lines[-1]}" = "HTTP 400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = com.amazonaws.dynamodb.v20120810#ExpiredIteratorException ]
	# the log names shard, iterator and what each answer was
	run jq -r 'select(.op == "GetRecords") | [.shard, .iterator, .status,
		.error // "-", .records // "-", .next // "-"] | @tsv' "$STREAMS_DIR/log"
	[ "${lines[0]}" = "$a"$'\tit1\t200\t-\t0\tit2' ]
	[ "${lines[1]}" = "$a"$'\tit2\t400\tLimitExceededException\t-\t-' ]
	[ "${lines[2]}" = "$a"$'\tit2\t200\t-\t1\tit3' ]
	[ "${lines[3]}" = "$a"$'\tit3\t200\t-\t1\t-' ]
	[[ ${lines[4]} == shardId-00000002000000000000-cccccccc$'\t'it*$'\t400\tExpiredIteratorException\t-\t-' ]]
	# shard c's parent a was read to its end before c's iterator: not early
	[ "$(jq -r 'select(.op == "GetShardIterator" and .status == 200) | .early // false' "$STREAMS_DIR/log" | sort -u)" = false ]
}

@test "streams-standin: a page stops short of 1 MB; GetRecords Limit is honoured" {
	cat >"$BATS_TEST_TMPDIR/big.json" <<'EOF'
{"table": "big", "shards": [{"id": "shardId-00000001000000000000-bigbigbi",
  "closed": true, "generate": {"count": 40, "pad": 100000}}]}
EOF
	streams_start "$BATS_TEST_TMPDIR/big.json" -k AKIDSTANDIN -s standin-secret
	local k=AKIDSTANDIN:standin-secret P=DynamoDBStreams_20120810 it n=0 sizes=
	local arn=arn:aws:dynamodb:us-east-1:000000000000:table/big/stream/2026-12-01T00:00:00.000
	run streams_call $k $P.GetShardIterator \
		"{\"StreamArn\":\"$arn\",\"ShardId\":\"shardId-00000001000000000000-bigbigbi\",\"ShardIteratorType\":\"TRIM_HORIZON\"}"
	it=$(jq -r .ShardIterator <<<"${lines[0]}")
	while [ -n "$it" ]; do
		streams_call $k $P.GetRecords "{\"ShardIterator\":\"$it\",\"Limit\":15}" \
			>"$BATS_TEST_TMPDIR/page"
		sizes+="$(head -n 1 "$BATS_TEST_TMPDIR/page" | jq '.Records | length') "
		it=$(head -n 1 "$BATS_TEST_TMPDIR/page" | jq -r '.NextShardIterator // empty')
		n=$((n + 1))
		[ $n -lt 10 ]
	done
	# Limit 15, but ten records of 100 KB make a page of just under 1 MB
	[ "$sizes" = "10 10 10 10 " ]
	[ "$(jq -s 'map(select(.op == "GetRecords") | .bytes) | max < 1048576' "$STREAMS_DIR/log")" = true ]
	run streams_call $k $P.GetRecords "{\"ShardIterator\":\"x\",\"Limit\":1001}"
	[ "${lines[-1]}" = "HTTP 400" ]
	[[ $(jq -r .message <<<"${lines[0]}") == *"'limit' failed to satisfy constraint: Member must have value between 1 and 1000" ]]
}
