#!/usr/bin/env bats
# A table's column list (_columns): every object of a table has the list's
# columns as they stood, grown only at the end; kept with -o, on S3 without
# conditional writes (Swift, 501), and by compare-and-swap through
# tests/lib/cas-proxy; the whole table read by position by DuckDB.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/table

F="$BATS_TEST_DIRNAME/fixtures"
C="$F/columns"
LIB="$BATS_TEST_DIRNAME/lib"

setup_file() {
	s3_setup_file cols
}

setup() {
	s3_setup_test lake DDB_TO_S3_COLUMNS DDB_TO_S3_EXTRA \
		DDB_TO_S3_COLUMNS_CACHE
}

teardown() {
	cas_proxy_stop
}

# dump DIR: every file under DIR, in name order, after a "== NAME" line
dump() {
	(cd "$1" && find . -type f | sed 's:^\./::' | LC_ALL=C sort |
		while IFS= read -r f; do printf '== %s\n' "$f"; cat "$f"; done)
}

# event K: a one-record Lambda event of table orders whose item has the
# attribute cK, with its own sequence number (its own object)
event() {
	printf '{"Records":[{"eventID":"r%s","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x","dynamodb":{"ApproximateCreationDateTime":1720600100,"Keys":{"id":{"S":"%s"}},"NewImage":{"id":{"S":"%s"},"c%s":{"S":"v%s"}},"SequenceNumber":"5200000000000000000%03d","StreamViewType":"NEW_IMAGE"}}]}\n' \
		"$1" "$1" "$1" "$1" "$1" "$1"
}

@test "columns: -o: batches whose items differ in attribute order and set: one list, every header a prefix of it, new columns at the end" {
	for i in 1 2 3 4; do
		run --separate-stderr ddb-to-s3 -o "$T/o" -F lake "$C/batch$i.json"
		[ "$status" -eq 0 ]
	done
	diff -u "$C/mixed.txt" <(dump "$T/o/lake/orders")
	table_prefixes "$T/o/lake/orders"
	# a list only grows: a batch with no new column leaves it as it is
	cp "$T/o/lake/orders/_columns" "$T/before"
	run --separate-stderr ddb-to-s3 -o "$T/o" -F lake "$C/batch1.json"
	[ "$status" -eq 0 ]
	cmp "$T/before" "$T/o/lake/orders/_columns"
}

@test "columns: -o: the list sits at DIR/<prefix>/<table>/_columns whatever the key template; a dry run reads and writes none" {
	run --separate-stderr ddb-to-s3 -o "$T/o" -F lake -K '{prefix}/{table}/dt={date}/{table}_{first_id}.csv' "$C/batch1.json"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/o/lake/orders/_columns")" = '{"columns":["id","name","total","EventType","created_at"],"keys":["id"]}' ]
	[ "$(head -n 1 "$T"/o/lake/orders/dt=2024-07-10/*.csv)" = id,name,total,EventType,created_at ]
	run --separate-stderr ddb-to-s3 -D "$C/batch2.json"
	[ "$status" -eq 0 ]
	[ -z "$(s3_ls_all "$B" "$P/")" ]
}

@test "columns: -o: 8 writers adding different columns at once: the list holds every column once, every header is a prefix of it" {
	for k in 1 2 3 4 5 6 7 8; do
		event "$k" >"$T/e$k.json"
	done
	for k in 1 2 3 4 5 6 7 8; do
		ddb-to-s3 -o "$T/o" -F lake "$T/e$k.json" 2>"$T/err$k" &
	done
	wait
	for k in 1 2 3 4 5 6 7 8; do
		[ "$(jq -r '.columns[]' "$T/o/lake/orders/_columns" | grep -cx "c$k")" -eq 1 ]
	done
	[ "$(ls "$T"/o/lake/orders/*.csv | wc -l)" -eq 8 ]
	table_prefixes "$T/o/lake/orders"
}

@test "columns: S3 without conditional writes (Swift, 501): one warning line naming the risk, the list stored, the same objects" {
	unset DDB_TO_S3_SINGLE_WRITER
	for i in 1 2 3 4; do
		run --separate-stderr ddb-to-s3 "$C/batch$i.json"
		[ "$status" -eq 0 ]
		[ "${#stderr_lines[@]}" -eq 2 ]
		[ "${stderr_lines[0]}" = "ddb-to-s3: the store does not do conditional writes: s3://$B/$P/lake/orders/_columns is written as if this run were the table's only writer (two hosts writing one table at once could each add a column and one would be lost; DDB_TO_S3_SINGLE_WRITER=1 declares it and silences this)" ]
		[[ "${stderr_lines[1]}" == "ddb-to-s3: orders: "*" -> s3://$B/$P/lake/orders/orders_"* ]]
	done
	mkdir "$T/got"
	s3_aws s3 sync --only-show-errors "s3://$B/$P/lake/orders/" "$T/got/"
	diff -u "$C/mixed.txt" <(dump "$T/got")
	# declared single writer: no condition, no warning
	DDB_TO_S3_SINGLE_WRITER=1 run --separate-stderr ddb-to-s3 -F "$P/b" "$C/batch1.json"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run --separate-stderr ddb-to-s3 --single-writer -F "$P/c" "$C/batch1.json"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "ddb-to-s3: orders: "* ]]
	run --separate-stderr ddb-to-s3 --single-writer=x -F "$P/c" "$C/batch1.json"
	[ "$status" -eq 2 ]
	s3_get "$B" "$P/b/orders/_columns" "$T/b.columns"
	[ "$(cat "$T/b.columns")" = '{"columns":["id","name","total","EventType","created_at"],"keys":["id"]}' ]
}

