#!/usr/bin/env bats
# ddb-esm: an event source mapping's findings, their fixes, and its bill
bats_require_minimum_version 1.5.0
load lib/tool

F="$BATS_TEST_DIRNAME/fixtures/ddb-esm"

# esm_like OUT ERR STATUS ARGS...: run ddb-esm ARGS in $F; its stdout must be
# the file OUT byte for byte, its stderr the file ERR ("-": empty)
esm_like() {
	tool_like ddb-esm "$@"
}

@test "ddb-esm: the seed's mapping: every finding with its fix, exit 0" {
	esm_like seed.exp - 0 seed.json
}

@test "ddb-esm: -Q exits 5 on the seed's mapping, same output" {
	esm_like seed.exp - 5 -Q seed.json
}

@test "ddb-esm: a mapping as recommended: nothing to say, exit 0 (also with -Q)" {
	esm_like - - 0 recommended.json
	esm_like - - 0 -Q recommended.json
}

@test "ddb-esm: list-event-source-mappings output, two mappings" {
	esm_like list.exp - 0 list.json
}

@test "ddb-esm: standard input is read and named <stdin>" {
	cd "$F"
	run --separate-stderr ddb-esm < seed.json
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat seed.exp)" ]
	tool_says ddb-esm 1 "ddb-esm: <stdin>:1: d71dc3f9-c83d-4019-9852-1dc9cfe67a6b: BatchSize is a string, not an integer" < bad-type.json
}

@test "ddb-esm: invalid JSON: its line, exit 1, nothing on stdout" {
	esm_like - bad-json.err 1 bad-json.json
	[ "$(cat bad-json.err)" = "ddb-esm: bad-json.json:4: invalid JSON: unexpected character" ]
}

@test "ddb-esm: a stream event is not a mapping: exit 1" {
	esm_like - not-mapping.err 1 not-mapping.json
	[ "$(cat not-mapping.err)" = "ddb-esm: not-mapping.json:1: not an event source mapping: no UUID (a stream event?)" ]
}

@test "ddb-esm: a field of the wrong type: exit 1, the mapping named" {
	esm_like - bad-type.err 1 bad-type.json
	[ "$(cat bad-type.err)" = "ddb-esm: bad-type.json:1: d71dc3f9-c83d-4019-9852-1dc9cfe67a6b: BatchSize is a string, not an integer" ]
}

@test "ddb-esm: a value out of Lambda's range is refused; a list names the mapping" {
	printf '{"EventSourceMappings":[{"UUID":"d71dc3f9-c83d-4019-9852-1dc9cfe67a6b","ParallelizationFactor":11}]}\n' > "$BATS_TEST_TMPDIR/pf.json"
	tool_refuses ddb-esm "ddb-esm: $BATS_TEST_TMPDIR/pf.json:1: d71dc3f9-c83d-4019-9852-1dc9cfe67a6b: ParallelizationFactor 11 is out of range (1 to 10)" "$BATS_TEST_TMPDIR/pf.json"
	printf '{"EventSourceMappings":[{"BatchSize":10}]}\n' > "$BATS_TEST_TMPDIR/nouuid.json"
	tool_says ddb-esm 1 "ddb-esm: $BATS_TEST_TMPDIR/nouuid.json:1: EventSourceMappings[0]: not an event source mapping: no UUID" "$BATS_TEST_TMPDIR/nouuid.json"
}

@test "ddb-esm: the seed's bill at 10 records/s of 1,500 bytes" {
	esm_like seed-bill.exp - 0 -w 10 -Z 1500 seed.json
}

@test "ddb-esm: a recommended mapping's bill at 100 records/s, nothing else" {
	esm_like recommended-bill.exp - 0 -w 100 recommended.json
}

@test "ddb-esm: --help gives usage on stdout, exit 0" {
	run --separate-stderr ddb-esm --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ddb-esm "* ]]
	[ "$stderr" = "" ]
}

@test "ddb-esm: a bad option or value: usage on stderr, exit 2" {
	run --separate-stderr ddb-esm --bogus "$F/seed.json"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"usage: ddb-esm "* ]]
	run --separate-stderr ddb-esm -w 0 "$F/seed.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == 'ddb-esm: -w: "0" is not a number from 1e-06 to 1e+09'* ]]
	run --separate-stderr ddb-esm -J 250 "$F/seed.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == 'ddb-esm: -J: "250" is not MS,US'* ]]
}

