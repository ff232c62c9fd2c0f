#!/usr/bin/env bats
# csv-emit: rows (wire format 2) to RFC 4180 CSV
bats_require_minimum_version 1.5.0
load lib/tool

F="$BATS_TEST_DIRNAME/fixtures/csv-emit"

# emit_like OUT STATUS ERR ARGS...: run csv-emit ARGS in $F; its stdout must
# be the file OUT byte for byte ("-": empty), its stderr the text ERR
emit_like() {
	local out=$1 want=$2 errtext=$3 t=$BATS_TEST_TMPDIR
	shift 3
	cd "$F"
	if [ "$out" != - ]; then
		cat "$out" > "$t/exp"
		out=$t/exp
	fi
	tool_run csv-emit "$want" "$@"
	if [ "$out" = - ]; then
		cmp /dev/null "$t/out"
	else
		diff -u "$out" "$t/out"
		cmp "$out" "$t/out"
	fi
	if [ -z "$errtext" ]; then
		diff -u /dev/null "$t/err"
	else
		diff -u <(printf '%s\n' "$errtext") "$t/err"
	fi
}

@test "csv-emit: the seed's rows give exactly the SPEC's CSV" {
	emit_like ../seed-sample.csv 0 "" seed-rows.ndjson
}

@test "csv-emit: rows on stdin, and - for stdin" {
	cd "$F"
	cmp ../seed-sample.csv <(csv-emit < seed-rows.ndjson)
	cmp ../seed-sample.csv <(csv-emit - < seed-rows.ndjson)
}

@test "csv-emit: several files make one CSV with one header" {
	cd "$F"
	run -0 csv-emit seed-rows.ndjson - seed-rows.ndjson < seed-rows.ndjson
	[ "$output" = "$(cat ../seed-sample.csv; tail -n 2 ../seed-sample.csv; tail -n 2 ../seed-sample.csv)" ]
}

@test "csv-emit: header is the union of keys, missing cells empty" {
	emit_like union.csv 0 "" union.ndjson
}

@test "csv-emit: EventType and created_at last even when rows start with them or lack them" {
	emit_like special-first.csv 0 "" special-first.ndjson
}

@test "csv-emit: quoting: delimiter, quote, CR, LF quoted; spaces, tabs, empty not" {
	emit_like quoting.csv 0 "" quoting.ndjson
}

@test "csv-emit: --delimiter ';' quotes ';' and no longer ','" {
	emit_like quoting-semi.csv 0 "" --delimiter ';' quoting.ndjson
}

@test "csv-emit: -d '\\t' and a literal TAB both give TSV, a TAB in a cell quoted" {
	emit_like quoting-tab.csv 0 "" -d '\t' quoting.ndjson
	emit_like quoting-tab.csv 0 "" -d "$(printf '\t')" quoting.ndjson
}

@test "csv-emit: header names are quoted like cells" {
	emit_like odd-keys.csv 0 "" odd-keys.ndjson
}

@test "csv-emit: maps and lists as compact JSON, '/' unescaped, UTF-8, exact numbers" {
	emit_like nested.csv 0 "" nested.ndjson
}

@test "csv-emit: numbers keep their exact text (38 digits, E+125, E-130, .0, -0)" {
	emit_like numbers.csv 0 "" numbers.ndjson
}

@test "csv-emit: true/false as words, null as empty" {
	emit_like bool-null.csv 0 "" bool-null.ndjson
}

@test "csv-emit: --null sets the text of null and missing cells" {
	emit_like bool-null-n.csv 0 "" --null '\N' bool-null.ndjson
	emit_like bool-null-n.csv 0 "" -N '\N' bool-null.ndjson
}

@test "csv-emit: -n is no option any more (one letter, one meaning: -N is --null)" {
	run --separate-stderr csv-emit -n '\N' "$F/bool-null.ndjson"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"csv-emit: invalid option -- 'n'"$'\n'"usage: csv-emit [-Hz] [-f csv|jsonl] [-d C] [-N TEXT] "* ]]
}

