# table.bash: a table's objects read as a lake's reader reads them. Load
# with `load lib/table` (needs lib/duckdb, jq, python3).

TABLE_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# table_prefixes DIR: each DIR/*.csv's header is a prefix of DIR/_columns,
# which names each column once
table_prefixes() {
	local f list head
	list=$(jq -r '.columns | join(",")' "$1/_columns")
	[ "$(jq -r '.columns[]' "$1/_columns" | sort | uniq -d)" = "" ]
	for f in "$1"/*.csv; do
		head=$(head -n 1 "$f")
		case "$list," in
		"$head,"*) ;;
		*) echo "$f: header $head is not a prefix of $list" >&2; return 1 ;;
		esac
	done
}

# table_cells DIR WHOLE ALONE: the cells (object, id, EventType, column,
# value; nulls left out) of DIR/*.csv read by DuckDB two ways: the whole
# table at once by position through DIR/_columns (read_csv with declared
# columns and null_padding, as a Hive table over the prefix) into WHOLE,
# and each object alone by its own header into ALONE. A positional slip
# makes the two differ.
table_cells() {
	local dir=$1 whole=$2 alone=$3 opts cells files table one f
	opts="header=true, auto_detect=false, delim=',', quote='\"', escape='\"'"
	cells='SELECT filename, id, "EventType", name, value FROM (UNPIVOT T ON COLUMNS(* EXCLUDE (filename, id, "EventType")) INTO NAME name VALUE value)'
	(
	cd "$dir" || exit 1
	files=$(ls ./*.csv | sed "s|^\./||; s/.*/'&'/" | paste -sd,)
	table=$(jq -r '.columns | map("\u0027" + . + "\u0027: \u0027VARCHAR\u0027") | join(", ")' _columns)
	"$TABLE_LIB/duckdb" "CREATE TABLE T AS SELECT * FROM read_csv([$files], $opts, columns={$table}, null_padding=true, filename=true)" \
		"$cells ORDER BY ALL" >"$whole" || exit 1
	one=
	for f in *.csv; do
		one="${one:+$one UNION ALL BY NAME }SELECT * FROM read_csv('$f', $opts, columns={$(_table_header_cols "$f")}, filename=true)"
	done
	"$TABLE_LIB/duckdb" "CREATE TABLE T AS $one" "$cells ORDER BY ALL" >"$alone"
	)
}

# _table_header_cols FILE: DuckDB's columns={...} of FILE's header, all VARCHAR
_table_header_cols() {
	python3 -c 'import csv, sys; print(", ".join("%s: %s" % (repr(c), "'"'VARCHAR'"'") for c in next(csv.reader(open(sys.argv[1], newline="")))))' "$1"
}
