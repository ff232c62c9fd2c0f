#!/usr/bin/env bats
# ddb-to-s3 --view: the table as it is now, over its change log. Each case
# of the rule (ddb-to-s3.1, The table as it is now) is a hand-written
# change log (fixtures/view/CASE*.csv, the objects' CSV) read by DuckDB
# through the printed view; its rows must be CASE.exp byte for byte.

bats_require_minimum_version 1.5.0
load lib/tool

V="$BATS_TEST_DIRNAME/fixtures/view"
DUCKDB="$BATS_TEST_DIRNAME/lib/duckdb"

setup() {
	T=$BATS_TEST_TMPDIR
	unset DDB_TO_S3_LINEAGE DDB_TO_S3_KEY DDB_TO_S3_PREFIX DDB_TO_S3_GZIP \
		DDB_TO_S3_NULL DDB_TO_S3_COLUMNS
}

# view_case CASE KEYS [OPTION...]: CASE.csv (and CASE.again.csv) as objects of table t under
# $T/o (the default key template), the DuckDB view printed by ddb-to-s3
# --view with the first file's header as -c, evaluated over them; the
# current rows, ordered by KEYS, must be CASE.exp
view_case() {
	local c=$1 keys=$2 f n=0
	shift 2
	mkdir -p "$T/o/staging/t"
	for f in "$V/$c".csv "$V/$c".again.csv; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		cp "$f" "$T/o/staging/t/t_20261201T000000Z_$n.csv"
	done
	run --separate-stderr ddb-to-s3 --view --dialect duckdb -o "$T/o" -t t \
		-c "$(head -n 1 "$V/$c.csv")" --keys "$keys" "$@"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/view.sql"
	run --separate-stderr "$DUCKDB" "$(cat "$T/view.sql")" \
		"SELECT * FROM t_current ORDER BY ${keys//,/, }"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$V/$c.exp")" ]
}

@test "view: deletes stay deleted: a later REMOVE, a REMOVE in the scan's second; a scan after a REMOVE brings its item back" {
	view_case deletes id
}

@test "view: a MODIFY's INSERT row wins over its own REMOVE row (one SequenceNumber), REMOVE first" {
	view_case modify id
}

@test "view: a MODIFY's INSERT row wins over its own REMOVE row, INSERT first (-i)" {
	view_case modify-i id
}

@test "view: the stream's row wins over the backfill's in the same second; the backfill over older stream rows; the later backfill over an earlier one" {
	view_case backfill id
}

@test "view: two changes in one second: the SequenceNumber as a number (21 against 22 digits, 39 against 40, zeros in front)" {
	view_case seqlen id
}

@test "view: a TTL delete is a delete, and its row keeps the mark (-l userIdentity)" {
	view_case ttl id -l SequenceNumber,userIdentity
	run "$DUCKDB" "$(cat "$T/view.sql")" \
		"SELECT id, EventType FROM t WHERE userIdentity = 'dynamodb.amazonaws.com'"
	[ "$output" = $'id,EventType\n1,REMOVE' ]
}

@test "view: a key deleted and inserted again exists with its new image; deleted again, it is gone" {
	view_case reinsert id
}

@test "view: a composite key (hash and range): each pair is one item" {
	view_case composite pk,sk
}

@test "view: created_at in every form is ordered by its value, not its text" {
	view_case times id
}

@test "view: a batch delivered twice (two objects with the same rows) gives each item once" {
	view_case twice id
}

@test "view: the Athena form (Trino SQL) of a composite-key table, byte for byte" {
	run --separate-stderr ddb-to-s3 --view -t orders --keys customer,order_id \
		-c 'customer,order_id,total,say "hi",SequenceNumber,userIdentity,EventType,created_at' \
		-l SequenceNumber,userIdentity
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$V/orders.athena.sql")" ]
}