@test "csv-emit: --null text is quoted when it must be" {
	cd "$F"
	run -0 --separate-stderr csv-emit -N 'a,"b' -c t bool-null.ndjson -x drop
	[ "${lines[1]}" = 'true,INSERT,"a,""b"' ]
	[ "${lines[2]}" = 'false,"a,""b","a,""b"' ]
}

@test "csv-emit: a NUL byte in a string survives" {
	emit_like nul.csv 0 "" nul.ndjson
	cmp <(printf 'a,b,c,EventType,created_at\nx\0y,\0,"q""\0,",,\n') \
		<(csv-emit "$F/nul.ndjson")
	[ "$(csv-emit "$F/nul.ndjson" | od -An -c | tr -d '\n' | tr -s ' ')" = \
		' a , b , c , E v e n t T y p e , c r e a t e d _ a t \n x \0 y , \0 , " q " " \0 , " , , \n' ]
}

@test "csv-emit: no rows in, no output at all, exit 0" {
	emit_like - 0 "" empty.ndjson
	emit_like - 0 "" blank.ndjson
	emit_like - 0 "" -c a,b empty.ndjson
	emit_like - 0 "" < /dev/null
}

@test "csv-emit: --no-header" {
	cd "$F"
	run -0 csv-emit --no-header seed-rows.ndjson
	[ "$output" = "$(tail -n 2 ../seed-sample.csv)" ]
	run -0 csv-emit -H -c fname,number,lname,id -x fail seed-rows.ndjson
	[ "$output" = "$(tail -n 2 ../seed-sample.csv)" ]
}

@test "csv-emit: --columns gives the seed's CSV too" {
	emit_like ../seed-sample.csv 0 "" --columns fname,number,lname,id -x fail seed-rows.ndjson
	emit_like ../seed-sample.csv 0 "" -c fname,number,lname,id,EventType,created_at -x drop seed-rows.ndjson
}

@test "csv-emit: --columns keeps the list's order, adds EventType last when not named" {
	emit_like <(head -n 3 "$F/columns-order.csv") 0 "" -c created_at,name,id -x fail \
		<(head -n 1 "$F/extra.ndjson") <(sed -n 2p "$F/extra.ndjson" | jq -c 'del(.color)')
	emit_like columns-order.csv 0 'csv-emit: dropped cells of attributes not in --columns: "color" 2, "size" 1, "tags" 1' \
		-c created_at,name,id -x drop extra.ndjson
}

@test "csv-emit: --columns: a missing listed column is an empty cell" {
	emit_like union.csv 0 "" -c id,name,email,zip -x fail union.ndjson
}

@test "csv-emit: --extra drop drops and counts per attribute on stderr" {
	emit_like columns-drop.csv 0 'csv-emit: dropped cells of attributes not in --columns: "color" 2, "size" 1, "tags" 1' \
		-c id,name --extra drop extra.ndjson
}

@test "csv-emit: --extra gather=NAME puts the others in one JSON column" {
	emit_like columns-gather.csv 0 "" -c id,name --extra gather=rest extra.ndjson
	emit_like columns-gather.csv 0 "" -c id,name -x gather=rest extra.ndjson
}

@test "csv-emit: --extra gather: an attribute named like the gather column is gathered, not lost" {
	emit_like gather-clash.csv 0 "" -c id -x gather=rest gather-clash.ndjson
}

@test "csv-emit: --columns without --extra gathers the others into column extra: a new attribute never stops a stream" {
	emit_like <(sed '1s/rest/extra/' "$F/columns-gather.csv") 0 "" -c id,name extra.ndjson
}

@test "csv-emit: --extra fail names each attribute and its line; good rows written" {
	emit_like <(head -n 2 "$F/columns-drop.csv") 1 \
		'csv-emit: extra.ndjson:2: attribute "color" is not in --columns (see --extra)
csv-emit: extra.ndjson:3: attribute "size" is not in --columns (see --extra)
csv-emit: extra.ndjson:3: attribute "tags" is not in --columns (see --extra)' \
		-c id,name -x fail extra.ndjson
	emit_like unknown-col.csv 1 \
		'csv-emit: unknown-col.ndjson:3: attribute "x\"y" is not in --columns (see --extra)' \
		-c id --extra fail unknown-col.ndjson
}