@test "columns: S3 compare-and-swap: 8 writers adding different columns at once through the conditional-write stand-in: every column once, every header a prefix" {
	unset DDB_TO_S3_SINGLE_WRITER
	# each GET answered a second late: the writers read the same list
	cas_proxy_start -d 1
	for k in 1 2 3 4 5 6 7 8; do
		event "$k" >"$T/e$k.json"
	done
	for k in 1 2 3 4 5 6 7 8; do
		ddb-to-s3 -u "$CAS_URL" "$T/e$k.json" 2>"$T/err$k" &
	done
	wait
	# races were lost (412) and won again, never with a warning
	grep -q ' -> 412 ' "$CAS_DIR/log"
	! grep -h 'conditional' "$T"/err*
	mkdir "$T/got"
	s3_aws s3 sync --only-show-errors "s3://$B/$P/lake/orders/" "$T/got/"
	for k in 1 2 3 4 5 6 7 8; do
		[ "$(jq -r '.columns[]' "$T/got/_columns" | grep -cx "c$k")" -eq 1 ]
	done
	[ "$(ls "$T"/got/*.csv | wc -l)" -eq 8 ]
	table_prefixes "$T/got"
}

@test "columns: a warm process's cached list (DDB_TO_S3_COLUMNS_CACHE): no request for it when a batch brings no new column; a stale copy loses the swap and reads again" {
	unset DDB_TO_S3_SINGLE_WRITER
	cas_proxy_start
	export DDB_TO_S3_COLUMNS_CACHE="$T/cache"
	mkdir "$T/cache"
	run --separate-stderr ddb-to-s3 -u "$CAS_URL" "$C/batch1.json"
	[ "$status" -eq 0 ]
	# the list was stored: the next run reads it once and keeps it
	run --separate-stderr ddb-to-s3 -u "$CAS_URL" "$C/batch1.json"
	[ "$status" -eq 0 ]
	[ "$(grep -c "GET /$B/$P/lake/orders/_columns" "$CAS_DIR/log")" -eq 2 ]
	[ -f "$T/cache/$B%$P%lake%orders" ]
	run --separate-stderr ddb-to-s3 -u "$CAS_URL" "$C/batch1.json"
	[ "$status" -eq 0 ]
	[ "$(grep -c "GET /$B/$P/lake/orders/_columns" "$CAS_DIR/log")" -eq 2 ]
	# another host adds email and zip; this one, with its old copy, then
	# brings zip too: its swap fails (412), it reads the list again
	DDB_TO_S3_COLUMNS_CACHE= run --separate-stderr ddb-to-s3 -u "$CAS_URL" "$C/batch2.json"
	[ "$status" -eq 0 ]
	run --separate-stderr ddb-to-s3 -u "$CAS_URL" "$C/batch4.json"
	[ "$status" -eq 0 ]
	grep -q "PUT /$B/$P/lake/orders/_columns -> 412" "$CAS_DIR/log"
	s3_get "$B" "$P/lake/orders/_columns" "$T/list"
	[ "$(jq -c .columns "$T/list")" = '["id","name","total","EventType","created_at","email","zip","note"]' ]
	mkdir "$T/got"
	s3_aws s3 sync --only-show-errors "s3://$B/$P/lake/orders/" "$T/got/"
	table_prefixes "$T/got"
	[ "$(head -n 1 "$T"/got/*1007.csv)" = id,name,total,EventType,created_at,email,zip,note ]
}

@test "columns: the whole table read by DuckDB by position through _columns: every value under its own name, as each object read alone says" {
	for i in 1 2 3 4; do
		run --separate-stderr ddb-to-s3 "$C/batch$i.json"
		[ "$status" -eq 0 ]
	done
	mkdir "$T/got"
	s3_aws s3 sync --only-show-errors "s3://$B/$P/lake/orders/" "$T/got/"
	table_cells "$T/got" "$T/whole" "$T/alone"
	diff -u "$T/alone" "$T/whole"
	# the values are there, each under its own name
	grep -qx 'orders_20240710T082645Z_5100000000000000001005.csv,4,INSERT,_created_at,2024-01-01' "$T/whole"
	grep -qx 'orders_20240710T082643Z_5100000000000000001003.csv,3,INSERT,zip,44600' "$T/whole"
	grep -qx 'orders_20240710T082647Z_5100000000000000001007.csv,5,INSERT,note,"say ""hi"""' "$T/whole"
	[ "$(wc -l <"$T/whole")" -eq 28 ]
}

