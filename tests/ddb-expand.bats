#!/usr/bin/env bats
# ddb-expand: flattened records (wire format 1) to rows (wire format 2)
bats_require_minimum_version 1.5.0
load lib/tool

F="$BATS_TEST_DIRNAME/fixtures/ddb-expand"

# expand_like OUT ERR STATUS ARGS...: run ddb-expand ARGS in $F; its stdout must be
# the file OUT byte for byte, its stderr the file ERR ("-": empty)
expand_like() {
	tool_like ddb-expand "$@"
}

# expand_keeps EXP IN PATTERN...: ddb-expand IN gives EXP (expand_like), and
# EXP holds each PATTERN (grep's): a golden file made again by a broken
# build fails here
expand_keeps() {
	local exp=$1 in=$2 p
	shift 2
	expand_like "$exp" - 0 "$in"
	for p; do
		grep -q -- "$p" "$F/$exp"
	done
}

@test "ddb-expand: seed sample MODIFY gives REMOVE then INSERT" {
	expand_like seed.exp - 0 seed.ndjson
}

@test "ddb-expand: byte for byte, with the final newline" {
	cd "$F"
	cmp seed.exp <(ddb-expand seed.ndjson)
}

@test "ddb-expand: -i gives the seed's order, INSERT then REMOVE" {
	expand_like seed-i.exp - 0 -i seed.ndjson
	expand_like seed-i.exp - 0 --insert-first seed.ndjson
}

@test "ddb-expand: reads stdin, with no file or with -" {
	cd "$F"
	cmp seed.exp <(ddb-expand < seed.ndjson)
	cmp seed.exp <(ddb-expand - < seed.ndjson)
}

@test "ddb-expand: several files, in order" {
	cd "$F"
	cmp <(cat seed.exp insert-remove.exp) \
	    <(ddb-expand seed.ndjson insert-remove.ndjson)
}

@test "ddb-expand: INSERT gives the new image, REMOVE the old one" {
	expand_like insert-remove.exp - 0 insert-remove.ndjson
}

@test "ddb-expand: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE build the missing side from Keys" {
	expand_like views.exp - 0 views.ndjson
}

@test "ddb-expand: numbers keep their exact text, created_at too" {
	expand_keeps numbers.exp numbers.ndjson \
		'"id":12345678901234567890123456789012345678,' \
		'"max":9.9999999999999999999999999999999999999E+125,' \
		'"min":-1E-130,' '"created_at":1720629863.0}$'
}

@test "ddb-expand: nested maps and lists, UTF-8 and / pass through" {
	expand_like nested.exp - 0 nested.ndjson
}

@test "ddb-expand: \\u0000 and control characters survive" {
	expand_keeps nul.exp nul.ndjson '"id":"a\\u0000b"'
}

@test "ddb-expand: pretty-printed records, bad one named by its first line" {
	expand_like pretty.exp pretty.err 1 pretty.json
}

@test "ddb-expand: an attribute named EventType is an error" {
	expand_like collide-event.exp - 0 collide-event.ndjson
}

@test "ddb-expand: names that are an added column's after any number of '_' get one '_' more: one to one, nothing lost (regression: exit 1 on every batch)" {
	expand_like collide-chain.exp - 0 -l SequenceNumber collide-chain.ndjson
}

@test "ddb-expand: -E renames the EventType column" {
	expand_like collide-event-E.exp - 0 -E event_type collide-event.ndjson
	expand_like collide-event-E.exp - 0 --event-type-column=event_type \
	    collide-event.ndjson
}

@test "ddb-expand: an attribute named created_at is written as _created_at, in images and Keys" {
	expand_like collide-created.exp - 0 collide-created.ndjson
	expand_like collide-keys.exp - 0 collide-keys.ndjson
}

@test "ddb-expand: -C renames the created_at column" {
	expand_like collide-created-C.exp - 0 -C approx_created \
	    collide-created.ndjson
	expand_like collide-keys-C.exp - 0 --created-at-column approx_created \
	    collide-keys.ndjson
}

@test "ddb-expand: a renamed column can clash too" {
	expand_like collide-renamed.exp - 0 -E id seed.ndjson
}

@test "ddb-expand: -l adds lineage columns before EventType, in list order" {
	expand_like lineage.exp - 0 -l tableName,eventID,SequenceNumber \
	    seed.ndjson
	expand_like lineage.exp - 0 -l tableName -l eventID \
	    --lineage SequenceNumber seed.ndjson
}

