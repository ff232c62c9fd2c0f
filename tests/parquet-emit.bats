#!/usr/bin/env bats
# parquet-emit: rows (wire format 2) to one Parquet file, read back by two
# readers nobody here wrote (DuckDB, hyparquet) and compared with csv-emit
bats_require_minimum_version 1.5.0
load lib/tool
load lib/parquet

F="$BATS_TEST_DIRNAME/fixtures/csv-emit"

@test "parquet-emit: the seed's rows: both readers give csv-emit's cells" {
	cd "$F"
	pq_same "" "" seed-rows.ndjson
}

@test "parquet-emit: csv-emit's fixtures: both readers give csv-emit's cells, by name" {
	cd "$F"
	local f
	for f in union special-first quoting nested numbers bool-null nul \
	    spellings spellings-other delim-plain gather-clash; do
		echo "$f"
		pq_same "" "" "$f.ndjson"
	done
	pq_same "-E op -C ts" "" renamed.ndjson
	pq_same "-c id,name -x drop" "" extra.ndjson
	pq_same "-c id,name -x gather=rest" "" extra.ndjson
	pq_same "-c created_at,name,id -x drop" "" extra.ndjson
	pq_same "-c id -x gather=rest" "" gather-clash.ndjson
	pq_same "-c id,m,s,l,o,n" "" spellings.ndjson
	pq_same "-c id,name" "" extra.ndjson
}

@test "parquet-emit: the table's column list (-t, -o) and lineage columns (-l): csv-emit's columns" {
	cd "$F"
	local t=$BATS_TEST_TMPDIR
	pq_same "-t table-list.columns" "" union.ndjson
	pq_same "-t table-empty.columns" "" union.ndjson
	pq_same "-t table-declared.columns -c id" "" union.ndjson
	pq_same "-c id -l lin_a,lin_b" "" union.ndjson
	# -o writes the list csv-emit writes
	csv-emit -t table-list.columns -o "$t/csv.columns" union.ndjson > /dev/null
	parquet-emit -t table-list.columns -o "$t/pq.columns" union.ndjson > /dev/null
	cmp "$t/csv.columns" "$t/pq.columns"
	cmp table-tail.columns "$t/pq.columns"
}