@test "columns: -c with -l: lineage columns after the declared ones and extra, before EventType; other attributes gathered, never refused" {
	run --separate-stderr ddb-to-s3 -o "$T/o" -F lake -c id,total -l SequenceNumber=seq "$C/batch1.json" "$C/batch2.json"
	[ "$status" -eq 0 ]
	printf '%s\n' 'id,total,extra,seq,EventType,created_at' \
		'1,10,"{""name"":""a""}",5100000000000000001001,INSERT,1720600001' \
		'2,20,"{""name"":""b""}",5100000000000000001002,INSERT,1720600002' \
		'1,10,"{""name"":""a""}",5100000000000000001003,REMOVE,1720600003' \
		'1,11,"{""name"":""a"",""email"":""a@x""}",5100000000000000001003,INSERT,1720600003' \
		'3,,"{""email"":""c@x"",""zip"":""44600""}",5100000000000000001004,INSERT,1720600004' >"$T/exp"
	diff -u "$T/exp" "$T"/o/lake/orders/*.csv
	[ "$(cat "$T/o/lake/orders/_columns")" = '{"columns":["id","total","extra","seq","EventType","created_at"],"keys":["id"]}' ]
	# a lineage field that does not exist is a usage error (2), not bad data
	run --separate-stderr ddb-to-s3 -o "$T/o2" -c id -l Sequence "$C/batch1.json"
	[ "$status" -eq 2 ]
	[ ! -e "$T/o2" ]
}

@test "s3-put: -d reads an object and its ETag; a missing one is no file; -n and -i are compare-and-swap; 501 is exit 9, a lost race 8" {
	printf '{"columns":["a"]}\n' >"$T/l1"
	printf '{"columns":["a","b"]}\n' >"$T/l2"
	export AWS_ENDPOINT_URL_S3="$S3_ENDPOINT"
	run --separate-stderr s3-put -d "$T/none" "s3://$B/$P/none"
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ -z "$stderr" ] && [ ! -e "$T/none" ]
	run --separate-stderr s3-put -n -f "$T/l1" "s3://$B/$P/_columns"
	[ "$status" -eq 9 ]
	[ "$stderr" = "s3-put: PUT s3://$B/$P/_columns: the store does not do conditional writes (HTTP 501): not written" ]
	[ -z "$(s3_ls_all "$B" "$P/")" ]
	cas_proxy_start
	run --separate-stderr s3-put -u "$CAS_URL" -n -f "$T/l1" "s3://$B/$P/_columns"
	[ "$status" -eq 0 ]
	run --separate-stderr s3-put -u "$CAS_URL" --if-none-match -f "$T/l2" "s3://$B/$P/_columns"
	[ "$status" -eq 8 ]
	[ "$stderr" = "s3-put: PUT s3://$B/$P/_columns: the object changed (HTTP 412): not written" ]
	run --separate-stderr s3-put -u "$CAS_URL" --download "$T/got" "s3://$B/$P/_columns"
	[ "$status" -eq 0 ]
	etag=$output
	[ "$etag" = "$(s3_head "$B" "$P/_columns" | jq -r .ETag | tr -d '"')" ]
	cmp "$T/l1" "$T/got"
	run --separate-stderr s3-put -u "$CAS_URL" -i 0123456789abcdef0123456789abcdef -f "$T/l2" "s3://$B/$P/_columns"
	[ "$status" -eq 8 ]
	run --separate-stderr s3-put -u "$CAS_URL" --if-match "$etag" -f "$T/l2" "s3://$B/$P/_columns"
	[ "$status" -eq 0 ]
	s3_get "$B" "$P/_columns" "$T/now"
	cmp "$T/l2" "$T/now"
	# a conditional write is never kept for an unconditional retry
	S3PUT_KEEP_DIR="$T/keep" run --separate-stderr s3-put -u "$CAS_URL" -i "$etag" -f "$T/l1" "s3://$B/$P/_columns"
	[ "$status" -eq 8 ]
	[ ! -e "$T/keep" ] || [ -z "$(ls -A "$T/keep")" ]
	for bad in "-n -i x" "-n -k $T/k" "-d $T/x -n" "-d $T/x -f $T/l1" "-i ''" "-d ''"; do
		eval "run --separate-stderr s3-put $bad s3://$B/$P/x"
		[ "$status" -eq 2 ]
		[[ "$stderr" == "s3-put: "* ]]
	done
}