@test "ddb-expand: -l field=column renames a lineage column" {
	expand_like lineage-rename.exp - 0 \
	    -l eventID=event_id,SequenceNumber=seq seed.ndjson
}

@test "ddb-expand: an attribute named like a lineage column gets one '_' more" {
	expand_like collide-lineage.exp - 0 collide-lineage.ndjson
	expand_like collide-lineage-l.exp - 0 -l tableName collide-lineage.ndjson
	expand_like collide-lineage-ok.exp - 0 \
	    -l tableName=source_table,SequenceNumber collide-lineage.ndjson
}

@test "ddb-expand: a lineage field missing or not a string is an error" {
	expand_like lineage-bad.exp lineage-bad.err 1 \
	    -l eventID,SequenceNumber,tableName lineage-bad.ndjson
}

@test "ddb-expand: every bad record is named, the good ones still written" {
	expand_like bad.exp bad.err 1 bad.ndjson
}

@test "ddb-expand: -s stops at the first bad record" {
	expand_like - bad-stop.err 1 -s bad.ndjson
	expand_like - bad-stop.err 1 --stop bad.ndjson insert-remove.ndjson
}

@test "ddb-expand: a bad record writes none of its rows" {
	# the MODIFY's old image is fine, its new image is not
	cd "$F"
	run --separate-stderr ddb-expand - <<-'EOF'
	{"eventID":"m","eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":1,"OldImage":{"id":"1"},"NewImage":["id"]}}
	EOF
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = 'ddb-expand: <stdin>:1: eventID m: dynamodb.NewImage is not an object' ]
}

@test "ddb-expand: a Lambda event instead of a record gets a hint" {
	tool_refuses ddb-expand "ddb-expand: $BATS_TEST_DIRNAME/fixtures/seed-sample.json:1: missing eventName (an event, not a record: run ddb-flatten first)" "$BATS_TEST_DIRNAME/fixtures/seed-sample.json"
}

@test "ddb-expand: truncated input is an error after the rows before it" {
	expand_like truncated.exp truncated.err 1 truncated.ndjson
}

@test "ddb-expand: empty input, no output" {
	run --separate-stderr ddb-expand /dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "ddb-expand: --help on stdout, status 0" {
	run --separate-stderr ddb-expand --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: ddb-expand "* ]]
	[[ "$output" == *"--insert-first"* ]]
	[ -z "$stderr" ]
	run ddb-expand -h
	[ "$status" -eq 0 ]
}

@test "ddb-expand: --version" {
	run --separate-stderr ddb-expand --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ddb-expand "[0-9]* ]]
	run ddb-expand -V
	[ "$status" -eq 0 ]
}

@test "ddb-expand: a bad option is a usage error, status 2" {
	run --separate-stderr ddb-expand -x "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"usage: ddb-expand "* ]]
	run --separate-stderr ddb-expand --event-type-column
	[ "$status" -eq 2 ]
}

@test "ddb-expand: bad -l, -E, -C values are usage errors" {
	run --separate-stderr ddb-expand -l eventId "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: -l: unknown field "eventId" (eventID, SequenceNumber, tableName, userIdentity, source)' ]
	run --separate-stderr ddb-expand -l eventID,,tableName "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: -l: unknown field "" (eventID, SequenceNumber, tableName, userIdentity, source)' ]
	run --separate-stderr ddb-expand -l eventID,eventID=e2 "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: -l: eventID given twice' ]
	run --separate-stderr ddb-expand -E created_at "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: two added columns named "created_at"' ]
	run --separate-stderr ddb-expand -l tableName=EventType "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: two added columns named "EventType"' ]
	run --separate-stderr ddb-expand -C '' "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: an added column needs a name' ]
	run --separate-stderr ddb-expand -l eventID= "$F/seed.ndjson"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = 'ddb-expand: an added column needs a name' ]
}

@test "ddb-expand: a missing file is status 3, the other files still read" {
	cd "$F"
	run --separate-stderr ddb-expand no-such-file.ndjson seed.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "$(cat seed.exp)" ]
	[ "$stderr" = "ddb-expand: no-such-file.ndjson: No such file or directory" ]
}

@test "ddb-expand: bad data and a missing file: status 3 wins" {
	cd "$F"
	run --separate-stderr ddb-expand bad.ndjson no-such-file.ndjson
	[ "$status" -eq 3 ]
	[ "$output" = "$(cat bad.exp)" ]
	[ "$stderr" = "$(cat bad.err)"$'\n'"ddb-expand: no-such-file.ndjson: No such file or directory" ]
}

