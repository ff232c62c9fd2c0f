#!/usr/bin/env bats
# The current-state view (ddb-to-s3 --view) against the real table: a
# workload on DynamoDB Local (lib/view-workload: puts, updates, deletes,
# re-inserts, several changes to one key in one second, a composite key,
# every attribute type), a backfill by ddb-scan while the changes go on,
# then the stream by ddb-stream, everything through ddb-to-s3 into the
# Swift store; the objects read back with /usr/bin/aws, the view evaluated
# by DuckDB over them, compared with `aws dynamodb scan` of the table item
# for item, value for value (lib/view-compare). Each way of storing the
# stream (plain, -i, every batch twice, a consumer killed after its
# upload) has its own prefix and its own view.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb

DUCKDB="$BATS_TEST_DIRNAME/lib/duckdb"
. "$BATS_TEST_DIRNAME/lib/view-workload"

setup_file() {
	ddb_local_up
	# ddb-scan and ddb-stream sign for DynamoDB Local with this file's key
	# id (profile ddb); s3-put keeps the environment's keys
	export AWS_SHARED_CREDENTIALS_FILE="$BATS_FILE_TMPDIR/credentials"
	printf '[ddb]\naws_access_key_id = %s\naws_secret_access_key = ddblocal\n' \
		"$DDB_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
	B=$(s3_bucket view)
	s3_mb "$B"
	export B
}

setup() {
	W=$BATS_TEST_TMPDIR
	unset DDB_TO_S3_LINEAGE
	export DDB_TO_S3_BUCKET=$B DDB_TO_S3_ENDPOINT_URL=$S3_ENDPOINT
	export P=v$BATS_TEST_NUMBER TB W DDB_ENDPOINT DDB_ACCESS_KEY
	TB=$(ddb_table view)
}

# stream VARIANT STATE: ddb-stream from TRIM_HORIZON to the end, each batch
# stored as the variant stores it
stream() {
	ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$2" "$TB" \
		bash -c '. "$1"; store "$2"' sh "$BATS_TEST_DIRNAME/lib/view-workload" "$1"
}

# check VARIANT: the variant's objects, read back, through the view that
# ddb-to-s3 --view prints from the table's column list and key schema in
# the bucket, equal the table now ($W/table.json)
check() {
	local v=$1
	s3_aws s3 cp --recursive --quiet "s3://$B/$P/$v/" "$W/bucket/$P/$v/"
	[ "$v" = i ] ||
		[ "$(cat "$W/bucket/$P/$v/staging/$TB/_columns")" = "$(cat "$W/bucket/$P/plain/staging/$TB/_columns")" ]
	# with the options of the runs that wrote the objects
	if [ "$v" = i ]; then
		ddb-to-s3 --view --dialect duckdb -F "$P/$v/staging" -t "$TB" \
			-l SequenceNumber,source,userIdentity >"$W/$v.sql"
		grep -q '^  columns = {.*'"'source'"': .VARCHAR.' "$W/$v.sql"
	else
		ddb-to-s3 --view --dialect duckdb -F "$P/$v/staging" -t "$TB" >"$W/$v.sql"
	fi
	# the DuckDB form reads the copies under the current directory
	(cd "$W/bucket" && "$DUCKDB" "$(cat "$W/$v.sql")" \
		"SELECT * FROM \"${TB}_current\"") >"$W/$v.csv"
	"$BATS_TEST_DIRNAME/lib/view-compare" pk,sk "$W/$v.csv" "$W/table.json"
}

@test "view on DynamoDB Local: backfill during changes, then the stream, stored four ways; each view equals the table" {
	ddb_aws dynamodb create-table --table-name "$TB" \
		--attribute-definitions AttributeName=pk,AttributeType=S \
		AttributeName=sk,AttributeType=N \
		--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
		--billing-mode PAY_PER_REQUEST \
		--stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
		>/dev/null
	before_scan
	# the backfill's T0 is ddb-scan's own: DynamoDB Local's Date, less a
	# minute (its stream times are rounded to the minute)
	local v
	ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$TB" --page-size 2 \
		--state "$W/scan" \
		bash -c '. "$1"; during_scan "$DDB_SCAN_PAGE"; cat >"$W/page"
			for v in $VARIANTS; do store "$v" <"$W/page" || exit; done' \
		sh "$BATS_TEST_DIRNAME/lib/view-workload"
	after_scan
	ddb_aws dynamodb scan --table-name "$TB" --output json >"$W/table.json"

	stream plain "$W/st.plain"
	stream i "$W/st.i"
	# every batch twice: the state as it was before, and the stream again
	mkdir "$W/st.twice"
	cp -a "$W/st.twice" "$W/st.twice.0"
	stream twice "$W/st.twice"
	rm -rf "$W/st.twice"
	mv "$W/st.twice.0" "$W/st.twice"
	stream twice "$W/st.twice"
	# the consumer stores the first batch, then dies before it says so:
	# ddb-stream stops, and the next run hands the same batch on again
	run ddb-stream -p ddb -u "$DDB_ENDPOINT" --state "$W/st.crash" "$TB" \
		bash -c '. "$1"; store crash && kill -9 $$' sh "$BATS_TEST_DIRNAME/lib/view-workload"
	[ "$status" -ne 0 ]
	stream crash "$W/st.crash"

	# the key schema, from the records' Keys, recorded with the columns
	s3_get "$B" "$P/plain/staging/$TB/_columns" "$W/cols"
	[[ $(cat "$W/cols") == '{"columns":['*'],"keys":["pk","sk"]}' ]]
	for v in $VARIANTS; do
		check "$v"
	done
}
