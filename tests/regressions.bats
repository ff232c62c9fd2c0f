#!/usr/bin/env bats
# regressions.bats: extreme and broken input, as fuzzing taught (issue 5).
# Every tool must refuse with one clear line and a status, never crash,
# never alter a value; outputs are compared byte for byte.
bats_require_minimum_version 1.5.0
load lib/tool

F="$BATS_TEST_DIRNAME/fixtures/regressions"

setup() {
	T=$BATS_TEST_TMPDIR
}

@test "regressions: \\u0000 in strings, sets and maps survives every stage" {
	run --separate-stderr ddb-flatten "$F/nul.json"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$F/nul.flat")" ]
	ddb-flatten "$F/nul.json" | ddb-expand | csv-emit >"$T/nul.csv"
	# the CSV cell holds the NUL byte itself: compare bytes, not text
	cmp "$F/nul.csv" "$T/nul.csv"
}

@test "regressions: invalid UTF-8 is refused by every stage with its place" {
	tool_refuses ddb-flatten "ddb-flatten: $F/bad-utf8.json:1: invalid JSON: invalid utf-8 string" "$F/bad-utf8.json"
	printf '{"a":"\377"}\n' >"$T/row.ndjson"
	tool_says ddb-expand 1 "ddb-expand: $T/row.ndjson:1: invalid JSON: invalid utf-8 string" "$T/row.ndjson"
	tool_refuses csv-emit "csv-emit: $T/row.ndjson:1: invalid JSON: invalid utf-8 string" "$T/row.ndjson"
}

@test "regressions: text that is no Unicode is refused, never replaced" {
	# overlong '/', a UTF-16 surrogate written in UTF-8, past U+10FFFF,
	# a lone surrogate escape (high, then low), a high one with a bad partner
	printf '{"a":"\300\257"}\n{"a":"\355\240\200"}\n{"a":"\364\220\200\200"}\n' >"$T/u.ndjson"
	printf '{"a":"\\ud800"}\n{"a":"\\udc00x"}\n{"a":"\\ud800\\u0041"}\n' >>"$T/u.ndjson"
	tool_refuses csv-emit "csv-emit: $T/u.ndjson:1: invalid JSON: invalid utf-8 string
csv-emit: $T/u.ndjson:2: invalid JSON: invalid utf-8 string
csv-emit: $T/u.ndjson:3: invalid JSON: invalid utf-8 string
csv-emit: $T/u.ndjson:4: invalid JSON: invalid string sequence
csv-emit: $T/u.ndjson:5: invalid JSON: invalid string sequence
csv-emit: $T/u.ndjson:6: invalid JSON: invalid string sequence" "$T/u.ndjson"
	# a surrogate pair is one character; escapes come out as UTF-8
	printf '{"a":"\\ud83d\\ude00 \\u00e9\\/\\t"}\n' >"$T/ok.ndjson"
	run --separate-stderr csv-emit "$T/ok.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a,EventType,created_at\n\360\237\230\200 \303\251/\t,,')" ]
}

@test "regressions: NaN, Infinity and numbers outside JSON's grammar are refused" {
	printf '{"a":NaN}\n{"a":-Infinity}\n{"a":01}\n{"a":1.}\n{"a":.5}\n{"a":1e}\n{"a":+1}\n' >"$T/n.ndjson"
	tool_refuses csv-emit "csv-emit: $T/n.ndjson:1: NaN and Infinity are not JSON
csv-emit: $T/n.ndjson:2: NaN and Infinity are not JSON
csv-emit: $T/n.ndjson:3: invalid JSON: unexpected character
csv-emit: $T/n.ndjson:4: invalid JSON: unexpected character
csv-emit: $T/n.ndjson:5: invalid JSON: unexpected character
csv-emit: $T/n.ndjson:6: invalid JSON: unexpected character
csv-emit: $T/n.ndjson:7: invalid JSON: unexpected character" "$T/n.ndjson"
}

@test "regressions: a duplicate attribute is refused, not merged" {
	tool_refuses ddb-flatten "ddb-flatten: $F/dup-attr.json:1: an object has a duplicate key" "$F/dup-attr.json"
	printf '{"id":"1","id":"2","EventType":"INSERT"}\n' >"$T/dup.ndjson"
	tool_refuses csv-emit "csv-emit: $T/dup.ndjson:1: an object has a duplicate key" "$T/dup.ndjson"
	# a wide row (its keys are sorted to be compared), the twin last
	{ printf '{'; for i in $(seq 0 39); do printf '"a%d":1,' "$i"; done
	  printf '"a7":2}\n'; } >"$T/wide.ndjson"
	tool_says csv-emit 1 "csv-emit: $T/wide.ndjson:1: an object has a duplicate key" "$T/wide.ndjson"
}