@test "csv-emit: --extra fail names each attribute once, then counts the other rows" {
	emit_like <(printf 'id,EventType,created_at\n3,,\n') 1 \
		'csv-emit: same-unknown.ndjson:1: attribute "x" is not in --columns (see --extra)
csv-emit: 2 more rows refused for attributes not in --columns' \
		-c id -x fail same-unknown.ndjson
}

@test "csv-emit: -E and -C name the added columns" {
	emit_like renamed.csv 0 "" -E op -C ts renamed.ndjson
	emit_like renamed.csv 0 "" --event-type-column op --created-at-column ts renamed.ndjson
	emit_like renamed.csv 0 "" -E op -C ts -c id,EventType -x fail renamed.ndjson
}

@test "csv-emit: invalid JSON: exit 1, message with line, no output at all" {
	emit_like - 1 'csv-emit: bad-json.ndjson:2: invalid JSON: unexpected character' \
		bad-json.ndjson
}

@test "csv-emit: a row that is not an object: exit 1, every one named, no output" {
	emit_like - 1 'csv-emit: not-object.ndjson:2: a row must be a JSON object, not an array
csv-emit: not-object.ndjson:3: a row must be a JSON object, not a string
csv-emit: not-object.ndjson:4: a row must be a JSON object, not a number
csv-emit: not-object.ndjson:5: invalid JSON: no value
csv-emit: not-object.ndjson:6: a row must be a JSON object, not a boolean' \
		not-object.ndjson
}

@test "csv-emit: bad input with --columns: good rows written, exit 1" {
	emit_like <(printf 'id,EventType,created_at\n1,,\n7,,\n') 1 \
		'csv-emit: not-object.ndjson:2: a row must be a JSON object, not an array
csv-emit: not-object.ndjson:3: a row must be a JSON object, not a string
csv-emit: not-object.ndjson:4: a row must be a JSON object, not a number
csv-emit: not-object.ndjson:5: invalid JSON: no value
csv-emit: not-object.ndjson:6: a row must be a JSON object, not a boolean' \
		-c id -x drop not-object.ndjson
}

@test "csv-emit: truncated input: exit 1, no output" {
	emit_like - 1 'csv-emit: truncated.ndjson:3: input ends inside the value that starts on line 2' \
		truncated.ndjson
}

@test "csv-emit: duplicate key: exit 1, no output" {
	emit_like - 1 'csv-emit: dup-key.ndjson:2: an object has a duplicate key' dup-key.ndjson
}

@test "csv-emit: what the reader refuses is exit 1 with no output" {
	emit_like - 1 'csv-emit: nul-key.ndjson:2: an object key holds \u0000' nul-key.ndjson
	emit_like - 1 'csv-emit: nan.ndjson:2: NaN and Infinity are not JSON' nan.ndjson
	emit_like - 1 'csv-emit: ctrl.ndjson:2: control character in a string' ctrl.ndjson
	emit_like - 1 'csv-emit: raw-nul.ndjson:2: NUL byte in input' raw-nul.ndjson
}

@test "csv-emit: a bad row in a later file still means no output" {
	emit_like - 1 'csv-emit: bad-json.ndjson:2: invalid JSON: unexpected character' \
		seed-rows.ndjson bad-json.ndjson
}

@test "csv-emit: a full disk is exit 3 with a message" {
	cd "$F"
	full_disk csv-emit seed-rows.ndjson
	full_disk csv-emit -c id -x drop seed-rows.ndjson
}

@test "csv-emit: a big input to /dev/full stops with exit 3" {
	run --separate-stderr sh -c 'yes "{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}" | head -n 20000 | csv-emit -c a > /dev/full'
	[ "$status" -eq 3 ]
	[ "$stderr" = "csv-emit: stdout: No space left on device" ]
}