@test "ddb-expand: a read error is status 3" {
	tool_says ddb-expand 3 "ddb-expand: $F:1: read error: Is a directory" "$F"
}

@test "ddb-expand: a write error (full disk) is status 3" {
	[ -w /dev/full ] || skip "no /dev/full"
	full_disk ddb-expand "$F/seed.ndjson"
}

@test "ddb-expand: ddb-flatten's output of the seed sample gives the same rows" {
	command -v ddb-flatten > /dev/null || skip "ddb-flatten not built"
	run --separate-stderr sh -c 'ddb-flatten "$1" | ddb-expand' sh \
	    "$BATS_TEST_DIRNAME/fixtures/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$F/seed.exp")" ]
}

@test "ddb-expand: ApproximateCreationDateTime as seconds, ms, µs or ISO 8601 text, kept exactly" {
	expand_like times.exp - 0 times.ndjson
	# a string stays a string: csv-emit writes its text
	cmp "$F/times.csv" <(ddb-expand "$F/times.ndjson" | csv-emit)
}

@test "ddb-expand: -U makes created_at ISO 8601 UTC from every form, whatever TZ is" {
	local tz
	expand_like times-utc.exp - 0 -U times.ndjson
	expand_like times-utc.exp - 0 --utc-created-at times.ndjson
	for tz in Asia/Kolkata America/Los_Angeles; do
		TZ=$tz expand_like times-utc.exp - 0 -U times.ndjson
	done
}

@test "ddb-expand: AWS CLI v2 get-records output (ISO 8601 in local time) goes through" {
	# the issue 11 case: CLI v2 under TZ=Asia/Kolkata and UTC
	local in=$BATS_TEST_TMPDIR/cli.json
	sed -e 's/"ApproximateCreationDateTime": 1720629801.0/"ApproximateCreationDateTime": "2024-07-10T22:13:21+05:30"/' \
	    -e 's/"ApproximateCreationDateTime": 1720629802.0/"ApproximateCreationDateTime": "2024-07-10T16:43:22+00:00"/' \
	    -e 's/"ApproximateCreationDateTime": 1720629803.0/"ApproximateCreationDateTime": "2024-07-10T16:43:23.500000+00:00"/' \
	    "$BATS_TEST_DIRNAME/fixtures/ddb-flatten/get-records.json" >"$in"
	grep -c '"ApproximateCreationDateTime": "' "$in" | grep -qx 3
	run --separate-stderr sh -c 'ddb-flatten -n student "$1" | ddb-expand | csv-emit' sh "$in"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$output" = "id,title,EventType,created_at
101,Dune,INSERT,2024-07-10T22:13:21+05:30
101,Dune,REMOVE,2024-07-10T16:43:22+00:00
101,Dune Messiah,INSERT,2024-07-10T16:43:22+00:00
101,Dune Messiah,REMOVE,2024-07-10T16:43:23.500000+00:00" ]
	run --separate-stderr sh -c 'ddb-flatten -n student "$1" | ddb-expand -U | csv-emit' sh "$in"
	[ "$status" -eq 0 ]
	[ "$(cut -d, -f4 <<<"$output" | tr '\n' ' ')" = "created_at 2024-07-10T16:43:21Z 2024-07-10T16:43:22Z 2024-07-10T16:43:22Z 2024-07-10T16:43:23.5Z " ]
}

@test "ddb-expand: an ApproximateCreationDateTime out of 1970..9999 or of another type is bad data" {
	local t
	for t in 253402300800 -1 99999999999999999 '"1969-12-31T23:59:59Z"' \
	    true '"yesterday"' null; do
		run --separate-stderr ddb-expand <<<"{\"eventID\":\"x\",\"eventName\":\"INSERT\",\"dynamodb\":{\"ApproximateCreationDateTime\":$t,\"NewImage\":{\"id\":1}}}"
		[ "$status" -eq 1 ]
		[ "$output" = "" ]
		case $t in
		true) [ "$stderr" = "ddb-expand: <stdin>:1: eventID x: dynamodb.ApproximateCreationDateTime is a boolean, not a number or a string" ] ;;
		null) [ "$stderr" = "ddb-expand: <stdin>:1: eventID x: dynamodb.ApproximateCreationDateTime is null, not a number or a string" ] ;;
		-1|'"yesterday"') [ "$stderr" = "ddb-expand: <stdin>:1: eventID x: dynamodb.ApproximateCreationDateTime is not epoch seconds, milliseconds (13 digits), microseconds (16 digits) or ISO 8601 with Z or an offset" ] ;;
		*) [ "$stderr" = "ddb-expand: <stdin>:1: eventID x: dynamodb.ApproximateCreationDateTime is out of range (years 1970 to 9999)" ] ;;
		esac
	done
}

