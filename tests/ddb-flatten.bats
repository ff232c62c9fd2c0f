#!/usr/bin/env bats
# ddb-flatten: stream records in, one unmarshalled record per line out

bats_require_minimum_version 1.5.0
load lib/tool

F="$BATS_TEST_DIRNAME/fixtures"
D="$F/ddb-flatten"

# says STATUS MESSAGE ARGS...: ddb-flatten ARGS exits STATUS, and its
# stderr is MESSAGE exactly
says() {
	tool_says ddb-flatten "$@"
}

# ddb-flatten FILE (from the fixture folder) gives GOLDEN on stdout, exit 0
golden() {
	local in=$1 exp=$2
	shift 2
	says 0 "" "$@" "$D/$in"
	diff -u "$D/$exp" <(printf '%s\n' "$output")
}

# a bad input file: exit 1, nothing on stdout, exactly this message
refused() {
	tool_refuses ddb-flatten "ddb-flatten: $D/$1:$2" "$D/$1"
}

# cut_short FILE START MESSAGE: a fixture FILE with one good value and then
# a bad one: exit 1, the good value's line (starting with START) on stdout,
# exactly this message
cut_short() {
	local in=$1 start=$2 msg=$3
	run --separate-stderr ddb-flatten "$D/$in"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "$start"* ]]
	[ "$stderr" = "ddb-flatten: $D/$in:$msg" ]
}

@test "ddb-flatten: the seed's sample event as JSON" {
	run --separate-stderr ddb-flatten "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/seed.out")" ]
}

@test "ddb-flatten: the seed's sample event as Python repr gives the same line" {
	run --separate-stderr ddb-flatten "$F/seed-sample.py.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/seed.out")" ]
}

@test "ddb-flatten: reads stdin, with no argument and with -" {
	run --separate-stderr ddb-flatten <"$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/seed.out")" ]
	run --separate-stderr ddb-flatten - <"$F/seed-sample.py.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/seed.out")" ]
}

@test "ddb-flatten: several files in order" {
	run --separate-stderr ddb-flatten "$F/seed-sample.json" "$D/concat.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$D/seed.out" "$D/concat.out")" ]
}

@test "ddb-flatten: get-records output with several records, no ARN, no tableName" {
	golden get-records.json get-records.out
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" != *tableName* ]]
}

@test "ddb-flatten: NDJSON of single records; a present tableName is kept in place" {
	golden records.ndjson records.out
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[4]}" == '{"eventID":"r5","eventName":"INSERT","tableName":"Orders-Archive",'* ]]
	[[ "${lines[4]}" == *'"eventSourceARN":"arn:aws:dynamodb:us-east-1:381491882333:table/orders/stream/2024-07-10T15:55:45.474"}' ]]
}

@test "ddb-flatten: concatenated pretty-printed events; tableName appended from the ARN" {
	golden concat.json concat.out
	[[ "${lines[2]}" == *',"tableName":"t2"}' ]]
}

@test "ddb-flatten: all ten types, nested M and L, sets, order kept" {
	golden types.json types.out
}

@test "ddb-flatten: \\u0000 in a string survives and / is not escaped" {
	golden types.json types.out
	[[ "$output" == *'"s":"a\u0000b \"q\" \\ café 😀 tab\there"'* ]]
	[[ "$output" == *'"pk":"k/1"'* ]]
	[[ "$output" != *'\/'* ]]
}

@test "ddb-flatten: numbers keep DynamoDB's exact text, in N, NS, M and L" {
	golden numbers.json numbers.out
	[[ "$output" == *'"id":12345678901234567890123456789012345678,'* ]]
	[[ "$output" == *'"max":9.9999999999999999999999999999999999999E+125,'* ]]
	[[ "$output" == *'"min":-1E-130,'* ]]
	[[ "$output" == *'"ns":[12345678901234567890123456789012345678,9.9999999999999999999999999999999999999E+125,-1E-130]'* ]]
	[[ "$output" == *'"m":{"big":-12345678901234567890123456789012345678,"e":9.9999999999999999999999999999999999999E+125}'* ]]
	[[ "$output" == *'"l":[12345678901234567890123456789012345678,-1E-130,[-9.9999999999999999999999999999999999999E+125]]'* ]]
}

@test "ddb-flatten: 32 levels of M and L convert" {
	golden deep32.json deep32.out
}

@test "ddb-flatten: 33 levels of M and L are refused" {
	refused deep33.json "1: eventID d33: NewImage.x$(printf '.a[0]%.0s' $(seq 16)): M nested deeper than 32 levels"
}

@test "ddb-flatten: -t keeps one table" {
	golden records.ndjson table-users.out -t users
	[ "${#lines[@]}" -eq 3 ]
}

@test "ddb-flatten: -t takes comma lists, the record's own tableName counts" {
	golden records.ndjson table-orders.out -t orders,Orders-Archive
	golden records.ndjson table-orders.out --table orders --table Orders-Archive
	[ "${#lines[@]}" -eq 2 ]
}

@test "ddb-flatten: -t drops records with no known table" {
	run --separate-stderr ddb-flatten -t books "$D/get-records.json"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "ddb-flatten: -e keeps event names, in any case, lists and repeats" {
	golden records.ndjson event-insert-modify.out -e MODIFY,insert
	golden records.ndjson event-insert-modify.out --event INSERT -e modify
	[ "${#lines[@]}" -eq 3 ]
}

@test "ddb-flatten: -e and -t together" {
	run --separate-stderr ddb-flatten -e REMOVE -t users "$D/records.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(sed -n '3,4p' "$D/records.out")" ]
}