@test "csv-emit: a temporary file that cannot be made is exit 3, no output" {
	TMPDIR=$BATS_TEST_TMPDIR/none emit_like - 3 \
		"csv-emit: temporary file in $BATS_TEST_TMPDIR/none: No such file or directory" \
		seed-rows.ndjson
}

@test "csv-emit: a temporary file that cannot be written (file too large) is exit 3, no output" {
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "{\"id\":\"%d\",\"pad\":\"%090d\"}\n", i, i }' \
		> "$BATS_TEST_TMPDIR/rows.ndjson"
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 100; csv-emit "$1" | wc -c' \
		bash "$BATS_TEST_TMPDIR/rows.ndjson"
	[ "$output" -eq 0 ]
	[ "$stderr" = "csv-emit: temporary file: File too large" ]
	run bash -c 'trap "" XFSZ; ulimit -f 100; csv-emit "$1" > /dev/null' \
		bash "$BATS_TEST_TMPDIR/rows.ndjson"
	[ "$status" -eq 3 ]
}

@test "csv-emit: the temporary file is in TMPDIR and gone at once" {
	mkdir "$BATS_TEST_TMPDIR/spool"
	cd "$F"
	TMPDIR=$BATS_TEST_TMPDIR/spool run -0 csv-emit seed-rows.ndjson
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/spool")" ]
}

@test "csv-emit: missing file is exit 3, no output" {
	emit_like - 3 'csv-emit: no-such-file: No such file or directory' \
		seed-rows.ndjson no-such-file
}

@test "csv-emit: a directory is a read error, exit 3" {
	emit_like - 3 'csv-emit: .:1: read error: Is a directory' .
}

@test "csv-emit: memory stays small on a big input (spooled, not held)" {
	if ldd "$(command -v csv-emit)" | grep -q libasan; then
		skip "RSS means nothing under ASan"
	fi
	command -v /usr/bin/time || skip "no /usr/bin/time"
	# 60 MB of rows whose keys change, so the header waits for the end
	awk 'BEGIN { for (i = 0; i < 300000; i++)
		printf "{\"id\":\"%d\",\"name\":\"%0150d\",\"k%d\":1}\n", i, i, i % 50 }' \
		> "$BATS_TEST_TMPDIR/big.ndjson"
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
		csv-emit "$BATS_TEST_TMPDIR/big.ndjson" > "$BATS_TEST_TMPDIR/big.csv"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/big.csv")" -eq 300001 ]
	[ "$(head -c 40 "$BATS_TEST_TMPDIR/big.csv")" = "id,name,k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,k1" ]
	echo "peak RSS $(cat "$BATS_TEST_TMPDIR/rss") KB"
	[ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 16384 ]
}

@test "csv-emit: --help is exit 0 on stdout" {
	run --separate-stderr csv-emit --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: csv-emit "* ]]
	[ -z "$stderr" ]
	run -0 csv-emit -h
	[[ "$output" == "usage: csv-emit "* ]]
}

@test "csv-emit: --version" {
	run -0 csv-emit --version
	[[ "$output" == "csv-emit "[0-9]* ]]
	run -0 csv-emit -V
	[[ "$output" == "csv-emit "[0-9]* ]]
}

@test "csv-emit: bad usage is exit 2 with usage on stderr" {
	local bad
	for bad in "--bogus" "-d ab" "-d \"" "--delimiter=" "-x keep -c a" \
		"-x gather= -c a" "-x drop" "-c a,,b" "-c a,b,a" \
		"-c a -x gather=a" "-c a -x gather=EventType" "-E x -C x" "--event-type-column="; do
		run --separate-stderr csv-emit $bad /dev/null
		echo "$bad: $status $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == *"usage: csv-emit "* ]]
	done
}

