#!/usr/bin/env bats
# the three transform tools together, as a user runs them

bats_require_minimum_version 1.5.0

F="$BATS_TEST_DIRNAME/fixtures"

@test "pipeline: the seed's sample event gives the documented CSV" {
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand | csv-emit' sh "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	diff -u "$F/seed-sample.csv" <(printf '%s\n' "$output")
}

@test "pipeline: DuckDB reads the seed's CSV by position as a declared table does" {
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand | csv-emit >"$2"' sh \
		"$F/seed-sample.json" "$BATS_TEST_TMPDIR/s.csv"
	[ "$status" -eq 0 ]
	# declared names unlike the header's: read_csv maps by position
	run --separate-stderr "$BATS_TEST_DIRNAME/lib/duckdb" "SELECT c4 AS id, c1 AS fname,
		c2::DECIMAL(38,0) AS number, c5 AS ev FROM read_csv('$BATS_TEST_TMPDIR/s.csv',
		header=true, columns={'c1':'VARCHAR','c2':'VARCHAR','c3':'VARCHAR',
		'c4':'VARCHAR','c5':'VARCHAR','c6':'VARCHAR'}) ORDER BY ev"
	[ "$status" -eq 0 ]
	[ "$output" = "id,fname,number,ev
2,Gaurav,334433223,INSERT
2,Saurav,334433223,REMOVE" ]
}

@test "pipeline: the sample pasted from a Python log gives the same CSV" {
	run --separate-stderr sh -c 'cat "$1" | ddb-flatten | ddb-expand | csv-emit' sh "$F/seed-sample.py.txt"
	[ "$status" -eq 0 ]
	diff -u "$F/seed-sample.csv" <(printf '%s\n' "$output")
}

@test "pipeline: --insert-first gives the seed handler's row order" {
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand -i | csv-emit' sh "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$output" = "fname,number,lname,id,EventType,created_at
Gaurav,334433223,Kandel,2,INSERT,1720629863.0
Saurav,334433223,Kandel,2,REMOVE,1720629863.0" ]
}

@test "pipeline: exact numbers reach the CSV cell unchanged" {
	run --separate-stderr sh -c 'ddb-flatten | ddb-expand | csv-emit' <<'IN'
{"eventID":"n1","eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1720629863.5,"NewImage":{"id":{"N":"12345678901234567890123456789012345678"},"hi":{"N":"9.9999999999999999999999999999999999999E+125"},"lo":{"N":"-1E-130"},"ns":{"NS":["1.50","-0"]},"m":{"M":{"url":{"S":"a/b"},"n":{"N":"0.10"}}}}},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/t1/stream/x"}
IN
	[ "$status" -eq 0 ]
	[ "$output" = 'id,hi,lo,ns,m,EventType,created_at
12345678901234567890123456789012345678,9.9999999999999999999999999999999999999E+125,-1E-130,"[1.50,-0]","{""url"":""a/b"",""n"":0.10}",INSERT,1720629863.5' ]
}

@test "pipeline: no records in, no CSV out" {
	run --separate-stderr sh -c 'echo "{\"Records\":[]}" | ddb-flatten | ddb-expand | csv-emit'
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "reader: an object key holding \\u0000 is refused, not cut short" {
	run --separate-stderr csv-emit <<'IN'
{"k\u0000x":1,"EventType":"INSERT","created_at":1}
IN
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = 'csv-emit: <stdin>:1: an object key holds \u0000' ]
	printf '%s\n' '{"v":"a\u0000b","k":"\\u0000","EventType":"INSERT","created_at":1}' |
	    csv-emit > "$BATS_TEST_TMPDIR/out.csv"
	printf 'v,k,EventType,created_at\na\0b,\\u0000,INSERT,1\n' > "$BATS_TEST_TMPDIR/exp.csv"
	cmp "$BATS_TEST_TMPDIR/exp.csv" "$BATS_TEST_TMPDIR/out.csv"
}

# --- other sources: golden CSVs through ddb-flatten | ddb-expand | csv-emit ---
X="$F/sources"

# xpipe GOLDEN FLATTEN-ARGS...: the pipeline's CSV is sources/GOLDEN exactly
xpipe() {
	local exp=$1
	shift
	run --separate-stderr sh -c 'ddb-flatten "$@" | ddb-expand | csv-emit' sh "$@"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	diff -u "$X/$exp" <(printf '%s\n' "$output")
}

@test "pipeline: Kinesis: Lambda's Kinesis event of an INSERT, a MODIFY and a TTL REMOVE" {
	xpipe kinesis-lambda.csv "$X/kinesis-lambda.json"
	xpipe kinesis-lambda.csv "$X/kinesis-records.ndjson"
}

@test "pipeline: Kinesis: aws kinesis get-records output (CLI v2) gives the same CSV; -l SequenceNumber is the Kinesis one" {
	xpipe kinesis-lambda.csv "$X/kinesis-get-records.json"
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand -l SequenceNumber=seq | csv-emit | cut -d, -f 1,5' sh "$X/kinesis-get-records.json"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = "$(printf '%s\n' fname,seq Asha,49590338271490256608559692538361571095921575989136588891 Saurav,49590338271490256608559692538361571095921575989136588892 Gaurav,49590338271490256608559692538361571095921575989136588892 Old,49590338271490256608559692538361571095921575989136588893)" ]
}

@test "pipeline: export: a full export (gzip, manifest): every type, created_at the export time" {
	xpipe export-full.csv --manifest "$X/manifest-summary.json" "$X/export-full.json.gz"
}

@test "pipeline: export: incremental, NEW_AND_OLD_IMAGES: insert, update (REMOVE then INSERT), delete" {
	xpipe export-incr-new-and-old.csv --manifest "$X/manifest-incremental.json" "$X/export-incr-new-and-old.json.gz"
}

@test "pipeline: export: incremental, NEW_IMAGE: insert, update, delete (a row of the Keys)" {
	xpipe export-incr-new-image.csv -n student "$X/export-incr-new-image.json.gz"
}