@test "ddb-flatten: -T drops TTL expiry deletes only" {
	golden records.ndjson no-ttl.out -T
	golden records.ndjson no-ttl.out --no-ttl
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" != *'"eventID":"r3"'* ]]
	[[ "$output" == *'"eventID":"r4"'* ]]
}

@test "ddb-flatten: invalid JSON" {
	refused bad-json.json "3: invalid JSON: unexpected character"
}

@test "ddb-flatten: truncated input, values before it still written" {
	cut_short truncated.json '{"eventID":"ok1",' "5: input ends inside the value that starts on line 2"
}

@test "ddb-flatten: values that are not an event or a record" {
	refused not-event.json "1: not a stream event or record (an object without Records, eventName, dynamodb, kinesis, Data, Item or Metadata)
ddb-flatten: $D/not-event.json:2: not a stream event or record (an array)
ddb-flatten: $D/not-event.json:3: not a stream event or record (a string)
ddb-flatten: $D/not-event.json:4: Records is an object, not an array
ddb-flatten: $D/not-event.json:5: Records[0]: record is a number, not an object" ]
}

@test "ddb-flatten: a record without dynamodb" {
	says 1 "ddb-flatten: <stdin>:1: eventID x1: record has no dynamodb object" <<<'{"eventID":"x1","eventName":"INSERT"}'
}

@test "ddb-flatten: unknown eventName" {
	refused bad-eventname.json '1: eventID ev1: unknown eventName "UPSERT"'
}

@test "ddb-flatten: unknown type descriptor" {
	refused bad-type.json '1: eventID ty1: NewImage.price: unknown type descriptor "D"'
}

@test "ddb-flatten: a typed value with two keys, or none" {
	refused two-keys.json '1: eventID tk1: NewImage.price: typed value has 2 keys, not 1: "S", "N"'
	says 1 "ddb-flatten: <stdin>:1: Keys.a: typed value has 0 keys, not 1" <<<'{"eventName":"INSERT","dynamodb":{"Keys":{"a":{}}}}'
}

@test "ddb-flatten: a typed value that is not an object" {
	says 1 "ddb-flatten: <stdin>:1: OldImage.a: typed value is a string, not an object" <<<'{"eventName":"REMOVE","dynamodb":{"OldImage":{"a":"plain"}}}'
}

@test "ddb-flatten: an image that is not an object" {
	says 1 "ddb-flatten: <stdin>:1: NewImage: item is an array, not an object" <<<'{"eventName":"INSERT","dynamodb":{"NewImage":[]}}'
}

@test "ddb-flatten: N not a number, on the line of its value" {
	cut_short bad-n.json '{"eventID":"ok2",' "2: eventID bn1: NewImage.price: N value is not a number"
}

@test "ddb-flatten: SS, NS, BS that are not arrays" {
	refused ss-not-array.json '1: eventID ss1: NewImage.tags: SS value is a string, not an array'
	refused ns-not-array.json '1: eventID ns1: NewImage.nums: NS value is a string, not an array'
	refused bs-not-array.json '1: eventID bs1: NewImage.blobs: BS value is an object, not an array'
}

@test "ddb-flatten: an NS element that is not a number" {
	refused ns-element.json '1: eventID ne1: NewImage.m.nums[1]: NS element is not a number'
}

@test "ddb-flatten: a set element that is not a string" {
	says 1 "ddb-flatten: <stdin>:1: Keys.s[1]: SS element is a number, not a string" <<<'{"eventName":"INSERT","dynamodb":{"Keys":{"s":{"SS":["a",1]}}}}'
}

@test "ddb-flatten: NULL that is not true" {
	refused null-false.json '1: eventID nf1: NewImage.gone: NULL value is false, not true'
}

@test "ddb-flatten: BOOL that is not a boolean" {
	refused bool-string.json '1: eventID bo1: NewImage.flag: BOOL value is a string, not a boolean'
}

@test "ddb-flatten: S, M and L of the wrong JSON type" {
	says 1 "ddb-flatten: <stdin>:1: Keys.s: S value is a number, not a string
ddb-flatten: <stdin>:2: Keys.m: M value is an array, not an object
ddb-flatten: <stdin>:3: Keys.l: L value is an object, not an array" <<<'{"eventName":"INSERT","dynamodb":{"Keys":{"s":{"S":1}}}}
{"eventName":"INSERT","dynamodb":{"Keys":{"m":{"M":[]}}}}
{"eventName":"INSERT","dynamodb":{"Keys":{"l":{"L":{}}}}}'
}

@test "ddb-flatten: an ARN that is not a DynamoDB stream's" {
	says 1 'ddb-flatten: <stdin>:1: eventID a1: eventSourceARN is not a DynamoDB stream ARN: "arn:aws:sqs:us-east-1:1:q"' <<<'{"eventID":"a1","eventName":"INSERT","dynamodb":{},"eventSourceARN":"arn:aws:sqs:us-east-1:1:q"}'
}

@test "ddb-flatten: a bad record drops its whole event, not the others" {
	run --separate-stderr ddb-flatten "$D/partial.json"
	[ "$status" -eq 1 ]
	[ "$output" = "$(cat "$D/partial.out")" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == '{"eventID":"p1",'* ]]
	[[ "${lines[1]}" == '{"eventID":"p5",'* ]]
	[ "$stderr" = "ddb-flatten: $D/partial.json:2: eventID p3: NewImage.v: N value is not a number" ]
}