# queue_first FILE: every line of FILE that names an SQS queue's ARN comes
# after a create-queue command for that queue (or names no real one)
queue_first() {
	awk '/aws sqs create-queue/ { for (i = 1; i < NF; i++) if ($i == "--queue-name") made[$(i + 1)] = 1 }
	    /arn:aws:sqs:/ { s = $0; sub(/.*arn:aws:sqs:[^:]*:[^:]*:/, "", s); sub(/[^A-Za-z0-9_-].*/, "", s)
		if (!(s in made)) { print "line " NR ": queue " s " named before it is created"; bad = 1 } }
	    END { exit bad }' "$1"
}

@test "ddb-esm: the on-failure queue's create-queue comes before every command that names it" {
	run ddb-esm "$F/seed.json"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	queue_first "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c '^  aws sqs create-queue --region us-east-1 --queue-name student-ddb-to-s3-failed$' "$BATS_TEST_TMPDIR/out")" -eq 2 ]
	grep -qx 'All the updates above in one command, the queue first:' "$BATS_TEST_TMPDIR/out"
	# no command to delete or recreate the mapping
	! grep -e delete-event-source-mapping -e create-event-source-mapping "$BATS_TEST_TMPDIR/out"
}

@test "ddb-esm: a table name SQS does not allow in a queue name: '.' becomes '-', at most 80 characters" {
	long=$(printf 'x%.0s' $(seq 200))
	sed "s|table/student/|table/my.students_2024$long/|" "$F/seed.json" >"$BATS_TEST_TMPDIR/t.json"
	run ddb-esm "$BATS_TEST_TMPDIR/t.json"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	queue_first "$BATS_TEST_TMPDIR/out"
	q=$(awk '/create-queue/ { print $NF; exit }' "$BATS_TEST_TMPDIR/out")
	[ "${#q}" -le 80 ]
	[[ "$q" =~ ^my-students_2024x+-ddb-to-s3-failed$ ]]
}

@test "ddb-esm: without the stream's ARN the queue is a placeholder no one can take for an ARN, and no create-queue" {
	grep -v EventSourceArn "$F/seed.json" >"$BATS_TEST_TMPDIR/noarn.json"
	run ddb-esm "$BATS_TEST_TMPDIR/noarn.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Destination":"arn:aws:sqs:REGION:ACCOUNT:QUEUE"'* ]]
	[[ "$output" != *create-queue* ]]
	[[ "$(echo "$output" | tr '\n' ' ')" == *"put its ARN in place of the placeholder below"* ]]
}

@test "ddb-esm: StartingPosition LATEST of an existing mapping is a note, not a finding: exit 0 under -Q" {
	esm_like recommended-latest.exp - 0 -Q recommended-latest.json
	grep -q '^Note: StartingPosition LATEST matters only when a mapping is created' "$F/recommended-latest.exp"
}

@test "ddb-esm: --shards spreads the rate over the shards: smaller batches, more objects" {
	esm_like recommended-shards-bill.exp - 0 -w 10 --shards 4 recommended.json
	grep -q '^  records a batch  *150  *150$' "$F/recommended-shards-bill.exp"
}

@test "ddb-esm: -J's default is the measured figure, with its date, in --help and the bill" {
	run ddb-esm --help
	[[ "$output" == *"(default 60,42, measured 2026-12-02)"* ]]
	grep -q 'measured 2026-12-02, BENCHMARKS.md' "$F/seed-bill.exp"
	# an explicit -J is said to be the user's, with no date
	run ddb-esm -w 10 -J 250,84 "$F/recommended.json"
	[[ "$output" == *"(-J), at 128/1769"* ]]
}

@test "ddb-esm: --shards must be a whole number from 1 to 100000" {
	for v in 0 1.5 x 100001; do
		run --separate-stderr ddb-esm --shards "$v" "$F/seed.json"
		[ "$status" -eq 2 ]
		[ "$output" = "" ]
		[[ "$stderr" == "ddb-esm: --shards: \"$v\" is not "* ]]
	done
}