@test "view: what it cannot be printed without: exit 2 and why" {
	local c=id,name,SequenceNumber,EventType,created_at
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id --dialect presto
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --dialect: athena or duckdb, not 'presto'" ]
	run --separate-stderr ddb-to-s3 --view -c "$c" --keys id
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --view needs one table (-t)" ]
	run --separate-stderr ddb-to-s3 --view -t t -t u -c "$c" --keys id
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --view needs one table (-t)" ]
	run --separate-stderr ddb-to-s3 --view -t t --keys id
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --view needs the table's columns: -c, or -b or -o where its column list is" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id -l ''
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the SequenceNumber lineage column (-l SequenceNumber, the default)" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id -l eventID
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the SequenceNumber lineage column (-l SequenceNumber, the default)" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id -l SequenceNumber=seq
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the column seq, which is not among the table's columns" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" -E op
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the column op, which is not among the table's columns" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id -T
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --view: -T (DDB_TO_S3_NO_TTL) leaves TTL deletes out of the log, and the view would keep expired items" ]
	DDB_TO_S3_NO_TTL=1 run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id
	[ "$status" -eq 2 ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c"
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the table's key columns (--keys)" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys id,sk
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: key column sk is not among the table's item columns" ]
	run --separate-stderr ddb-to-s3 --view -t t -c "$c" --keys created_at
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: key column created_at is not among the table's item columns" ]
}

@test "view: a column named like the view's own helper columns moves them aside" {
	view_case helper id
	grep -q 'AS ddb__rank' "$T/view.sql"
	! grep -q 'AS ddb_rank' "$T/view.sql"
}

@test "view: ddb-to-s3 writes the SequenceNumber by default (before EventType), none with -l '', and a scan's rows get an empty one" {
	local F=$BATS_TEST_DIRNAME/fixtures
	ddb-to-s3 -o "$T/a" "$F/seed-sample.json" 2>/dev/null
	[ "$(cat "$T"/a/staging/student/*.csv)" = "fname,number,lname,id,SequenceNumber,EventType,created_at
Saurav,334433223,Kandel,2,5100000000093649950825,REMOVE,1720629863.0
Gaurav,334433223,Kandel,2,5100000000093649950825,INSERT,1720629863.0" ]
	ddb-to-s3 -o "$T/b" -l '' "$F/seed-sample.json" 2>/dev/null
	cmp "$T"/b/staging/student/*.csv "$F/seed-sample.csv"
	DDB_TO_S3_LINEAGE= ddb-to-s3 -o "$T/c" "$F/seed-sample.json" 2>/dev/null
	cmp "$T"/c/staging/student/*.csv "$F/seed-sample.csv"
	printf '%s\n' '{"eventName":"INSERT","eventSource":"aws:dynamodb","tableName":"student","dynamodb":{"ApproximateCreationDateTime":1796156700,"Keys":{"id":{"S":"a1"}},"NewImage":{"id":{"S":"a1"}},"StreamViewType":"NEW_IMAGE"}}' |
		ddb-to-s3 -o "$T/d" - 2>/dev/null
	[ "$(cat "$T"/d/staging/student/*.csv)" = "id,SequenceNumber,EventType,created_at
a1,,INSERT,1796156700" ]
}

@test "view: without -c and --keys, --view takes the columns and the key schema the runs recorded in the table's column list" {
	ddb-to-s3 -o "$T/o" "$V/orders.json" 2>/dev/null
	[ "$(cat "$T/o/staging/orders/_columns")" = '{"columns":["customer","order_id","total","SequenceNumber","note","EventType","created_at"],"keys":["customer","order_id"]}' ]
	run --separate-stderr ddb-to-s3 --view --dialect duckdb -o "$T/o" -t orders
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr "$DUCKDB" "$output" "SELECT * FROM orders_current ORDER BY 1, 2"
	[ "$status" -eq 0 ]
	[ "$output" = "customer,order_id,total,note
c1,7,4,x
c2,2,5," ]
	# --keys and -c still win over the list
	run --separate-stderr ddb-to-s3 --view -o "$T/o" -t orders --keys customer
	[ "$status" -eq 0 ]
	[[ $output == *'PARTITION BY "customer"
'* ]]
}

@test "view: a column list the view cannot read, or none: exit 2 and why" {
	run --separate-stderr ddb-to-s3 --view -t orders
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: --view needs the table's columns: -c, or -b or -o where its column list is" ]
	run --separate-stderr ddb-to-s3 --view -o "$T/o" -t orders
	[ "$status" -eq 2 ]
	[ "$stderr" = "ddb-to-s3: orders: no column list yet (no object written): give -c" ]
	mkdir -p "$T/o/staging/orders"
	printf '%s\n' '{"columns":["id","a,b","SequenceNumber","EventType","created_at"],"keys":["id"]}' \
		>"$T/o/staging/orders/_columns"
	run --separate-stderr ddb-to-s3 --view -o "$T/o" -t orders
	[ "$status" -eq 2 ]
	[ "$stderr" = "ddb-to-s3: orders: its column list holds a name the view cannot take (a comma, a control character): give -c" ]
	printf '%s\n' '{"columns":["id","a\"b\\c\/","SequenceNumber","EventType","created_at"]}' \
		>"$T/o/staging/orders/_columns"
	run --separate-stderr ddb-to-s3 --view -o "$T/o" -t orders
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: the view needs the table's key columns (--keys)" ]
	run --separate-stderr ddb-to-s3 --view --dialect duckdb -o "$T/o" -t orders --keys id
	[ "$status" -eq 0 ]
	[[ $output == *'SELECT "id", "a""b\c/"'* ]]
	# Athena's names are --ddl's: lowercase, a-z 0-9 _ only
	run --separate-stderr ddb-to-s3 --view -o "$T/o" -t orders --keys id
	[ "$status" -eq 0 ]
	[[ $output == *'SELECT "id", "a_b_c_"'* ]]
}

@test "view: objects in JSON lines (--format jsonl): the DuckDB form reads them by name; the same rows" {
	ddb-to-s3 --format jsonl -o "$T/o" "$V/orders.json" 2>/dev/null
	run --separate-stderr ddb-to-s3 --view --format jsonl --dialect duckdb -o "$T/o" -t orders
	[ "$status" -eq 0 ]
	[[ ${lines[2]} == "SELECT * FROM read_json('$T/o/staging/orders/orders_*_*.jsonl', format = 'newline_delimited'," ]]
	run --separate-stderr "$DUCKDB" "$output" "SELECT * FROM orders_current ORDER BY 1, 2"
	[ "$status" -eq 0 ]
	[ "$output" = "customer,order_id,total,note
c1,7,4,x
c2,2,5," ]
}

@test "view: --ddl prints the table, then its view under the same names; the table alone without the SequenceNumber, or (said) without keys" {
	local c='customer,Order-Id,total,SequenceNumber,EventType,created_at'
	run --separate-stderr ddb-to-s3 --ddl -b lake -t Orders.v2 -c "$c" --keys customer,Order-Id
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$V/ddl-orders.sql")" ]
	# every name the view takes from the table is a column of the DDL
	local cols n
	cols=$(sed -n 's/^  `\([a-z0-9_]*\)` string.*/\1/p' <<<"$output")
	for n in customer order_id total sequencenumber eventtype created_at; do
		grep -qx "$n" <<<"$cols"
	done
	grep -q '^CREATE EXTERNAL TABLE `orders_v2` ($' <<<"$output"
	grep -q '^      FROM "orders_v2"$' <<<"$output"
	# -l '': no SequenceNumber, no view, nothing said
	run --separate-stderr ddb-to-s3 --ddl -b lake -t Orders.v2 -l '' \
		-c 'customer,Order-Id,total,EventType,created_at'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = "$(sed '/^$/,$d' "$V/ddl-orders.sql" | sed '/sequencenumber/d')" ]
	# no keys known: the table, and why there is no view
	run --separate-stderr ddb-to-s3 --ddl -b lake -t Orders.v2 -c "$c"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ddb-to-s3: the view needs the table's key columns (--keys)
ddb-to-s3: --ddl: the table only, no view" ]
	[ "$output" = "$(sed '/^$/,$d' "$V/ddl-orders.sql")" ]
}

@test "view: objects in Parquet (--format parquet): the DuckDB form reads them by name; the same rows" {
	ddb-to-s3 --format parquet -o "$T/o" "$V/orders.json" 2>/dev/null
	run --separate-stderr ddb-to-s3 --view --format parquet --dialect duckdb -o "$T/o" -t orders
	[ "$status" -eq 0 ]
	[[ ${lines[2]} == "SELECT * FROM read_parquet('$T/o/staging/orders/orders_*_*.parquet', union_by_name = true);" ]]
	run --separate-stderr "$DUCKDB" "$output" "SELECT * FROM orders_current ORDER BY 1, 2"
	[ "$status" -eq 0 ]
	[ "$output" = "customer,order_id,total,note
c1,7,4,x
c2,2,5," ]
}