@test "ddb-flatten: -s stops at the first bad value" {
	run --separate-stderr ddb-flatten -s "$D/partial.json" "$D/concat.json"
	[ "$status" -eq 1 ]
	[ "$output" = "$(head -n 1 "$D/partial.out")" ]
	[ "$stderr" = "ddb-flatten: $D/partial.json:2: eventID p3: NewImage.v: N value is not a number" ]
	run --separate-stderr ddb-flatten --stop "$D/partial.json"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "ddb-flatten: a missing file is exit 3, the other files still run" {
	run --separate-stderr ddb-flatten "$D/no-such-file.json" "$F/seed-sample.json"
	[ "$status" -eq 3 ]
	[ "$output" = "$(cat "$D/seed.out")" ]
	[ "$stderr" = "ddb-flatten: $D/no-such-file.json: No such file or directory" ]
}

@test "ddb-flatten: a write error is exit 3" {
	[ -w /dev/full ] || skip "no /dev/full"
	full_disk ddb-flatten "$F/seed-sample.json"
}

@test "ddb-flatten: --help and -h go to stdout, exit 0" {
	run --separate-stderr ddb-flatten --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ddb-flatten "* ]]
	[ "$stderr" = "" ]
	run --separate-stderr ddb-flatten -h
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ddb-flatten "* ]]
}

@test "ddb-flatten: --version and -V" {
	run --separate-stderr ddb-flatten --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ddb-flatten\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run --separate-stderr ddb-flatten -V
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ddb-flatten\  ]]
}

@test "ddb-flatten: a bad option is exit 2 with usage on stderr" {
	run --separate-stderr ddb-flatten --bogus
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "ddb-flatten: unrecognized option '--bogus'"$'\n'"usage: ddb-flatten "* ]]
}

@test "ddb-flatten: an unknown -e name is exit 2" {
	run --separate-stderr ddb-flatten -e UPDATE "$D/records.ndjson"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "ddb-flatten: unknown event name 'UPDATE' (INSERT, MODIFY or REMOVE)"$'\n'"usage: "* ]]
}

@test "ddb-flatten: an empty -t is exit 2" {
	run --separate-stderr ddb-flatten -t , "$D/records.ndjson"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-flatten: -t needs a table name"$'\n'"usage: "* ]]
}

@test "ddb-flatten: -S writes one file per table and a summary line each" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	says 0 "" -S "$dir" "$D/records.ndjson"
	diff -u "$D/split-summary.out" <(printf '%s\n' "$output")
	diff -u "$D/table-users.out" "$dir/1.ndjson"
	diff -u <(ddb-flatten -t orders "$D/records.ndjson") "$dir/2.ndjson"
	diff -u <(ddb-flatten -t Orders-Archive "$D/records.ndjson") \
	    "$dir/3.ndjson"
	[ "$(stat -c %a "$dir/1.ndjson")" = 600 ]
	[ "$(ls "$dir" | wc -l)" -eq 3 ]
}

# the summary's HASH and FIRST_ID, recomputed with sha256sum
check_hashes() {
	local dir=$1 summary=$2 idx table nrec fseq lseq ftime fid hash
	while IFS=$'\t' read -r idx table nrec fseq lseq ftime fid hash; do
		[ "$hash" = "$(sha256sum <"$dir/$idx.ndjson" | cut -c1-16)" ]
		[ "$nrec" -eq "$(wc -l <"$dir/$idx.ndjson")" ]
		if [ "$fseq" = - ]; then
			[ "$fid" = "h$(head -n 1 "$dir/$idx.ndjson" | tr -d '\n' |
			    sha256sum | cut -c1-16)" ]
		else
			[ "$fid" = "$fseq" ]
		fi
	done <"$summary"
}

@test "ddb-flatten: -S summary: INDEX TABLE RECORDS FIRST_SEQ LAST_SEQ FIRST_TIME FIRST_ID HASH" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	ddb-flatten -S "$dir" "$D/records.ndjson" >"$BATS_TEST_TMPDIR/sum"
	[ "$(awk -F '\t' '{ print NF }' "$BATS_TEST_TMPDIR/sum" | sort -u)" = 8 ]
	check_hashes "$dir" "$BATS_TEST_TMPDIR/sum"
}