@test "csv-emit: bad usage messages say what is wrong" {
	run --separate-stderr csv-emit -x drop /dev/null
	[ "${stderr_lines[0]}" = "csv-emit: --extra needs --columns" ]
	run --separate-stderr csv-emit -c a,b,a /dev/null
	[ "${stderr_lines[0]}" = "csv-emit: --columns: a column listed twice: a" ]
	run --separate-stderr csv-emit -d ab /dev/null
	[ "${stderr_lines[0]}" = 'csv-emit: --delimiter: one byte other than ", CR and LF, or \t: ab' ]
}

# late_rows DIR [NULL]: rows.ndjson, 10,000 rows of ~120 bytes whose column
# "late" is first seen at row 7,001 (past the first 256 KB the spool writes
# at a time), and want.csv, the CSV they make with NULL for the -N text,
# written here by awk
late_rows() {
	awk -v d="$1" -v n="${2-}" 'BEGIN {
		print "id,pad,late,EventType,created_at" > (d "/want.csv")
		for (i = 0; i < 10000; i++) {
			l = i == 7000 ? ",\"late\":\"x\"" : ""
			printf "{\"id\":\"%d\",\"pad\":\"%090d\"%s}\n", i, i, l > (d "/rows.ndjson")
			printf "%d,%090d,%s,%s,%s\n", i, i, (i == 7000 ? "x" : n), n, n > (d "/want.csv")
		}
	}'
}

@test "csv-emit: spooled rows reach a file, a file opened to append and a pipe alike" {
	# a file is written from the spool by sendfile, an O_APPEND file by
	# read and write (sendfile refuses it), a pipe by sendfile again
	local t=$BATS_TEST_TMPDIR
	late_rows "$t"
	csv-emit "$t/rows.ndjson" > "$t/file.csv"
	cmp "$t/want.csv" "$t/file.csv"
	echo before > "$t/append.csv"
	csv-emit "$t/rows.ndjson" >> "$t/append.csv"
	cmp <(echo before; cat "$t/want.csv") "$t/append.csv"
	csv-emit < "$t/rows.ndjson" | cat > "$t/pipe.csv"
	cmp "$t/want.csv" "$t/pipe.csv"
	# with -N, the late column's earlier cells are the -N text too
	late_rows "$t" NA
	csv-emit -N NA "$t/rows.ndjson" > "$t/na.csv"
	cmp "$t/want.csv" "$t/na.csv"
}

@test "csv-emit: a pipe closed while spooled rows are copied to it is exit 3 with SIGPIPE ignored" {
	late_rows "$BATS_TEST_TMPDIR"
	run --separate-stderr bash -c 'trap "" PIPE; csv-emit "$1" | head -c 1 > /dev/null' \
		bash "$BATS_TEST_TMPDIR/rows.ndjson"
	[ "$stderr" = "csv-emit: stdout: Broken pipe" ]
	run bash -c 'trap "" PIPE; csv-emit "$1" 2>/dev/null | head -c 1 > /dev/null; echo "${PIPESTATUS[0]}"' \
		bash "$BATS_TEST_TMPDIR/rows.ndjson"
	[ "$output" = 3 ]
}

@test "csv-emit: SIGPIPE left alone: a closed pipe just stops it" {
	run -0 sh -c 'yes "{\"a\":1}" | head -n 100000 | csv-emit -c a -x fail | head -n 1'
	[ "$output" = "a,EventType,created_at" ]
}

@test "csv-emit: rows as ddb-expand writes them and the same rows spelled otherwise give one CSV" {
	# after the first row (which names the columns), the first file is
	# copied cell by cell (the fast path), the second
	# (white space, \/, \u00e9, \u001F, \u000a) goes through the parser
	emit_like spellings.csv 0 "" spellings.ndjson
	emit_like spellings.csv 0 "" spellings-other.ndjson
	emit_like spellings.csv 0 "" -c id,m,s,l,o,n -x fail spellings.ndjson
}