@test "regressions: input ending mid-value keeps what came before and says where" {
	run --separate-stderr ddb-flatten "$F/truncated.json"
	[ "$status" -eq 1 ]
	[ "$output" = "$(head -n 1 "$F/truncated.json" | ddb-flatten)" ]
	[ "$stderr" = "ddb-flatten: $F/truncated.json:3: input ends inside the value that starts on line 2" ]
	printf '{"id":"1","EventType":"INSERT"}\n{"id":"2","Event' >"$T/cut.ndjson"
	tool_refuses csv-emit "csv-emit: $T/cut.ndjson:2: input ends inside the value that starts on line 2" "$T/cut.ndjson"
}

@test "regressions: a 100,000-deep array is refused by every stage, no crash" {
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "[";
		for (i = 0; i < 100000; i++) printf "]"; print "" }' >"$T/deep.json"
	for tool in ddb-flatten ddb-expand csv-emit; do
		run --separate-stderr "$tool" "$T/deep.json"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "$stderr" = "$tool: $T/deep.json:1: nesting deeper than 80 levels" ]
	done
}

@test "regressions: 100,000 nested L values in an image are refused, the next record kept" {
	awk 'BEGIN { printf "{\"eventName\":\"INSERT\",\"dynamodb\":{\"NewImage\":{\"l\":";
		for (i = 0; i < 100000; i++) printf "{\"L\":[";
		for (i = 0; i < 100000; i++) printf "]}"; print "}}}" }' >"$T/deepl.json"
	echo '{"eventName":"INSERT","dynamodb":{"NewImage":{"id":{"S":"ok"}}}}' >>"$T/deepl.json"
	run --separate-stderr ddb-flatten "$T/deepl.json"
	[ "$status" -eq 1 ]
	[ "$output" = '{"eventName":"INSERT","dynamodb":{"NewImage":{"id":"ok"}}}' ]
	[ "$stderr" = "ddb-flatten: $T/deepl.json:1: nesting deeper than 80 levels" ]
}

@test "regressions: an 8 MB string goes through the pipeline byte for byte" {
	# 2,000,000 times ab"c: quotes escaped in JSON, doubled in CSV
	awk 'BEGIN { printf "{\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":7,\"NewImage\":{\"id\":{\"S\":\"1\"},\"big\":{\"S\":\"";
		for (i = 0; i < 2000000; i++) printf "ab\\\"c"; print "\"}}}}" }' >"$T/huge.json"
	awk 'BEGIN { print "id,big,EventType,created_at"; printf "1,\"";
		for (i = 0; i < 2000000; i++) printf "ab\"\"c"; print "\",INSERT,7" }' >"$T/huge.exp"
	ddb-flatten "$T/huge.json" | ddb-expand | csv-emit >"$T/huge.csv"
	cmp "$T/huge.exp" "$T/huge.csv"
}

@test "regressions: an item with 100,000 attributes keeps them all, in order" {
	awk 'BEGIN { printf "{\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":7,\"NewImage\":{";
		for (i = 0; i < 100000; i++) printf "%s\"a%d\":{\"N\":\"%d.5E+%d\"}", i ? "," : "", i, i, i % 126;
		print "}}}" }' >"$T/many.json"
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "a%d,", i; print "EventType,created_at";
		for (i = 0; i < 100000; i++) printf "%d.5E+%d,", i, i % 126; print "INSERT,7" }' >"$T/many.exp"
	ddb-flatten "$T/many.json" | ddb-expand | csv-emit >"$T/many.csv"
	cmp "$T/many.exp" "$T/many.csv"
}

@test "regressions: every DynamoDB type and number form, generated, gives the golden CSV" {
	# bench/gen -s 5 -n 20: 38-digit, exponent and >64-bit numbers, sets, maps, lists
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand | csv-emit' sh "$F/gen20.json"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$F/gen20.csv")" ]
	grep -q ',-12345678901234567890123456789012345678,' "$F/gen20.csv"
}

@test "regressions: a NUL byte in the input stream is refused with its line" {
	printf '{"eventName":"INSERT",\n"dynamodb":{"NewImage":{"a":{"S":"x\0y"}}}}\n' >"$T/nulbyte.json"
	tool_refuses ddb-flatten "ddb-flatten: $T/nulbyte.json:2: NUL byte in input" "$T/nulbyte.json"
}

