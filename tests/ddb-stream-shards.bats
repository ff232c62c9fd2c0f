#!/usr/bin/env bats
# ddb-stream's concurrent reads across shards, against the Streams stand-in
# (tests/lib/streams-standin) with latency and AWS's per-shard GetRecords
# limit: a shard's records in order, a child after its parent, at most 5
# GetRecords a second a shard, DescribeStream spaced, throttling backed off

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb
load lib/tool

setup() {
	W=$BATS_TEST_TMPDIR
	ARN=arn:aws:dynamodb:us-east-1:000000000000:table/student/stream/2026-12-01T00:00:00.000
}

teardown() {
	streams_stop 2>/dev/null || :
}

# sid N: a ShardId
sid() {
	printf 'shardId-%020d-%08x' "$1" "$1"
}

# tree FILE ROOTS: ROOTS closed root shards of 12 records in pages of 2
# (6 pages each, more than 5 a second could read), each with a closed child
# of 6 records and an open grandchild of 4; faults as given in $FAULTS
tree() {
	local i s=""
	for i in $(seq 1 "$2"); do
		s="$s${s:+,}
		{\"id\": \"$(sid "$i")\", \"closed\": true, \"pages\": [2, 2, 2, 2, 2, 2],
		 \"generate\": {\"count\": 12, \"pad\": 10}},
		{\"id\": \"$(sid $((100 + i)))\", \"parent\": \"$(sid "$i")\", \"closed\": true,
		 \"pages\": [3, 3], \"generate\": {\"count\": 6, \"pad\": 10}},
		{\"id\": \"$(sid $((200 + i)))\", \"parent\": \"$(sid $((100 + i)))\",
		 \"generate\": {\"count\": 4, \"pad\": 10}}"
	done
	printf '{"streams": [{"table": "student", "shards": [%s]}], "faults": [%s]}\n' \
		"$s" "${FAULTS:-}" >"$1"
}

# in_order LOG OUT: every record the stand-in served (LOG) is in OUT once;
# each shard's records in OUT in sequence order
in_order() {
	jq -s -e --slurpfile out "$2" '
		[.[] | select(.op == "GetRecords" and .status == 200 and .records > 0)
		 | {shard, first: (.first | tonumber), last: (.last | tonumber)}] as $pages
		| ($pages | group_by(.shard) | map({key: .[0].shard,
			value: {lo: (map(.first) | min), hi: (map(.last) | max)}}) | from_entries) as $r
		| [$out[] | .dynamodb.SequenceNumber | tonumber] as $seqs
		| ($seqs | length) == ($pages | map(.last - .first + 1) | add)
		and ($seqs | unique | length) == ($seqs | length)
		and all($r | to_entries[]; .value as $v
			| [$seqs[] | select(. >= $v.lo and . <= $v.hi)] | . == sort)
	' "$1" >/dev/null
}

# parent_first OUT PARENT CHILD: PARENT's last record before CHILD's first
# (by the stand-in's sequence ranges in $STREAMS_DIR/log)
parent_first() {
	jq -s -e --arg p "$2" --arg c "$3" --slurpfile out "$1" '
		def range($s): [.[] | select(.op == "GetRecords" and .status == 200 and
			.shard == $s and .records > 0)] | {lo: (map(.first | tonumber) | min),
			hi: (map(.last | tonumber) | max)};
		range($p) as $P | range($c) as $C
		| [$out[] | .dynamodb.SequenceNumber | tonumber] | to_entries
		| ([.[] | select(.value >= $P.lo and .value <= $P.hi) | .key] | max) <
		  ([.[] | select(.value >= $C.lo and .value <= $C.hi) | .key] | min)
	' "$STREAMS_DIR/log" >/dev/null
}

# most_in_flight: the most GetRecords the stand-in was answering at once
most_in_flight() {
	jq -s '[.[] | select(.op == "GetRecords") | [.t0, 1], [.t, -1]]
		| sort_by(.[0], .[1]) | reduce .[] as $e ({n: 0, m: 0};
			.n += $e[1] | .m = ([.m, .n] | max)) | .m' "$STREAMS_DIR/log"
}

# fastest_shard: the least time any shard's GetRecords took for 6 in a row
# (arrivals): 1 s or more is at most 5 a second
fastest_shard() {
	jq -s '[.[] | select(.op == "GetRecords")] | group_by(.shard)
		| map([.[].t0] | sort | . as $t | [range(5; length) | $t[.] - $t[. - 5]])
		| flatten | min // 99' "$STREAMS_DIR/log"
}

@test "ddb-stream --readers, --shard-rate: bad values are usage errors; --help names them" {
	run --separate-stderr ddb-stream --readers 0 student
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-stream: bad readers: 0" ]
	run --separate-stderr ddb-stream --readers 257 student
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-stream: bad readers: 257" ]
	run --separate-stderr ddb-stream --shard-rate 0 student
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-stream: bad shard rate: 0" ]
	run --separate-stderr ddb-stream --shard-rate 5x student
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-stream: bad shard rate: 5x" ]
	run ddb-stream --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--readers N "*"--shard-rate N "* ]]
}

@test "ddb-stream: 8 shard trees read 8 at a time with 20 ms a request: every record once, each shard's in order, children after their parents, never more than 5 GetRecords a second on a shard" {
	tree "$W/t.json" 8
	streams_start "$W/t.json" -d 0.02 -l 5
	run --separate-stderr ddb-stream -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out")" -eq $((8 * 22)) ]
	in_order "$STREAMS_DIR/log" "$W/out"
	for i in $(seq 1 8); do
		parent_first "$W/out" "$(sid "$i")" "$(sid $((100 + i)))"
		parent_first "$W/out" "$(sid $((100 + i)))" "$(sid $((200 + i)))"
	done
	# no iterator for a child before its parent was read to its end
	jq -s -e 'all(.[]; .early != true)' "$STREAMS_DIR/log" >/dev/null
	# never refused for the rate; 6 GetRecords in a row on a shard took 1 s
	# or more (arrivals at the stand-in)
	[ "$(jq -s '[.[] | select(.rate)] | length' "$STREAMS_DIR/log")" -eq 0 ]
	awk -v t="$(fastest_shard)" 'BEGIN { exit !(t >= 1.0) }'
	# several in flight at once (one reader would be 1)
	[ "$(most_in_flight)" -ge 4 ]
	grep -q "^shard $(sid 201) [0-9]* open$" "$W/st/state"
	# --readers 1: one at a time, the same records
	streams_stop
	streams_start "$W/t.json" -d 0.02 -l 5
	run --separate-stderr ddb-stream --readers 1 -u "$STREAMS_URL" --state "$W/st1" student \
		sh -c 'cat >>"$0"' "$W/out1"
	[ "$status" -eq 0 ]
	[ "$(most_in_flight)" -eq 1 ]
	[ "$(jq -c . "$W/out" | sort)" = "$(jq -c . "$W/out1" | sort)" ]
	in_order "$STREAMS_DIR/log" "$W/out1"
}

@test "ddb-stream: one shard of 8 pages is read at most 5 pages a second (the stand-in refuses more); --shard-rate 2.5 at most 2.5 (half the limit, for a second reader)" {
	printf '{"streams": [{"table": "student", "shards": [{"id": "%s", "closed": true,
		"pages": [1, 1, 1, 1, 1, 1, 1, 1], "generate": {"count": 8}}]}]}\n' "$(sid 1)" >"$W/one.json"
	streams_start "$W/one.json" -l 5
	run --separate-stderr ddb-stream -u "$STREAMS_URL" --state "$W/st1" student \
		sh -c 'cat >>"$0"' "$W/out1"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out1")" -eq 8 ]
	[ "$(jq -s '[.[] | select(.rate)] | length' "$STREAMS_DIR/log")" -eq 0 ]
	awk -v t="$(fastest_shard)" 'BEGIN { exit !(t >= 1.0) }'
	streams_stop
	tree "$W/t.json" 2
	streams_start "$W/t.json" -l 5
	run --separate-stderr ddb-stream --shard-rate 2.5 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out")" -eq 44 ]
	# 6 in a row: 5 gaps of 0.4 s at least
	awk -v t="$(fastest_shard)" 'BEGIN { exit !(t >= 2.0) }'
}