@test "csv-emit: strings, numbers and true/false copied from the row are quoted when they hold the delimiter" {
	# rows 2 and 3 take the fast path (their keys are known)
	emit_like delim-plain-semicolon.csv 0 "" -d ';' delim-plain.ndjson
	emit_like delim-plain-point.csv 0 "" -d . delim-plain.ndjson
	emit_like delim-plain-u.csv 0 "" -d u delim-plain.ndjson
	emit_like delim-plain-point.csv 0 "" -d . -c s,n,b -x fail delim-plain.ndjson
}

@test "csv-emit: a duplicate key inside a map cell, at any depth, is refused" {
	emit_like - 1 "csv-emit: dup-nested.ndjson:2: an object has a duplicate key
csv-emit: dup-nested.ndjson:3: an object has a duplicate key" dup-nested.ndjson
}

@test "csv-emit: a row nested 80 levels deep is a row, 81 is refused" {
	local t=$BATS_TEST_TMPDIR
	# the first row names the column: the second may take the fast path
	awk -v d=79 'BEGIN { print "{\"a\":0}"; printf "{\"a\":"; for (i = 0; i < d; i++) printf "[";
		for (i = 0; i < d; i++) printf "]"; print "}" }' >"$t/d80.ndjson"
	awk -v d=80 'BEGIN { print "{\"a\":0}"; printf "{\"a\":"; for (i = 0; i < d; i++) printf "[";
		for (i = 0; i < d; i++) printf "]"; print "}" }' >"$t/d81.ndjson"
	run --separate-stderr csv-emit "$t/d80.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "a,EventType,created_at
0,,
$(printf '[%.0s' $(seq 79); printf ']%.0s' $(seq 79)),," ]
	run --separate-stderr csv-emit "$t/d81.ndjson"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "csv-emit: $t/d81.ndjson:2: nesting deeper than 80 levels" ]
}

@test "csv-emit: --table-columns: the header is the table's list, new columns appended at its end, empty cells where a row lacks one" {
	t=$BATS_TEST_TMPDIR
	emit_like table-tail.csv 0 "" -t table-list.columns -o "$t/out.columns" union.ndjson
	# the list written back keeps the members it does not know
	cmp "$F/table-tail.columns" "$t/out.columns"
	emit_like table-tail.csv 0 "" --table-columns table-list.columns \
		--columns-out "$t/out2.columns" union.ndjson
	cmp "$F/table-tail.columns" "$t/out2.columns"
	# the list it wrote, read again: the same header, no column added
	emit_like table-tail.csv 0 "" -t "$t/out.columns" -o "$t/again.columns" union.ndjson
	cmp "$F/table-tail.columns" "$t/again.columns"
}

@test "csv-emit: --table-columns: a list that is empty gives the header of a new table (EventType and created_at last)" {
	t=$BATS_TEST_TMPDIR
	emit_like union.csv 0 "" -t table-empty.columns -o "$t/out.columns" union.ndjson
	cmp "$F/union.columns" "$t/out.columns"
	emit_like union.csv 0 "" -o "$t/out2.columns" union.ndjson
	cmp "$F/union.columns" "$t/out2.columns"
}

@test "csv-emit: --table-columns: an earlier object's header is a prefix of every later one" {
	t=$BATS_TEST_TMPDIR
	printf '{"columns":[]}\n' >"$t/l"
	cd "$F"
	for n in 1 2 3; do
		sed -n "${n}p" union.ndjson >"$t/rows"
		csv-emit -t "$t/l" -o "$t/l.new" "$t/rows" >"$t/$n.csv"
		mv "$t/l.new" "$t/l"
	done
	[ "$(head -n 1 "$t/1.csv")" = id,name,EventType,created_at ]
	[ "$(head -n 1 "$t/2.csv")" = id,name,EventType,created_at,email ]
	[ "$(head -n 1 "$t/3.csv")" = id,name,EventType,created_at,email,zip ]
	[ "$(cat "$t/l")" = '{"columns":["id","name","EventType","created_at","email","zip"]}' ]
}

