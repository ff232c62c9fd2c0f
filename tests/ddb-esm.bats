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
