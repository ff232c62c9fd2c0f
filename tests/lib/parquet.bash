# parquet.bash: Parquet files read back by two readers nobody here wrote,
# DuckDB (tests/lib/duckdb) and hyparquet (tests/lib/hyparquet), and
# compared with csv-emit's cells. Load with `load lib/parquet`.

LIB="$BATS_TEST_DIRNAME/lib"

# duck_csv FILE.parquet: the file as DuckDB reads it, written as CSV by
# DuckDB with \N for null (its CSV quotes like csv-emit's otherwise)
duck_csv() {
	local out=$BATS_TEST_TMPDIR/duck.csv p=${1//\'/\'\'}
	"$LIB/duckdb" "COPY (SELECT * FROM read_parquet('$p')) TO '$out' (FORMAT csv, HEADER true, NULLSTR '\\N')" \
		"SELECT 1" > /dev/null
	cat "$out"
}

# pq_same "CSV-EMIT ARGS" "PARQUET-EMIT ARGS" FILE...: parquet-emit with
# both sets of arguments writes a file that DuckDB and hyparquet read as
# exactly the CSV csv-emit writes with the first set and -N '\N' (every
# cell, column by column, by name, null told from an empty string)
pq_same() {
	local cargs=$1 pargs=$2 t=$BATS_TEST_TMPDIR
	shift 2
	# shellcheck disable=SC2086
	csv-emit -N '\N' $cargs "$@" > "$t/want.csv"
	# shellcheck disable=SC2086
	parquet-emit $cargs $pargs "$@" > "$t/out.parquet"
	[ "$(head -c 4 "$t/out.parquet")" = PAR1 ]
	[ "$(tail -c 4 "$t/out.parquet")" = PAR1 ]
	"$LIB/hyparquet" "$t/out.parquet" '\N' > "$t/hyp.csv"
	diff -u "$t/want.csv" "$t/hyp.csv"
	duck_csv "$t/out.parquet" > "$t/duck.csv"
	diff -u "$t/want.csv" "$t/duck.csv"
}

# meta FILE.parquet JQ: hyparquet's reading of the footer, through jq -c
meta() {
	"$LIB/hyparquet" -m "$1" | jq -c "$2"
}
