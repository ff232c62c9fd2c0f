#!/usr/bin/env bats
# make install: PREFIX and DESTDIR

@test "make install puts tools and man pages under DESTDIR/PREFIX" {
	local d="$BATS_TEST_TMPDIR/root"
	run make -s --no-print-directory -C "$BATS_TEST_DIRNAME/.." install DESTDIR="$d" PREFIX=/opt/ddb
	[ "$status" -eq 0 ]
	run sh -c 'cd "$1" && find . -type f | sort' sh "$d"
	[ "$output" = "./opt/ddb/bin/csv-emit
./opt/ddb/bin/ddb-esm
./opt/ddb/bin/ddb-expand
./opt/ddb/bin/ddb-flatten
./opt/ddb/bin/ddb-scan
./opt/ddb/bin/ddb-stream
./opt/ddb/bin/ddb-to-s3
./opt/ddb/bin/parquet-emit
./opt/ddb/bin/s3-put
./opt/ddb/share/man/man1/csv-emit.1
./opt/ddb/share/man/man1/ddb-esm.1
./opt/ddb/share/man/man1/ddb-expand.1
./opt/ddb/share/man/man1/ddb-flatten.1
./opt/ddb/share/man/man1/ddb-scan.1
./opt/ddb/share/man/man1/ddb-stream.1
./opt/ddb/share/man/man1/ddb-to-s3.1
./opt/ddb/share/man/man1/parquet-emit.1
./opt/ddb/share/man/man1/s3-put.1
./opt/ddb/share/man/man7/ddb-to-s3.7" ]
	[ -x "$d/opt/ddb/bin/ddb-flatten" ]
	"$d/opt/ddb/bin/ddb-flatten" --version | grep -q '^ddb-flatten '
}