@test "csv-emit: --table-columns with --columns: the list, then the declared columns it lacks, gather, lineage columns (-l), EventType, created_at" {
	t=$BATS_TEST_TMPDIR
	emit_like table-declared.csv 0 "" -t table-list.columns -c id,zip,seq -l seq,src \
		-x gather=rest -o "$t/out.columns" union.ndjson
	cmp "$F/table-declared.columns" "$t/out.columns"
	# no list: the declared columns, gather, lineage, EventType, created_at
	emit_like <(printf 'id,extra,seq,EventType,created_at\n1,"{""name"":""a""}",,INSERT,1\n') 0 "" \
		-c id -l seq <(head -n 1 "$F/union.ndjson")
}

@test "csv-emit: no rows: the list goes out as it came; bad rows: no list written" {
	t=$BATS_TEST_TMPDIR
	emit_like - 0 "" -t table-list.columns -o "$t/out.columns" empty.ndjson
	cmp "$F/table-list.columns" "$t/out.columns"
	emit_like - 1 'csv-emit: bad-json.ndjson:2: invalid JSON: unexpected character' \
		-t table-list.columns -o "$t/bad.columns" bad-json.ndjson
	[ ! -e "$t/bad.columns" ]
	[ -z "$(ls "$t" | grep -v '^out.columns$' | grep -v '^exp$\|^out$\|^err$')" ]
}

@test "csv-emit: a bad --table-columns file: exit 1 (or 3 unreadable) with its name, no output" {
	t=$BATS_TEST_TMPDIR
	for c in '[]' '{"columns":"id"}' '{"cols":[]}' '{"columns":["id",1]}' \
		'{"columns":["id",""]}' '{"columns":["id","id"]}' '{"columns":[]} {}' ''; do
		printf '%s\n' "$c" >"$t/l"
		run --separate-stderr csv-emit -t "$t/l" "$F/union.ndjson"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[[ "$stderr" == "csv-emit: $t/l:"* ]]
	done
	printf '{"columns":["id","id"]}\n' >"$t/l"
	run --separate-stderr csv-emit -t "$t/l" "$F/union.ndjson"
	[ "$stderr" = "csv-emit: $t/l:1: column \"id\" listed twice" ]
	run --separate-stderr csv-emit -t "$t/none" "$F/union.ndjson"
	[ "$status" -eq 3 ]
	[ "$stderr" = "csv-emit: $t/none: No such file or directory" ]
}