@test "parquet-emit: every row ddb-expand's fixtures hold: both readers give csv-emit's cells" {
	local f n=0
	for f in "$BATS_TEST_DIRNAME"/fixtures/ddb-expand/*.exp; do
		[ -s "$f" ] || continue
		echo "$f"
		pq_same "" "" "$f"
		n=$((n + 1))
	done
	[ "$n" -gt 20 ]
}

@test "parquet-emit: odd column names (empty, quotes, commas, LF) are the names" {
	cd "$F"
	local t=$BATS_TEST_TMPDIR
	parquet-emit odd-keys.ndjson > "$t/o.parquet"
	csv-emit -N '\N' odd-keys.ndjson > "$t/want.csv"
	"$LIB/hyparquet" "$t/o.parquet" '\N' | diff -u "$t/want.csv" -
	# DuckDB names an empty column name C2 itself: its rows only
	duck_csv "$t/o.parquet" | tail -n +3 | diff -u <(tail -n +3 "$t/want.csv") -
}

@test "parquet-emit: types: S, N, maps and lists as STRING text, true/false as BOOLEAN, mixed as text" {
	local t=$BATS_TEST_TMPDIR
	printf '%s\n' '{"s":"x","n":12345678901234567890123456789012345678,"b":true,"m":{"a":[1,"/"]},"mix":true,"e":"","z":null,"EventType":"INSERT","created_at":1720629863.0}' \
		'{"s":"","n":-1E-130,"b":false,"m":[],"mix":"no","e":null,"EventType":"REMOVE","created_at":"2024-07-10T16:44:23Z"}' \
		> "$t/rows.ndjson"
	parquet-emit "$t/rows.ndjson" > "$t/t.parquet"
	[ "$(meta "$t/t.parquet" '[.columns[] | "\(.name):\(.type):\(.logical)"]')" = \
		'["s:BYTE_ARRAY:STRING","n:BYTE_ARRAY:STRING","b:BOOLEAN:null","m:BYTE_ARRAY:STRING","mix:BYTE_ARRAY:STRING","e:BYTE_ARRAY:STRING","z:BYTE_ARRAY:STRING","EventType:BYTE_ARRAY:STRING","created_at:BYTE_ARRAY:STRING"]' ]
	run -0 "$LIB/duckdb" "SELECT typeof(b) AS tb, b, n, m, mix, e IS NULL AS enull, e = '' AS eempty, z FROM read_parquet('$t/t.parquet')"
	[ "$output" = 'tb,b,n,m,mix,enull,eempty,z
BOOLEAN,true,12345678901234567890123456789012345678,"{""a"":[1,""/""]}",true,false,true,
BOOLEAN,false,-1E-130,[],no,true,,' ]
	pq_same "" "" "$t/rows.ndjson"
	# --types text: every column a STRING, the same cells
	pq_same "" "--types text" "$t/rows.ndjson"
	[ "$(meta "$t/out.parquet" '[.columns[] | .type] | unique')" = '["BYTE_ARRAY"]' ]
	parquet-emit --types text --numbers double "$t/rows.ndjson" > "$t/x.parquet"
	[ "$(meta "$t/x.parquet" '[.columns[] | .type] | unique')" = '["BYTE_ARRAY"]' ]
}

@test "parquet-emit: 20,000 random rows, every compression: both readers give csv-emit's cells" {
	local t=$BATS_TEST_TMPDIR z
	"$LIB/random-rows" 20000 7 > "$t/rows.ndjson"
	for z in zstd snappy gzip none zstd:19 gzip:1; do
		echo "$z"
		pq_same "" "--compression $z" "$t/rows.ndjson"
		[ "$(meta "$t/out.parquet" '[.row_groups[].columns[].codec] | unique')" = \
			"$(jq -cn --arg z "${z%:*}" '[if $z == "none" then "UNCOMPRESSED" else ($z | ascii_upcase) end]')" ]
	done
}

@test "parquet-emit: several row groups, a dictionary that overflows to PLAIN, a column null in whole row groups, one first seen in the last row" {
	local t=$BATS_TEST_TMPDIR
	"$LIB/random-rows" 20000 3 > "$t/rows.ndjson"
	pq_same "" "--row-group-size 256K --dictionary-size 4K" "$t/rows.ndjson"
	local m="$t/out.parquet"
	# several row groups, each of every column, rows adding up
	[ "$(meta "$m" '.row_groups | length')" -gt 5 ]
	[ "$(meta "$m" '[.row_groups[].rows] | add')" -eq 20000 ]
	# a chunk whose dictionary overflowed: dictionary indices, then PLAIN
	[ "$(meta "$m" '[.row_groups[].columns[] | select(.encodings == ["RLE","PLAIN","PLAIN_DICTIONARY"])] | length')" -gt 0 ]
	# "late" (first seen in the last row): null in every row of every row
	# group but the last, where it holds one value
	[ "$(meta "$m" '(.columns | map(.name) | index("late")) as $i | [.row_groups[] | .rows - .columns[$i].nulls] | .[:-1] | unique')" = "[0]" ]
	[ "$(meta "$m" '(.columns | map(.name) | index("late")) as $i | .row_groups[-1].columns[$i] | [.nulls, .min, .max]')" = \
		"[$(($(meta "$m" '.row_groups[-1].rows') - 1)),\"last\",\"last\"]" ]
	# "gone" is null in every row: a STRING column of nulls, no min or max
	[ "$(meta "$m" '(.columns | map(.name) | index("gone")) as $i | [.row_groups[] | (.rows == .columns[$i].nulls) and .columns[$i].min == null] | unique')" = "[true]" ]
	# and with no dictionaries at all
	pq_same "" "--dictionary-size 0 --row-group-size 1M" "$t/rows.ndjson"
	[ "$(meta "$t/out.parquet" '[.row_groups[].columns[].encodings[]] | unique')" = '["PLAIN","RLE"]' ]
}

@test "parquet-emit: statistics: min, max and null count per column chunk are its rows' (DuckDB)" {
	local t=$BATS_TEST_TMPDIR c f
	"$LIB/random-rows" 3000 5 > "$t/rows.ndjson"
	parquet-emit --row-group-size 64K "$t/rows.ndjson" > "$t/s.parquet"
	[ "$(meta "$t/s.parquet" '.row_groups | length')" -gt 3 ]
	f="'$t/s.parquet'"
	for c in id k3 k6 s_mix b_only late; do
		run -0 "$LIB/duckdb" "WITH rg AS (SELECT DISTINCT row_group_id, row_group_num_rows AS n FROM parquet_metadata($f)),
		b AS (SELECT row_group_id, n, coalesce(sum(n) OVER (ORDER BY row_group_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first FROM rg),
		v AS (SELECT * FROM read_parquet($f, file_row_number = true)),
		want AS (SELECT b.row_group_id, min($c)::VARCHAR AS mn, max($c)::VARCHAR AS mx, count(*) - count($c) AS nulls
			FROM b JOIN v ON v.file_row_number >= b.first AND v.file_row_number < b.first + b.n GROUP BY ALL)
		SELECT count(*) AS chunks, count(*) FILTER (WHERE p.stats_min_value IS DISTINCT FROM want.mn OR p.stats_max_value IS DISTINCT FROM want.mx OR p.stats_null_count <> want.nulls) AS wrong
		FROM parquet_metadata($f) p JOIN want USING (row_group_id) WHERE p.path_in_schema = '$c'"
		echo "$c: $output"
		[ "$output" = "chunks,wrong
$(meta "$t/s.parquet" '.row_groups | length'),0" ]
	done
}

@test "parquet-emit: --numbers double: exact numbers as DOUBLE, one a DOUBLE cannot hold is refused" {
	local t=$BATS_TEST_TMPDIR
	printf '%s\n' '{"p":0.1,"q":1E+125,"r":"x","EventType":"INSERT","created_at":1720629863.0}' \
		'{"p":-2.5,"q":-0,"r":3,"EventType":"INSERT","created_at":1720629864.5}' > "$t/ok.ndjson"
	parquet-emit --numbers double "$t/ok.ndjson" > "$t/d.parquet"
	[ "$(meta "$t/d.parquet" '[.columns[] | .type]')" = \
		'["DOUBLE","DOUBLE","BYTE_ARRAY","BYTE_ARRAY","DOUBLE"]' ]
	run -0 "$LIB/duckdb" "SELECT p, q, r, created_at FROM read_parquet('$t/d.parquet')"
	[ "$output" = 'p,q,r,created_at
0.1,1e+125,x,1720629863.0
-2.5,-0.0,3,1720629864.5' ]
	printf '%s\n' '{"p":1}' '{"p":12345678901234567890123456789012345678}' > "$t/big.ndjson"
	run --separate-stderr parquet-emit --numbers double "$t/big.ndjson"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "parquet-emit: $t/big.ndjson:2: a number in column \"p\" that a DOUBLE cannot hold exactly (see --numbers)" ]
}

# the typed rows of the --column-type tests: 38 digits, exponents, -0,
# null beside missing, a declared column with nothing but nulls
typed_rows() {
	cat <<'EOF'
{"id":"a","price":12.5,"big":12345678901234567890123456789012345678,"frac":0.12345678901234567890123456789012345678,"one":-9,"score":0.1,"gone":null,"EventType":"INSERT","created_at":1720629863}
{"id":"b","price":-0.05,"big":-99999999999999999999999999999999999999,"frac":-1E-38,"one":0,"score":-3e2,"gone":null,"EventType":"MODIFY","created_at":1720629864}
{"id":"c","price":null,"one":9,"score":1E-3,"gone":null,"EventType":"REMOVE","created_at":1720629865}
{"id":"d","price":99999999.99,"big":0,"frac":0,"one":-0,"score":5,"gone":null,"EventType":"INSERT","created_at":1720629866}
{"id":"e","price":1E+2,"big":-1,"frac":0.5,"score":-0,"gone":null,"EventType":"INSERT","created_at":1720629867}
EOF
}

TYPES=(--column-type 'price=decimal(10,2)' --column-type 'big=decimal(38,0)'
	--column-type 'frac=decimal(38,38)' --column-type 'one=decimal(1,0)'
	--column-type score=double --column-type 'gone=decimal(5,1)')

@test "parquet-emit: --column-type: DECIMAL and DOUBLE columns, every digit read back by DuckDB, the values by hyparquet, with --types text too" {
	local t=$BATS_TEST_TMPDIR o
	typed_rows > "$t/rows.ndjson"
	for o in values text; do
		parquet-emit --types "$o" "${TYPES[@]}" "$t/rows.ndjson" > "$t/$o.parquet"
		run -0 "$LIB/duckdb" "SELECT typeof(id), typeof(price), typeof(big), typeof(frac), typeof(one), typeof(score), typeof(gone), typeof(created_at) FROM '$t/$o.parquet' LIMIT 1"
		[ "$output" = 'typeof(id),typeof(price),typeof(big),typeof(frac),typeof(one),typeof(score),typeof(gone),typeof(created_at)
VARCHAR,"DECIMAL(10,2)","DECIMAL(38,0)","DECIMAL(38,38)","DECIMAL(1,0)",DOUBLE,"DECIMAL(5,1)",VARCHAR' ]
		run -0 "$LIB/duckdb" "SELECT * FROM '$t/$o.parquet'"
		[ "$output" = 'id,price,big,frac,one,score,gone,EventType,created_at
a,12.50,12345678901234567890123456789012345678,.12345678901234567890123456789012345678,-9,0.1,,INSERT,1720629863
b,-0.05,-99999999999999999999999999999999999999,-.00000000000000000000000000000000000001,0,-300.0,,MODIFY,1720629864
c,,,,9,0.001,,REMOVE,1720629865
d,99999999.99,0,.00000000000000000000000000000000000000,0,5.0,,INSERT,1720629866
e,100.00,-1,.50000000000000000000000000000000000000,,-0.0,,INSERT,1720629867' ]
		# hyparquet reads a DECIMAL as a JavaScript number
		run -0 "$LIB/hyparquet" "$t/$o.parquet"
		[ "$output" = 'id,price,big,frac,one,score,gone,EventType,created_at
a,12.5,1.2345678901234568e+37,0.12345678901234568,-9,0.1,,INSERT,1720629863
b,-0.05,-1e+38,-1e-38,0,-300,,MODIFY,1720629864
c,,,,9,0.001,,REMOVE,1720629865
d,99999999.99,0,0,0,5,,INSERT,1720629866
e,100,-1,0.5,,0,,INSERT,1720629867' ]
		[ "$(meta "$t/$o.parquet" '[.columns[] | .type + ":" + (.logical // "")]')" = \
			'["BYTE_ARRAY:STRING","FIXED_LEN_BYTE_ARRAY:DECIMAL","FIXED_LEN_BYTE_ARRAY:DECIMAL","FIXED_LEN_BYTE_ARRAY:DECIMAL","FIXED_LEN_BYTE_ARRAY:DECIMAL","DOUBLE:","FIXED_LEN_BYTE_ARRAY:DECIMAL","BYTE_ARRAY:STRING","BYTE_ARRAY:STRING"]' ]
	done
	# statistics: the numbers' order, not the bytes'
	run -0 "$LIB/duckdb" "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('$t/values.parquet') WHERE path_in_schema IN ('price', 'big', 'frac', 'one', 'score', 'gone')"
	[ "$output" = 'path_in_schema,stats_min_value,stats_max_value,stats_null_count
price,-0.05,99999999.99,1
big,-99999999999999999999999999999999999999,12345678901234567890123456789012345678,1
frac,-.00000000000000000000000000000000000001,.50000000000000000000000000000000000000,1
one,-9,9,1
score,-300.0,5.0,0
gone,,,5' ]
}

@test "parquet-emit: --column-type: a declared column first seen in the last row groups, every compression" {
	local t=$BATS_TEST_TMPDIR z codecs="zstd snappy gzip none"
	# make valgrind's wrapper: a second a run there; the codecs are the
	# other tests' (the chunks of nulls are made the same way in each)
	if grep -qa -e '--error-exitcode=99' "$(command -v parquet-emit)"; then
		codecs=zstd
	fi
	awk 'BEGIN { for (i = 1; i <= 3000; i++) {
		printf "{\"id\":\"%05d\",\"pad\":\"%0200d\"", i, i
		if (i > 2900)
			printf ",\"amount\":%s%d.%02d", i % 2 ? "" : "-", int(i / 100), i % 100
		printf "}\n" } }' > "$t/rows.ndjson"
	awk 'BEGIN { print "id,amount"; for (i = 2901; i <= 3000; i++)
		printf "%05d,%s%d.%02d\n", i, i % 2 ? "" : "-", int(i / 100), i % 100 }' > "$t/want"
	for z in $codecs; do
		parquet-emit --compression "$z" --row-group-size 64K --column-type 'amount=decimal(6,2)' "$t/rows.ndjson" > "$t/$z.parquet"
		"$LIB/duckdb" "SELECT id, amount FROM '$t/$z.parquet' WHERE amount IS NOT NULL" | diff -u "$t/want" -
	done
	# the same row groups whatever the codec
	[ "$(meta "$t/zstd.parquet" '.row_groups | length')" -gt 3 ]
	run -0 "$LIB/duckdb" "SELECT typeof(amount), count(*), count(amount) FROM '$t/zstd.parquet' GROUP BY ALL"
	[ "$output" = 'typeof(amount),count_star(),count(amount)
"DECIMAL(6,2)",3000,100' ]
}

@test "parquet-emit: --column-type: a value the type cannot hold exactly is refused with its line, exit 1, no output; with --columns the good rows" {
	local t=$BATS_TEST_TMPDIR v
	for v in 1.234 123456789.5 12345678901 '"12.5"' true '{"a":1}' '[1]' 1E+9; do
		printf '{"id":"a","price":1}\n{"id":"b","price":%s}\n' "$v" > "$t/bad.ndjson"
		run --separate-stderr parquet-emit --column-type 'price=decimal(10,2)' "$t/bad.ndjson"
		echo "$v: $status $stderr"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		case $v in
		[0-9]*) [ "$stderr" = "parquet-emit: $t/bad.ndjson:2: a number in column \"price\" that decimal(10,2) cannot hold exactly (--column-type)" ] ;;
		*) [ "$stderr" = "parquet-emit: $t/bad.ndjson:2: a value in column \"price\" that is not a number, which decimal(10,2) needs (--column-type)" ] ;;
		esac
	done
	printf '{"p":1}\n{"p":12345678901234567890123456789012345678}\n' > "$t/big.ndjson"
	run --separate-stderr parquet-emit --column-type p=double "$t/big.ndjson"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "parquet-emit: $t/big.ndjson:2: a number in column \"p\" that double cannot hold exactly (--column-type)" ]
	# with --columns, csv-emit's rule: the other rows make a whole file
	printf '{"id":"a","p":1.5}\n{"id":"b","p":0.333}\n{"id":"c","p":-2}\n' > "$t/c.ndjson"
	run --separate-stderr parquet-emit -c id,p --column-type 'p=decimal(3,1)' "$t/c.ndjson"
	[ "$status" -eq 1 ]
	[ "$stderr" = "parquet-emit: $t/c.ndjson:2: a number in column \"p\" that decimal(3,1) cannot hold exactly (--column-type)" ]
	parquet-emit -c id,p --column-type 'p=decimal(3,1)' "$t/c.ndjson" > "$t/c.parquet" 2> /dev/null || true
	run -0 "$LIB/duckdb" "SELECT id, p FROM '$t/c.parquet'"
	[ "$output" = 'id,p
a,1.5
c,-2.0' ]
}

@test "parquet-emit: --column-type: bad usage" {
	local o
	for o in price =double 'p=decimal(39,0)' 'p=decimal(5,6)' p=int 'p=decimal(0,0)' 'p=decimal(5,-1)' 'p=decimal( 5,1)' 'p=decimal(5,1))' 'p=DOUBLE'; do
		run --separate-stderr parquet-emit --column-type "$o" /dev/null
		echo "$o: $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		case $o in
		?*=*) [ "${stderr%%$'\n'*}" = "parquet-emit: --column-type: double or decimal(P,S) with P 1 to 38 and S 0 to P, not ${o#*=}" ] ;;
		*) [ "${stderr%%$'\n'*}" = "parquet-emit: --column-type: NAME=double or NAME=decimal(P,S), not $o" ] ;;
		esac
	done
	run --separate-stderr parquet-emit --column-type p=double --column-type 'p=decimal(3,0)' /dev/null
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "parquet-emit: --column-type: column p is given twice" ]
}

@test "parquet-emit: bad input: csv-emit's messages and exit statuses, no output" {
	cd "$F"
	local f t=$BATS_TEST_TMPDIR
	for f in bad-json not-object truncated dup-key dup-nested nul-key nan ctrl raw-nul; do
		echo "$f"
		run --separate-stderr csv-emit "$f.ndjson"
		local cst=$status cerr=${stderr//csv-emit:/X:}
		run --separate-stderr parquet-emit "$f.ndjson"
		[ "$status" -eq "$cst" ]
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "${stderr//parquet-emit:/X:}" = "$cerr" ]
	done
}

@test "parquet-emit: bad input with --columns: a whole file of the good rows, exit 1, as csv-emit" {
	cd "$F"
	local t=$BATS_TEST_TMPDIR
	run --separate-stderr parquet-emit -c id -x fail not-object.ndjson
	[ "$status" -eq 1 ]
	parquet-emit -c id -x fail not-object.ndjson > "$t/g.parquet" 2> /dev/null || true
	"$LIB/hyparquet" "$t/g.parquet" | diff -u <(printf 'id,EventType,created_at\n1,,\n7,,\n') -
	run --separate-stderr parquet-emit -c id,name -x fail extra.ndjson
	[ "$status" -eq 1 ]
	[ "$stderr" = 'parquet-emit: extra.ndjson:2: attribute "color" is not in --columns (see --extra)
parquet-emit: extra.ndjson:3: attribute "size" is not in --columns (see --extra)
parquet-emit: extra.ndjson:3: attribute "tags" is not in --columns (see --extra)' ]
	run --separate-stderr parquet-emit -c id,name -x drop extra.ndjson
	[ "$status" -eq 0 ]
	[ "$stderr" = 'parquet-emit: dropped cells of attributes not in --columns: "color" 2, "size" 1, "tags" 1' ]
}

@test "parquet-emit: no rows in, no output at all, exit 0" {
	cd "$F"
	run -0 --separate-stderr parquet-emit empty.ndjson
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr parquet-emit -c a,b blank.ndjson
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "parquet-emit: a full disk is exit 3 with a message, small and big files alike" {
	cd "$F"
	full_disk parquet-emit seed-rows.ndjson
	full_disk parquet-emit -c id -x drop seed-rows.ndjson
	"$LIB/random-rows" 5000 > "$BATS_TEST_TMPDIR/rows.ndjson"
	full_disk parquet-emit --compression none --row-group-size 64K "$BATS_TEST_TMPDIR/rows.ndjson"
}

@test "parquet-emit: a file cut short anywhere is refused by both readers (the footer is last)" {
	local t=$BATS_TEST_TMPDIR n cut
	"$LIB/random-rows" 2000 > "$t/rows.ndjson"
	parquet-emit --row-group-size 32K "$t/rows.ndjson" > "$t/whole.parquet"
	n=$(wc -c < "$t/whole.parquet")
	for cut in 4 1000 $((n / 2)) $((n - 9)) $((n - 1)); do
		head -c "$cut" "$t/whole.parquet" > "$t/cut.parquet"
		run "$LIB/hyparquet" "$t/cut.parquet"
		[ "$status" -eq 1 ]
		run "$LIB/duckdb" "SELECT count(*) FROM read_parquet('$t/cut.parquet')"
		[ "$status" -eq 1 ]
	done
}

@test "parquet-emit: a temporary file that cannot be made is exit 3, no output" {
	cd "$F"
	TMPDIR=$BATS_TEST_TMPDIR/none run --separate-stderr parquet-emit seed-rows.ndjson
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[ "$stderr" = "parquet-emit: temporary file in $BATS_TEST_TMPDIR/none: No such file or directory" ]
}

@test "parquet-emit: missing file is exit 3, no output" {
	cd "$F"
	run --separate-stderr parquet-emit seed-rows.ndjson no-such-file
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[ "$stderr" = "parquet-emit: no-such-file: No such file or directory" ]
}

@test "parquet-emit: memory stays bounded on a big input (row groups flushed as they fill)" {
	if ldd "$(command -v parquet-emit)" | grep -q libasan; then
		skip "RSS means nothing under ASan"
	fi
	# make valgrind's wrapper: the RSS would be valgrind's
	if grep -qa -e '--error-exitcode=99' "$(command -v parquet-emit)"; then
		skip "RSS means nothing under valgrind"
	fi
	local t=$BATS_TEST_TMPDIR
	awk 'BEGIN { for (i = 0; i < 300000; i++)
		printf "{\"id\":\"%d\",\"name\":\"%0150d\",\"k%d\":1}\n", i, i, i % 50 }' \
		> "$t/big.ndjson"
	/usr/bin/time -f %M -o "$t/rss" parquet-emit --row-group-size 4M "$t/big.ndjson" > "$t/big.parquet"
	echo "peak RSS $(cat "$t/rss") KB"
	[ "$(cat "$t/rss")" -lt 32768 ]
	[ "$(meta "$t/big.parquet" '.rows')" -eq 300000 ]
	[ "$(meta "$t/big.parquet" '.row_groups | length')" -gt 5 ]
}

@test "parquet-emit: --help, --version, bad usage" {
	run -0 --separate-stderr parquet-emit --help
	[[ "$output" == "usage: parquet-emit "* ]]
	[ -z "$stderr" ]
	run -0 parquet-emit -V
	[[ "$output" == "parquet-emit "[0-9]* ]]
	local bad
	for bad in "--bogus" "--compression=lz4" "--compression=zstd:0" "--compression=zstd:20" \
		"--compression=snappy:1" "--compression=gzip:10" "--row-group-size=0" \
		"--row-group-size=-1" "--row-group-size=1X" "--dictionary-size=x" "--numbers=float" "--types=bool" \
		"-z zstd" "-R 1M" "-x drop" "-c a,,b" "-c a,b,a" \
		"-c a -x gather=EventType" "-E x -C x" "-d ;" "-N x" "-H"; do
		run --separate-stderr parquet-emit $bad /dev/null
		echo "$bad: $status $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == *"usage: parquet-emit "* ]]
	done
	run --separate-stderr parquet-emit --compression brotli /dev/null
	[ "${stderr_lines[0]}" = "parquet-emit: --compression: zstd[:1-19], snappy, gzip[:1-9] or none, not brotli" ]
}