@test "regressions: s3-put expands a key of many {sha256} and {uuid} whole (fuzz: heap overflow)" {
	# tests/fixtures/regressions/s3-key-sha256-overflow.bin, found by tests/fuzz/s3-key.c
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sha=$(printf hello | sha256sum | cut -c1-64)
	run --separate-stderr sh -c 'printf hello | s3-put -a 1 -u "http://127.0.0.1:$1" "s3://bucket/{sha256}{sha256}{sha256}{sha256}{sha256}{sha256}{sha256}-{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}{uuid}.csv"' sh "$port"
	[ "$status" -eq 75 ]
	[[ "$stderr" =~ s3://bucket/$sha$sha$sha$sha$sha$sha$sha-([0-9a-f-]{36}){12}\.csv ]]
}

@test "regressions: ddb-flatten reads a 6 MB Lambda event record by record (peak RSS < 32 MB)" {
	if ldd "$(command -v ddb-flatten)" 2>/dev/null | grep -q libasan; then
		skip "RSS means nothing under ASan"
	fi
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	# 4,000 records of ~1.5 KB: held whole, json-c needed ~224 MB for this
	awk 'BEGIN { printf "{\"Records\":[";
		for (i = 0; i < 4000; i++) {
			printf "%s{\"eventID\":\"e%d\",\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":%d,\"NewImage\":{", i ? "," : "", i, i;
			for (j = 0; j < 40; j++) printf "%s\"a%d\":{\"M\":{\"s\":{\"S\":\"v%d\"},\"n\":{\"N\":\"%d\"}}}", j ? "," : "", j, j, j;
			printf "}}}" }
		print "]}" }' >"$T/big.json"
	/usr/bin/time -f %M -o "$T/rss" ddb-flatten "$T/big.json" >"$T/big.ndjson"
	awk 'BEGIN { for (i = 0; i < 4000; i++) {
			printf "{\"eventID\":\"e%d\",\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":%d,\"NewImage\":{", i, i;
			for (j = 0; j < 40; j++) printf "%s\"a%d\":{\"s\":\"v%d\",\"n\":%d}", j ? "," : "", j, j, j;
			print "}}}" } }' >"$T/big.exp"
	cmp "$T/big.exp" "$T/big.ndjson"
	echo "peak RSS $(cat "$T/rss") KB"
	[ "$(cat "$T/rss")" -lt 32768 ]
}

@test "regressions: issue 9 item 12: no item value in a message (N, NS)" {
	printf '%s\n' '{"eventID":"p1","eventName":"INSERT","dynamodb":{"NewImage":{"ssn":{"N":"123-45-6789"}}}}' \
	    '{"eventID":"p2","eventName":"INSERT","dynamodb":{"NewImage":{"card":{"NS":["1","4111 1111 1111 1111"]}}}}' >"$T/pii.json"
	run --separate-stderr ddb-flatten "$T/pii.json"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "ddb-flatten: $T/pii.json:1: eventID p1: NewImage.ssn: N value is not a number"$'\n'"ddb-flatten: $T/pii.json:2: eventID p2: NewImage.card[1]: NS element is not a number" ]
	[[ "$stderr" != *6789* && "$stderr" != *4111* ]]
}

@test "regressions: issue 9 item 15: --help and --version into a full disk are exit 3" {
	[ -w /dev/full ] || skip "no /dev/full"
	for tool in ddb-flatten ddb-expand csv-emit; do
		for opt in --help -h --version; do
			run --separate-stderr "$tool" "$opt"
			[ "$status" -eq 0 ]
			full_disk "$tool" "$opt"
		done
	done
}

@test "regressions: issue 9 item 15: an ARN that names no valid table says so, not bad tableName" {
	mkdir "$T/split"
	tool_refuses ddb-flatten "ddb-flatten: <stdin>:1: eventID a1: eventSourceARN names no valid DynamoDB table (3 to 255 of A-Z a-z 0-9 _ - .)" -S "$T/split" <<<'{"eventID":"a1","eventName":"INSERT","dynamodb":{},"eventSourceARN":"arn:aws:dynamodb:r:1:table/../stream/x"}'
	[ "$(ls "$T/split" | wc -l)" -eq 0 ]
	# a tableName of its own is still named as such
	tool_says ddb-flatten 1 "ddb-flatten: <stdin>:1: eventID a2: tableName is not a DynamoDB table name" -S "$T/split" <<<'{"eventID":"a2","eventName":"INSERT","tableName":"..","dynamodb":{},"eventSourceARN":"arn:aws:dynamodb:r:1:table/good/stream/x"}'
}