@test "csv-emit: --lineage-columns needs --columns, names each column once: usage errors" {
	for bad in "-l seq" "-c a -l seq,seq" "-c a -l EventType" "-c a -l ,x" "-c a -l seq -x gather=seq"; do
		run --separate-stderr csv-emit $bad /dev/null
		[ "$status" -eq 2 ]
		[[ "$stderr" == "csv-emit: "*"
usage: csv-emit "* ]]
	done
}

@test "csv-emit: -z writes the CSV gzip-compressed in process: gzip -n's bytes for a small file, the same CSV for a large one, nothing without rows" {
	local t=$BATS_TEST_TMPDIR
	cd "$F"
	run --separate-stderr csv-emit -z bool-null.ndjson
	[ "$status" -eq 0 ]
	cmp <(csv-emit -z bool-null.ndjson) <(csv-emit bool-null.ndjson | gzip -n -c)
	# beyond about 60 KB GNU gzip's own deflate and zlib's choose other
	# blocks: both are gzip, the CSV is the same
	for i in $(seq 1 3000); do
		printf '{"id":%d,"n":12345678901234567890123456789012345678,"s":"row %d of many","EventType":"INSERT","created_at":1720629863.0}\n' "$i" "$i"
	done >"$t/big.ndjson"
	csv-emit -z "$t/big.ndjson" >"$t/big.csv.gz"
	[ "$(wc -c <"$t/big.csv.gz")" -lt "$(csv-emit "$t/big.ndjson" | wc -c)" ]
	gzip -t "$t/big.csv.gz"
	cmp <(gzip -dc "$t/big.csv.gz") <(csv-emit "$t/big.ndjson")
	# no rows: no output at all, as without -z
	run --separate-stderr csv-emit -z blank.ndjson
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# a full disk is a write error (3)
	run csv-emit -z bool-null.ndjson
	[ "$status" -eq 0 ]
	full_disk csv-emit -z bool-null.ndjson
}

@test "csv-emit -f jsonl: the CSV's cells as JSON lines by column name; a -N cell left out" {
	printf '%s\n' '{"a":"x,\"y\"","m":{"k":[1,2]},"EventType":"INSERT","created_at":1720629863.0}' \
		'{"b":"line\nbreak","a":null,"EventType":"REMOVE","created_at":"2024-07-10T16:44:23Z"}' \
		'{"a":"\\N","n":12.50,"t":true,"EventType":"INSERT","created_at":1}' >"$BATS_TEST_TMPDIR/rows"
	run --separate-stderr csv-emit -f jsonl -N '\N' "$BATS_TEST_TMPDIR/rows"
	[ "$status" -eq 0 ]
	diff -u - <(printf '%s\n' "$output") <<-'EOF2'
	{"a":"x,\"y\"","m":"{\"k\":[1,2]}","EventType":"INSERT","created_at":"1720629863.0"}
	{"b":"line\nbreak","EventType":"REMOVE","created_at":"2024-07-10T16:44:23Z"}
	{"n":"12.50","t":"true","EventType":"INSERT","created_at":"1"}
	EOF2
	# the same cells as the CSV, named by its header: read back, row by row
	diff -u <(csv-emit -N '\N' "$BATS_TEST_TMPDIR/rows" | python3 -c 'import csv,sys,json
r = list(csv.reader(sys.stdin))
for row in r[1:]: print(json.dumps({k: v for k, v in zip(r[0], row) if v != "\\N"}, separators=(",", ":")))') <(printf '%s\n' "$output" | jq -c .)
	run --separate-stderr csv-emit --format=jsonl -c a,zz -x gather=rest "$BATS_TEST_TMPDIR/rows"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"a":"x,\"y\"","rest":"{\"m\":{\"k\":[1,2]}}","EventType":"INSERT","created_at":"1720629863.0"}' ]
	run --separate-stderr csv-emit -f jsonl </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr csv-emit -f xml </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "csv-emit: --format: csv or jsonl, not xml"$'\n'"usage: csv-emit "* ]]
	run --separate-stderr csv-emit -f jsonl -H </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "csv-emit: --format jsonl names cells by the header: not with -H"$'\n'"usage: "* ]]
	run --separate-stderr csv-emit -f jsonl -c a -x fail "$BATS_TEST_TMPDIR/rows"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

# tests/rowpath-test.c: each input through csv-emit twice under nine sets of
# options, rows read from their text (take_row) and rows parsed (render_row)
@test "csv-emit: a row read from its text gives the parser's cells and messages (the fast row path and the plain one agree on fixtures, the fuzz corpus and random rows)" {
	local t corpus
	t="$(dirname "$(command -v csv-emit)")/../tests/rowpath-test"
	if grep -qa -e '--error-exitcode=99' "$(command -v csv-emit)"; then
		# under valgrind (make valgrind) a run costs a third of a
		# second: csv-emit's own fixtures and a few random files
		set -- -n 4 -r 150 "$F"/*.ndjson
	else
		set -- -n 24 -r 250 "$BATS_TEST_DIRNAME/fixtures" \
			"$BATS_TEST_DIRNAME"/fixtures/*/
		for corpus in seeds corpus; do
			corpus="$BATS_TEST_DIRNAME/../build-fuzz/$corpus/csv-emit"
			[ ! -d "$corpus" ] || set -- "$@" "$corpus"
		done
	fi
	cd "$BATS_TEST_TMPDIR"
	run "$t" -s 7 "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" 0 differ" ]]
	# take_row must have taken rows, or the test proves nothing
	[[ "$output" != *" 0 rows taken"* ]]
}