@test "ddb-flatten: -S FIRST_TIME in UTC from seconds, Kinesis ms and µs, ISO 8601 with offsets" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	says 0 "" -S "$dir" "$D/split-times.ndjson"
	diff -u "$D/split-times.out" <(printf '%s\n' "$output")
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/sum"
	check_hashes "$dir" "$BATS_TEST_TMPDIR/sum"
	# the same whatever the local time zone
	for tz in Asia/Kolkata America/Los_Angeles UTC; do
		rm -f "$dir"/*
		run --separate-stderr env TZ=$tz ddb-flatten -S "$dir" \
		    "$D/split-times.ndjson"
		[ "$status" -eq 0 ]
		diff -u "$D/split-times.out" <(printf '%s\n' "$output")
	done
}

# one record for -S with this ApproximateCreationDateTime (JSON text)
time_record() {
	printf '{"eventID":"t1","eventName":"INSERT","tableName":"times","dynamodb":{"ApproximateCreationDateTime":%s,"Keys":{"id":{"S":"a"}}}}\n' "$1"
}

@test "ddb-flatten: -S refuses an ApproximateCreationDateTime it cannot read or out of 1970..9999" {
	local dir="$BATS_TEST_TMPDIR/split" t
	mkdir "$dir"
	for t in 99999999999999999 253402300800 -1 '"2024-07-10 16:44:23"' \
	    '"2024-07-10T16:44:23"' '"1970-01-01T00:30:00+01:00"' \
	    '"2023-02-29T00:00:00Z"' true '"1720629863"'; do
		run --separate-stderr ddb-flatten -S "$dir" <<<"$(time_record "$t")"
		[ "$status" -eq 1 ]
		[ "$output" = "" ]
		case $t in
		99999999999999999|253402300800|'"1970'*)
			[ "$stderr" = "ddb-flatten: <stdin>:1: eventID t1: dynamodb.ApproximateCreationDateTime is out of range (years 1970 to 9999)" ] ;;
		*)
			[ "$stderr" = "ddb-flatten: <stdin>:1: eventID t1: dynamodb.ApproximateCreationDateTime is not epoch seconds, milliseconds (13 digits), microseconds (16 digits) or ISO 8601 with Z or an offset" ] ;;
		esac
	done
	[ "$(ls "$dir" | wc -l)" -eq 0 ]
	# the ends of the range
	run ddb-flatten -S "$dir" <<<"$(time_record 0; time_record '"9999-12-31T23:59:59Z"' | sed s/times/times2/)"
	[ "$status" -eq 0 ]
	[ "$(cut -f 6 <<<"$output")" = "19700101T000000Z"$'\n'"99991231T235959Z" ]
}

@test "ddb-flatten: -S with table names of 249 to 255 characters" {
	local dir="$BATS_TEST_TMPDIR/split" n name
	mkdir "$dir"
	for n in 249 250 255; do
		name=$(printf "%${n}s" "" | tr ' ' 'T')
		printf '{"eventID":"e%s","eventName":"INSERT","tableName":"%s","dynamodb":{"Keys":{"id":{"S":"a"}}}}\n' "$n" "$name"
	done >"$BATS_TEST_TMPDIR/long.ndjson"
	says 0 "" -S "$dir" "$BATS_TEST_TMPDIR/long.ndjson"
	[ "$(cut -f 1 <<<"$output" | tr '\n' ' ')" = "1 2 3 " ]
	[ "$(cut -f 2 <<<"$output" | awk '{ print length }' | tr '\n' ' ')" = "249 250 255 " ]
	[ "$(ls "$dir" | tr '\n' ' ')" = "1.ndjson 2.ndjson 3.ndjson " ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/sum"
	check_hashes "$dir" "$BATS_TEST_TMPDIR/sum"
	# 256 is one too many
	name=$(printf "%256s" "" | tr ' ' 'T')
	says 1 "ddb-flatten: <stdin>:1: tableName is not a DynamoDB table name" -S "$dir" <<<"{\"eventName\":\"INSERT\",\"tableName\":\"$name\",\"dynamodb\":{}}"
}

@test "ddb-flatten: a SequenceNumber that is not 21 to 40 digits is bad data, with or without -S" {
	local dir="$BATS_TEST_TMPDIR/split" seq opt
	mkdir "$dir"
	for seq in '"5\t5\t1\ndef\t1\t666"' '"12345678901234567890"' \
	    '"12345678901234567890123456789012345678901"' \
	    '"1234567890123456789a1"' 123456789012345678901 '"a/b"'; do
		for opt in -S ''; do
			tool_refuses ddb-flatten "ddb-flatten: <stdin>:1: eventID q1: dynamodb.SequenceNumber is not 21 to 40 decimal digits" ${opt:+-S "$dir"} <<<"{\"eventID\":\"q1\",\"eventName\":\"INSERT\",\"tableName\":\"forged\",\"dynamodb\":{\"SequenceNumber\":$seq,\"Keys\":{\"id\":{\"S\":\"a\"}}}}"
		done
	done
	[ "$(ls "$dir" | wc -l)" -eq 0 ]
}

@test "ddb-flatten: -S refuses a record without a table name, -n gives one" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	run --separate-stderr ddb-flatten -S "$dir" "$D/get-records.json"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "ddb-flatten: $D/get-records.json:1: eventID c81e728d9d4c2f636f067f89cc14862c: record has no table name (no tableName or eventSourceARN; see -n)" ]
	run --separate-stderr ddb-flatten -n books --split "$dir" "$D/get-records.json"
	[ "$status" -eq 0 ]
	diff -u "$D/split-books.out" <(printf '%s\n' "$output")
	[ "$(head -c 120 "$dir/1.ndjson")" = "$(ddb-flatten --table-name books "$D/get-records.json" | head -c 120)" ]
	ddb-flatten -n books "$D/get-records.json" | grep -c '"tableName":"books"}$' | grep -qx 3
}

@test "ddb-flatten: -S refuses a tableName that is no DynamoDB table name" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	says 1 "ddb-flatten: $D/split-badname.json:1: tableName is not a DynamoDB table name" -S "$dir" "$D/split-badname.json"
	[ "$(ls "$dir" | wc -l)" -eq 0 ]
}

@test "ddb-flatten: -n with a name DynamoDB would refuse is exit 2" {
	run --separate-stderr ddb-flatten -n 'a/b' "$D/get-records.json"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-flatten: -n: 'a/b' is not a DynamoDB table name" ]
}

@test "ddb-flatten: -S into a directory that does not exist is exit 3" {
	says 3 "ddb-flatten: $BATS_TEST_TMPDIR/nope/1.ndjson: No such file or directory" -S "$BATS_TEST_TMPDIR/nope" "$D/records.ndjson"
}

# --- other sources: Kinesis Data Streams for DynamoDB, DynamoDB exports ---
# (fixtures in sources/, built from AWS's documented formats; make-fixtures
# there rebuilds the base64 and gzip ones)
X="$F/sources"

# xgolden GOLDEN ARGS...: ddb-flatten ARGS gives sources/GOLDEN, exit 0
xgolden() {
	local exp=$1
	shift
	says 0 "" "$@"
	diff -u "$X/$exp" <(printf '%s\n' "$output")
}

# summary_is LINE ARGS...: ddb-flatten -S "$dir" ARGS exits 0, and its
# summary is LINE (a printf format)
summary_is() {
	local line=$1
	shift
	run --separate-stderr ddb-flatten -S "$dir" "$@"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf "$line")" ]
}

# xrefused STATUS MESSAGE ARGS...: nothing on stdout, exactly this message
xrefused() {
	local want=$1 msg=$2
	shift 2
	run --separate-stderr ddb-flatten "$@"
	[ "$status" -eq "$want" ]
	[ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "$msg" ]
}

@test "ddb-flatten: Kinesis: Lambda's Kinesis event, each record's data decoded, its sequenceNumber kept under kinesis" {
	xgolden kinesis-lambda.out "$X/kinesis-lambda.json"
	[ "$(ddb-flatten "$X/kinesis-lambda.json" | jq -r '.kinesis.sequenceNumber | length' | sort -u)" = 56 ]
	ddb-flatten "$X/kinesis-lambda.json" | jq -e 'has("kinesis") and (.kinesis | has("data") | not)' >/dev/null
}

@test "ddb-flatten: Kinesis: the decoded records themselves (tableName, recordFormat, no SequenceNumber)" {
	xgolden kinesis-records.out "$X/kinesis-records.ndjson"
	# the same lines as from the Lambda event, but for the kinesis member
	diff -u "$X/kinesis-records.out" <(ddb-flatten "$X/kinesis-lambda.json" | sed 's/,"kinesis":{[^{}]*}}$/}/')
}

@test "ddb-flatten: Kinesis: -T drops the TTL delete (userIdentity Service, dynamodb.amazonaws.com)" {
	xgolden kinesis-no-ttl.out -T "$X/kinesis-lambda.json"
	[ "$(ddb-flatten -T "$X/kinesis-records.ndjson" | wc -l)" -eq 2 ]
}

@test "ddb-flatten: Kinesis: -S takes FIRST_SEQ, LAST_SEQ and FIRST_ID from kinesis.sequenceNumber; without it, h and the hash" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	summary_is '1\tstudent\t3\t49590338271490256608559692538361571095921575989136588891\t49590338271490256608559692538361571095921575989136588893\t20240710T164423Z\t49590338271490256608559692538361571095921575989136588891\t16b2b1a4775de62d' "$X/kinesis-lambda.json"
	diff -u "$X/kinesis-lambda.out" "$dir/1.ndjson"
	summary_is '1\tstudent\t3\t-\t-\t20240710T164423Z\th8db841e58bb90c49\tab7e7ad231045cac' "$X/kinesis-records.ndjson"
}

@test "ddb-flatten: Kinesis: data that is not base64 is bad data naming the record, never the value" {
	xrefused 1 "ddb-flatten: $X/kinesis-bad-base64.json:1: eventID shardId-000000000000:49590338271490256608559692538361571095921575989136588891: kinesis.data is not valid base64" "$X/kinesis-bad-base64.json"
	[[ "$stderr" != *yJ* ]]
	# whitespace, a missing '=', bits past the end: all refused
	for d in 'e30 =' 'e30' 'e31=' 'e3=0'; do
		says 1 "ddb-flatten: <stdin>:1: eventID k1: kinesis.data is not valid base64" <<<"{\"Records\":[{\"eventID\":\"k1\",\"kinesis\":{\"data\":\"$d\"}}]}"
	done
}

@test "ddb-flatten: Kinesis: data that decodes to no JSON record, and a bad sequenceNumber, are bad data" {
	xrefused 1 "ddb-flatten: <stdin>:1: eventID k1: kinesis.data decodes to no JSON record (invalid JSON: unexpected character at byte 0)" \
	    <<<'{"Records":[{"eventID":"k1","kinesis":{"sequenceNumber":"1","data":"bm90IGpzb24="}}]}'
	xrefused 1 "ddb-flatten: <stdin>:1: eventID k1: kinesis.data decodes to an array, not a record" \
	    <<<'{"Records":[{"eventID":"k1","kinesis":{"data":"W10="}}]}'
	for s in 01 12a "" 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890; do
		xrefused 1 "ddb-flatten: <stdin>:1: eventID k1: kinesis.sequenceNumber is not a Kinesis sequence number (0, or 1 to 129 digits without a leading 0)" \
		    <<<"{\"Records\":[{\"eventID\":\"k1\",\"kinesis\":{\"sequenceNumber\":\"$s\",\"data\":\"e30=\"}}]}"
	done
}

@test "ddb-flatten: Kinesis: aws kinesis get-records output (CLI v2): Data decoded, SequenceNumber and the rest under kinesis as Lambda names them" {
	xgolden kinesis-get-records.out "$X/kinesis-get-records.json"
	# the decoded records, each with the Kinesis record's members but Data
	diff -u "$X/kinesis-records.out" <(sed 's/,"kinesis":{[^{}]*}}$/}/' "$X/kinesis-get-records.out")
	[ "$(jq -c .kinesis "$X/kinesis-get-records.out" | sed -n 2p)" = '{"sequenceNumber":"49590338271490256608559692538361571095921575989136588892","approximateArrivalTimestamp":"2024-07-10T22:14:26.002000+05:30","partitionKey":"B4D3C1A2F0E9D8C7B6A5948372615049","encryptionType":"KMS"}' ]
	# one Record alone (jq -c '.Records[]') reads the same
	diff -u "$X/kinesis-get-records.out" <(jq -c '.Records[]' "$X/kinesis-get-records.json" | ddb-flatten)
	# the TTL delete is known by its decoded userIdentity here too
	[ "$(ddb-flatten -T "$X/kinesis-get-records.json" | jq -r .eventName | tr '\n' ' ')" = "INSERT MODIFY " ]
	# a page with no records (a shard read at its tip): nothing, exit 0
	run --separate-stderr ddb-flatten <<<'{"Records":[],"NextShardIterator":"AAAA","MillisBehindLatest":0}'
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$stderr" = "" ]
}

@test "ddb-flatten: Kinesis: -S of get-records output takes FIRST_SEQ, LAST_SEQ and FIRST_ID from SequenceNumber" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	summary_is '1\tstudent\t3\t49590338271490256608559692538361571095921575989136588891\t49590338271490256608559692538361571095921575989136588893\t20240710T164423Z\t49590338271490256608559692538361571095921575989136588891\t7539ede67b429458' "$X/kinesis-get-records.json"
	diff -u "$X/kinesis-get-records.out" "$dir/1.ndjson"
}

@test "ddb-flatten: Kinesis: get-records output with bad Data or SequenceNumber is bad data, named by the record's index" {
	xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: Data is not valid base64" \
	    <<<'{"Records":[{"SequenceNumber":"1","Data":"e30 ="}]}'
	xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: Data is a number, not a base64 string" \
	    <<<'{"Records":[{"SequenceNumber":"1","Data":7}]}'
	xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: Data decodes to no JSON record (invalid JSON: unexpected character at byte 0)" \
	    <<<'{"Records":[{"SequenceNumber":"2","Data":"bm90IGpzb24="}]}'
	xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: Data decodes to an array, not a record" \
	    <<<'{"Records":[{"SequenceNumber":"1","Data":"W10="}]}'
	xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: record has Data but no SequenceNumber (a Kinesis record has both)" \
	    <<<'{"Records":[{"Data":"e30=","PartitionKey":"p"}]}'
	for s in '"01"' '"12a"' '""' 1; do
		xrefused 1 "ddb-flatten: <stdin>:1: Records[0]: SequenceNumber is not a Kinesis sequence number (0, or 1 to 129 digits without a leading 0)" \
		    <<<"{\"Records\":[{\"SequenceNumber\":$s,\"Data\":\"e30=\"}]}"
	done
	# never the data in a message
	run --separate-stderr ddb-flatten <<<'{"Records":[{"SequenceNumber":"1","Data":"c2VjcmV0"}]}'
	[ "$status" -eq 1 ]
	[[ "$stderr" != *c2VjcmV0* && "$stderr" != *secret* ]]
}

@test "ddb-flatten: export: a full export's gzipped data file with its manifest: INSERTs at exportTime, table from tableArn" {
	xgolden export-full.out --manifest "$X/manifest-summary.json" "$X/export-full.json.gz"
	# the same file not gzipped reads the same
	xgolden export-full.out --manifest "$X/manifest-summary.json" "$X/export-full.json"
	# from stdin too: gzip found by its magic bytes
	run --separate-stderr sh -c 'ddb-flatten --manifest "$1" < "$2"' sh "$X/manifest-summary.json" "$X/export-full.json.gz"
	[ "$status" -eq 0 ]
	diff -u "$X/export-full.out" <(printf '%s\n' "$output")
}

@test "ddb-flatten: export: without a manifest, -n and --export-time (ISO 8601 or epoch seconds, kept as given)" {
	diff -u "$X/export-full.out" <(ddb-flatten -n student --export-time 2024-07-10T16:44:23.028Z "$X/export-full.json.gz")
	ddb-flatten --export-time 1720629863 "$X/export-full.json.gz" | head -n 1 | jq -ec '.dynamodb.ApproximateCreationDateTime == 1720629863 and (has("tableName") | not)' >/dev/null
	# --export-time wins over the manifest's exportTime
	ddb-flatten --manifest "$X/manifest-summary.json" --export-time 2024-07-11T00:00:00Z "$X/export-full.json.gz" | jq -e '.dynamodb.ApproximateCreationDateTime == "2024-07-11T00:00:00Z"' >/dev/null
}

@test "ddb-flatten: export: a full export's item with no export time known is bad usage (exit 2), never an invented time" {
	xrefused 2 "ddb-flatten: $X/export-full.json.gz:1: a full export's item needs the export time as created_at: give --manifest (manifest-summary.json) or --export-time" "$X/export-full.json.gz"
	xrefused 2 "ddb-flatten: --export-time: 'yesterday' is not epoch seconds or ISO 8601 with Z or an offset" --export-time yesterday "$X/export-full.json.gz"
	xrefused 2 "ddb-flatten: --export-time: '2024-07-10T16:44:23' is not epoch seconds or ISO 8601 with Z or an offset" --export-time 2024-07-10T16:44:23 "$X/export-full.json.gz"
}

@test "ddb-flatten: export: incremental, NEW_AND_OLD_IMAGES: NewImage alone INSERT, both MODIFY, OldImage alone REMOVE; time from WriteTimestampMicros" {
	xgolden export-incr-new-and-old.out --manifest "$X/manifest-incremental.json" "$X/export-incr-new-and-old.json.gz"
	[ "$(jq -r .eventName "$X/export-incr-new-and-old.out" | tr '\n' ' ')" = "INSERT MODIFY REMOVE " ]
}

@test "ddb-flatten: export: incremental, NEW_IMAGE: NewImage (insert or update) INSERT, Keys alone REMOVE" {
	xgolden export-incr-new-image.out -n student "$X/export-incr-new-image.json.gz"
	[ "$(jq -r .eventName "$X/export-incr-new-image.out" | tr '\n' ' ')" = "INSERT INSERT REMOVE " ]
}

@test "ddb-flatten: export: -S summary of exports: FIRST_TIME from the export time, FIRST_ID h and the hash" {
	local dir="$BATS_TEST_TMPDIR/split"
	mkdir "$dir"
	summary_is '1\tstudent\t2\t-\t-\t20240710T164423Z\thd913fbf92d04641d\td2e6efdd11560dc6' --manifest "$X/manifest-summary.json" "$X/export-full.json.gz"
	run --separate-stderr ddb-flatten -S "$dir" --manifest "$X/manifest-incremental.json" "$X/export-incr-new-and-old.json.gz"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | cut -f 1-6)" = "$(printf '1\tstudent\t3\t-\t-\t20240710T164640Z')" ]
}

@test "ddb-flatten: export: WriteTimestampMicros typed {\"N\":...}, as a string or as a number: the same created_at" {
	local n
	for w in '{"N":"1720630000000001"}' '"1720630000000001"' 1720630000000001; do
		n=$(ddb-flatten -n student <<<"{\"Metadata\":{\"WriteTimestampMicros\":$w},\"Keys\":{\"id\":{\"S\":\"4\"}}}" | jq -c '[.eventName, .dynamodb.ApproximateCreationDateTime]')
		[ "$n" = '["REMOVE",1720630000000001]' ]
	done
}

@test "ddb-flatten: export: a bad incremental line is bad data" {
	xrefused 1 "ddb-flatten: <stdin>:1: Metadata.WriteTimestampMicros is not 16 digits of epoch microseconds" \
	    <<<'{"Metadata":{"WriteTimestampMicros":{"N":"1720630000"}},"Keys":{"id":{"S":"4"}}}'
	# a leading zero would make it no JSON number (fuzz finding)
	xrefused 1 "ddb-flatten: <stdin>:1: Metadata.WriteTimestampMicros is not 16 digits of epoch microseconds" \
	    <<<'{"Metadata":{"WriteTimestampMicros":{"N":"0860315000000001"}},"Keys":{"id":{"S":"3"}}}'
	xrefused 1 "ddb-flatten: <stdin>:1: export line has an unknown member \"Extra\"" \
	    <<<'{"Metadata":{"WriteTimestampMicros":{"N":"1720630000000001"}},"Keys":{"id":{"S":"4"}},"Extra":1}'
	xrefused 1 "ddb-flatten: <stdin>:1: export line has no Keys, NewImage or OldImage" \
	    <<<'{"Metadata":{"WriteTimestampMicros":{"N":"1720630000000001"}}}'
}

@test "ddb-flatten: export: a manifest that is not one is bad usage (exit 2); a missing one exit 3" {
	xrefused 2 "ddb-flatten: $X/manifest-files.json:1: --manifest: not a DynamoDB export's manifest-summary.json (no exportArn and tableArn)" --manifest "$X/manifest-files.json" "$X/export-full.json.gz"
	xrefused 2 "ddb-flatten: <stdin>:1: --manifest: tableArn is not a DynamoDB table ARN" --manifest - "$X/export-full.json" \
	    <<<'{"exportArn":"arn:aws:dynamodb:us-east-1:1:table/student/export/1","tableArn":"arn:aws:s3:::student"}'
	xrefused 2 "ddb-flatten: <stdin>:1: --manifest: outputFormat is not DYNAMODB_JSON (only DynamoDB JSON exports are read)" --manifest - "$X/export-full.json" \
	    <<<'{"exportArn":"arn:aws:dynamodb:us-east-1:1:table/student/export/1","tableArn":"arn:aws:dynamodb:us-east-1:1:table/student","outputFormat":"ION"}'
	xrefused 3 "ddb-flatten: $BATS_TEST_TMPDIR/none.json: No such file or directory" --manifest "$BATS_TEST_TMPDIR/none.json" "$X/export-full.json"
}

@test "ddb-flatten: gzip: a truncated member, corrupt data and bytes after the last member are bad data" {
	xrefused 1 "ddb-flatten: $X/export-truncated.json.gz:1: gzip input ends inside a member (truncated)" --manifest "$X/manifest-summary.json" "$X/export-truncated.json.gz"
	run --separate-stderr sh -c '{ head -c 30 "$1"; printf AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; tail -c +70 "$1"; } | ddb-flatten --export-time 1720629863' sh "$X/export-full.json.gz"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ddb-flatten: <stdin>:1: gzip data is corrupt" ]
	run --separate-stderr sh -c '{ cat "$1"; printf junk; } | ddb-flatten --export-time 1720629863' sh "$X/export-full.json.gz"
	[ "$status" -eq 1 ]
	[ "$stderr" = "ddb-flatten: <stdin>:3: gzip input has bytes after its last member" ]
	# the two lines before it were whole and are written
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
}

@test "ddb-flatten: gzip: members one after another (gzip -c a b) read as one stream" {
	run --separate-stderr sh -c 'cat "$1" "$2" | ddb-flatten --manifest "$3"' sh "$X/export-full.json.gz" "$X/export-full.json.gz" "$X/manifest-summary.json"
	[ "$status" -eq 0 ]
	diff -u <(cat "$X/export-full.out" "$X/export-full.out") <(printf '%s\n' "$output")
}

# rbatch BAD...: a 5-record event (SequenceNumbers ...9510 to ...9514) whose
# records at the 0-based positions BAD have an unknown type descriptor
rbatch() {
	jq -c --argjson bad "[$(IFS=,; echo "$*")]" '.Records[0] as $r |
	    {Records: [range(5) as $i | $r | .eventID = "e\($i)" |
	    .dynamodb.SequenceNumber = "510000000009364995101\($i)" |
	    if ($bad | index($i)) then .dynamodb.NewImage.age = {Q: "5"} else . end]}' \
	    "$F/ddb-to-s3/bad-record.json" >"$BATS_TEST_TMPDIR/ev.json"
}

# refused_report ARGS...: ddb-flatten --refused 3 ARGS ev.json; $report
# is what it wrote on fd 3, $output its stdout, $status its exit
refused_report() {
	run --separate-stderr sh -c 'ddb-flatten --refused 3 "$@" 3>"$0.report"' \
	    "$BATS_TEST_TMPDIR/r" "$@" "$BATS_TEST_TMPDIR/ev.json"
	report=$(cat "$BATS_TEST_TMPDIR/r.report")
}

@test "ddb-flatten: --refused FD names each refused record (index, SequenceNumber), at any position" {
	rbatch 0 2 4
	refused_report
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$report" = "$(printf '0\t5100000000093649951010\n2\t5100000000093649951012\n4\t5100000000093649951014')" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[1]}" = "ddb-flatten: $BATS_TEST_TMPDIR/ev.json:1: eventID e2: NewImage.age: unknown type descriptor \"Q\"" ]
	rbatch 3
	refused_report
	[ "$status" -eq 1 ]
	[ "$report" = "$(printf '3\t5100000000093649951013')" ]
	# -s stops at the first
	rbatch 1 3
	refused_report -s
	[ "$status" -eq 1 ]
	[ "$report" = "$(printf '1\t5100000000093649951011')" ]
}

@test "ddb-flatten: --refused FD: none refused writes nothing there; all refused lists all" {
	rbatch
	refused_report
	[ "$status" -eq 0 ]
	[ "$report" = "" ]
	[ "${#lines[@]}" -eq 5 ]
	diff -u <(ddb-flatten "$BATS_TEST_TMPDIR/ev.json") <(printf '%s\n' "$output")
	rbatch 0 1 2 3 4
	refused_report -S "$BATS_TEST_TMPDIR"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$report" = "$(printf '%s\t510000000009364995101%s\n' 0 0 1 1 2 2 3 3 4 4 | head -c -1)" ]
}

@test "ddb-flatten: --refused FD: a record without a valid SequenceNumber is -, one that is no JSON object too" {
	rbatch
	jq -c '.Records[1].dynamodb.SequenceNumber = "5\t5" | .Records[3] = 7 |
	    del(.Records[4].dynamodb.SequenceNumber) | .Records[4].dynamodb.NewImage.age = {Q: "5"}' \
	    "$BATS_TEST_TMPDIR/ev.json" >"$BATS_TEST_TMPDIR/ev2.json"
	mv "$BATS_TEST_TMPDIR/ev2.json" "$BATS_TEST_TMPDIR/ev.json"
	refused_report
	[ "$status" -eq 1 ]
	[ "$report" = "$(printf '1\t-\n3\t-\n4\t-')" ]
}

@test "ddb-flatten: --head N takes the first N records of an event, the rest go to --refused" {
	rbatch 3
	refused_report --head 3
	[ "$status" -eq 0 ]
	[ "$report" = "$(printf '3\t5100000000093649951013\n4\t5100000000093649951014')" ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" == *'"eventID":"e2"'* ]]
	# --head 0: nothing taken, every record listed
	refused_report --head 0 -S "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ "$(printf '%s\n' "$report" | cut -f1 | tr '\n' ' ')" = "0 1 2 3 4 " ]
	# a bad record before N still fails the run
	refused_report --head 4
	[ "$status" -eq 1 ]
	[ "$report" = "$(printf '3\t5100000000093649951013\n4\t5100000000093649951014')" ]
}

@test "ddb-flatten: --refused and --head: a bad value is a usage error (exit 2), nothing read" {
	run --separate-stderr ddb-flatten --refused 1 /nonexistent
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-flatten: --refused: '1' is not a file descriptor above 2" ]
	run --separate-stderr ddb-flatten --refused 7 /nonexistent 7>&-
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-flatten: --refused: file descriptor 7 is not open for writing" ]
	run --separate-stderr ddb-flatten --head -1 /nonexistent
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-flatten: --head: '-1' is not a whole number" ]
}

@test "ddb-flatten: -S -P UNIT: one file per table and partition of each record's own time, in order of first record" {
	local dir="$BATS_TEST_TMPDIR/split" in="$F/ddb-to-s3/midnight.json"
	mkdir "$dir"
	says 0 "" -S "$dir" -P day "$in"
	diff -u - <(printf '%s\n' "$output") <<-'EOF2'
	1	student	2	5100000000093649950901	5100000000093649950904	20240710T235958Z	5100000000093649950901	c9ca1f8b6191da50
	2	course	1	5100000000093649950902	5100000000093649950902	20240710T235959Z	5100000000093649950902	f8e0e8381c85c0a4
	3	student	2	5100000000093649950903	5100000000093649950905	20240711T000001Z	5100000000093649950903	ae29dd7f63d1b7dd
	EOF2
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/sum"
	check_hashes "$dir" "$BATS_TEST_TMPDIR/sum"
	# the records of each file, in input order, and nothing else
	diff -u <(ddb-flatten "$in" | sed -n '1p;4p') "$dir/1.ndjson"
	diff -u <(ddb-flatten "$in" | sed -n '3p;5p') "$dir/3.ndjson"
	rm "$dir"/*
	says 0 "" --partition=hour -S "$dir" "$in"
	[ "$(cut -f 2,3,6 <<<"$output" | tr '\t\n' ' ;')" = "student 2 20240710T235958Z;course 1 20240710T235959Z;student 1 20240711T000001Z;student 1 20240711T010000Z;" ]
	rm "$dir"/*
	says 0 "" -P year -S "$dir" "$in"
	[ "$(wc -l <<<"$output")" -eq 2 ]
	says 2 $'ddb-flatten: -P: \'minute\' is not year, month, day or hour\n'"$(ddb-flatten --bogus 2>&1 | tail -n +2)" -P minute -S "$dir" "$in"
	says 2 $'ddb-flatten: -P splits the files of -S: give -S too\n'"$(ddb-flatten --bogus 2>&1 | tail -n +2)" -P day "$in"
}