# --- other sources (fixtures in ../sources: ddb-flatten's output of them) ---
X="$BATS_TEST_DIRNAME/fixtures/sources"

@test "ddb-expand: -l SequenceNumber of a Kinesis record is its kinesis.sequenceNumber" {
	run --separate-stderr sh -c 'ddb-expand -l SequenceNumber=seq < "$1" | jq -r .seq' sh "$X/kinesis-lambda.out"
	[ "$status" -eq 0 ]
	[ "$output" = "49590338271490256608559692538361571095921575989136588891
49590338271490256608559692538361571095921575989136588892
49590338271490256608559692538361571095921575989136588892
49590338271490256608559692538361571095921575989136588893" ]
}

@test "ddb-expand: -l SequenceNumber of a change record that has none says so (bare Kinesis record)" {
	run --separate-stderr ddb-expand -l SequenceNumber "$X/kinesis-records.out"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "${stderr%%$'\n'*}" = "ddb-expand: $X/kinesis-records.out:1: eventID 4b2f6a1e-9c1d-4d7a-9b7e-1f0c2d3e4a01: missing dynamodb.SequenceNumber (asked for by -l; no kinesis.sequenceNumber either)" ]
}

@test "ddb-expand: -l SequenceNumber of a snapshot's record (no eventID: an export, ddb-scan) is null, a backfill row" {
	run --separate-stderr sh -c 'ddb-expand -l SequenceNumber < "$1" | jq -c "[.SequenceNumber, .EventType]" | sort -u' sh "$X/export-full.out"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = '[null,"INSERT"]' ]
}

@test "ddb-expand: -l userIdentity marks DynamoDB's own (TTL) deletes with its principal, null elsewhere" {
	expand_like ttl-mark.exp - 0 -l SequenceNumber,userIdentity ttl-mark.ndjson
	expand_like ttl-mark-renamed.exp - 0 -l userIdentity=expired_by ttl-mark.ndjson
}

@test "ddb-expand: created_at of the other sources: kept exactly, and -U ISO 8601 UTC" {
	[ "$(ddb-expand "$X/kinesis-lambda.out" | jq -r .created_at | tr '\n' ' ')" = "1720629863123 1720629864123456 1720629864123456 1720629865000 " ]
	[ "$(ddb-expand -U "$X/kinesis-lambda.out" | jq -r .created_at | tr '\n' ' ')" = "2024-07-10T16:44:23.123Z 2024-07-10T16:44:24.123456Z 2024-07-10T16:44:24.123456Z 2024-07-10T16:44:25Z " ]
	[ "$(ddb-expand "$X/export-full.out" | jq -r .created_at | sort -u)" = "2024-07-10T16:44:23.028Z" ]
	[ "$(ddb-expand "$X/export-incr-new-and-old.out" | jq -r .created_at | tr '\n' ' ')" = "1720630000000001 1720630000000002 1720630000000002 1720630000000003 " ]
	[ "$(ddb-expand -U "$X/export-incr-new-image.out" | jq -r .created_at | tr '\n' ' ')" = "2024-07-10T16:46:40.000001Z 2024-07-10T16:46:40.000002Z 2024-07-10T16:46:40.000003Z " ]
}

@test "ddb-expand: --keys-out writes the names of the records' dynamodb.Keys, each once, as a JSON array" {
	run --separate-stderr ddb-expand --keys-out "$BATS_TEST_TMPDIR/k" "$F/keys.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(cat "$BATS_TEST_TMPDIR/k")" = '["customer","order_id"]' ]
	# records without Keys: an empty list
	ddb-expand --keys-out="$BATS_TEST_TMPDIR/k" "$F/seed.ndjson" >/dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/k")" = '["id"]' ]
	ddb-expand --keys-out "$BATS_TEST_TMPDIR/k" </dev/null
	[ "$(cat "$BATS_TEST_TMPDIR/k")" = '[]' ]
	run --separate-stderr ddb-expand --keys-out "$BATS_TEST_TMPDIR/no/k" "$F/keys.ndjson"
	[ "$status" -eq 3 ]
	[ "$stderr" = "ddb-expand: $BATS_TEST_TMPDIR/no/k: No such file or directory" ]
}