@test "ddb-stream: throttling on several shards at once (LimitExceededException, ProvisionedThroughputExceededException, ThrottlingException, 500, 503) and on DescribeStream is retried after random waits; every record once, in order" {
	FAULTS='{"op": "GetRecords", "shard": "'"$(sid 1)"'", "call": 2, "times": 3, "error": "LimitExceededException"},
		{"op": "GetRecords", "shard": "'"$(sid 2)"'", "call": 1, "times": 2, "error": "ProvisionedThroughputExceededException"},
		{"op": "GetRecords", "shard": "'"$(sid 3)"'", "call": 3, "times": 2, "error": "ThrottlingException"},
		{"op": "GetRecords", "shard": "'"$(sid 101)"'", "call": 1, "error": "InternalServerError"},
		{"op": "GetRecords", "shard": "'"$(sid 102)"'", "call": 1, "error": "ServiceUnavailable"},
		{"op": "DescribeStream", "call": 1, "times": 2, "error": "LimitExceededException"}'
	tree "$W/t.json" 3
	streams_start "$W/t.json" -d 0.02 -l 5
	run --separate-stderr ddb-stream -v -g 0.2 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out")" -eq 66 ]
	in_order "$STREAMS_DIR/log" "$W/out"
	# each refusal retried after a wait, the waits random (full jitter)
	[ "$(jq -s '[.[] | select(.fault)] | length' "$STREAMS_DIR/log")" -eq 11 ]
	printf '%s\n' "${stderr_lines[@]}" | grep -E '^ddb-stream: GetRecords: HTTP 400 LimitExceededException: Too many requests for this shard.; retry [0-9]/9 in 0\.[0-9]{3} s$' >"$W/waits"
	[ "$(wc -l <"$W/waits")" -eq 3 ]
	printf '%s\n' "${stderr_lines[@]}" | grep -q '^ddb-stream: DescribeStream: HTTP 400 LimitExceededException: .*; retry 2/9 in '
	printf '%s\n' "${stderr_lines[@]}" | grep -q '^ddb-stream: GetRecords: HTTP 503 ServiceUnavailable: .*; retry 1/9 in '
	[ "$(printf '%s\n' "${stderr_lines[@]}" | grep -o 'retry [0-9]/9 in [0-9.]* s' | sort -u | wc -l)" -ge 8 ]
	# attempts used up: exit 75, nothing committed past what was handed on
	FAULTS='{"op": "GetRecords", "shard": "'"$(sid 1)"'", "call": 1, "times": 5, "error": "LimitExceededException"}'
	tree "$W/t2.json" 1
	streams_stop
	streams_start "$W/t2.json" -l 5
	run --separate-stderr ddb-stream -a 3 -g 0.01 -u "$STREAMS_URL" --state "$W/st2" student \
		sh -c 'cat >>"$0"' "$W/out2"
	[ "$status" -eq 75 ]
	[ "${stderr_lines[0]}" = "ddb-stream: GetRecords: HTTP 400 LimitExceededException: Too many requests for this shard. (after 3 attempts)" ]
	[ ! -e "$W/out2" ]
}

@test "ddb-stream: DescribeStream at most twice a second: a stream of 9 shards listed in pages of one" {
	tree "$W/t.json" 3
	jq '.describeLimit = 1' "$W/t.json" >"$W/t1.json"
	streams_start "$W/t1.json"
	run --separate-stderr ddb-stream --shard-rate 1000 -u "$STREAMS_URL" --state "$W/st" student \
		sh -c 'cat >>"$0"' "$W/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$W/out")" -eq 66 ]
	# 9 pages a listing; the children were listed with their parents, so
	# a parent's end needs no listing again
	n=$(jq -s '[.[] | select(.op == "DescribeStream")] | length' "$STREAMS_DIR/log")
	[ "$n" -eq 9 ]
	gap=$(jq -s '[.[] | select(.op == "DescribeStream") | .t0] | sort
		| [range(1; length) as $i | .[$i] - .[$i - 1]] | min' "$STREAMS_DIR/log")
	awk -v g="$gap" 'BEGIN { exit !(g >= 0.45) }'
}
