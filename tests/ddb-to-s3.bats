#!/usr/bin/env bats
# ddb-to-s3 and its Lambda bootstrap, end to end against the real S3 store
# (setup_suite.bash); objects read back with /usr/bin/aws.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/lambda
load lib/parquet

F="$BATS_TEST_DIRNAME/fixtures"
D="$F/ddb-to-s3"

# one bucket for the file (the AWS CLI is slow to start); each test writes
# below its own prefix $P
setup_file() {
	B=$(s3_bucket d2s)
	s3_mb "$B"
	export B
}

setup() {
	T="$BATS_TEST_TMPDIR"
	P="t$BATS_TEST_NUMBER"
	SEED_KEY="$P/staging/student/student_20240710T164423Z_5100000000093649950825.csv"
	SEED_KEY_RE="^$P/staging/student/student_20240710T164423Z_5100000000093649950825\\.csv\$"
	export DDB_TO_S3_BUCKET="$B" DDB_TO_S3_ENDPOINT_URL="$S3_ENDPOINT"
	export DDB_TO_S3_PREFIX="$P/staging"
	unset DDB_TO_S3_KEY DDB_TO_S3_KEEP_DIR DDB_TO_S3_GZIP \
		DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES
	RT=
}

teardown() {
	if [ -n "$RT" ] && [ -f "$RT/pid" ]; then
		kill "$(cat "$RT/pid")" 2>/dev/null || :
	fi
}

# a loopback port nobody listens on: a store that is down
closed_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# same KEY FILE: object KEY of $B holds exactly FILE's bytes
same() {
	rm -f "$T/got"
	s3_get "$B" "$1" "$T/got"
	diff -u "$2" "$T/got"
}

# spool_in [FILE NAME]...: a spool, $S ($T/spool), whose incoming/ holds
# each FILE as NAME
spool_in() {
	S="$T/spool"
	mkdir -p "$S/incoming"
	while [ $# -gt 0 ]; do
		cp "$1" "$S/incoming/$2"
		shift 2
	done
}

# install_in DIR: ddb-to-s3 copied into DIR, the tools beside it as links
install_in() {
	local t
	mkdir -p "$1"
	for t in ddb-flatten ddb-expand csv-emit s3-put; do
		ln -s "$(command -v "$t")" "$1/$t"
	done
	cp "$(command -v ddb-to-s3)" "$1/"
}

# standin EVENT...: the Runtime API stand-in serving the events, its
# answers in $RT/req-N.*, its address in $RT/address
standin() {
	RT="$T/rt"
	runtime_standin "$RT" "$@"
}

# runtime EVENT...: run bootstrap against the stand-in serving the events
runtime() {
	standin "$@"
	AWS_LAMBDA_RUNTIME_API=$(cat "$RT/address") timeout 120 bootstrap \
		2>"$RT/log" || :
}

@test "ddb-to-s3: --help exits 0, a bad option 2, --version" {
	run --separate-stderr ddb-to-s3 --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: ddb-to-s3 "* ]]
	[[ "$output" == *"--key TEMPLATE"* ]]
	[[ "$output" == *"--event-type-column NAME"* ]]
	run --separate-stderr ddb-to-s3 --bogus
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "ddb-to-s3: unknown option --bogus"*"usage: ddb-to-s3 "* ]]
	run ddb-to-s3 -V
	[ "$status" -eq 0 ]
	[[ "$output" == "ddb-to-s3 "[0-9]* ]]
}

@test "ddb-to-s3: no bucket, a bad key template, an option without argument: usage, exit 2" {
	unset DDB_TO_S3_BUCKET
	run --separate-stderr ddb-to-s3 "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: no bucket"* ]]
	run --separate-stderr ddb-to-s3 -b "$B" -K '{prefix}/{table}/{nope}.csv' "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: key template: unknown placeholder"* ]]
	run --separate-stderr ddb-to-s3 -K '{prefix}/all.csv' "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: key template must contain {table}"* ]]
	run --separate-stderr ddb-to-s3 -b
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: option -b needs an argument"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: a missing input file is exit 3, nothing uploaded" {
	run --separate-stderr ddb-to-s3 "$T/nope.json"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"nope.json: No such file or directory"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: the seed's sample event gives the SPEC's CSV under the seed's layout" {
	# a bucket of its own, the default prefix
	B=$(s3_bucket seed)
	s3_mb "$B"
	unset DDB_TO_S3_PREFIX
	run --separate-stderr ddb-to-s3 -b "$B" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	key=$(s3_ls "$B")
	# {first_id}: the SequenceNumber of the table's first record
	[ "$key" = staging/student/student_20240710T164423Z_5100000000093649950825.csv ]
	same "$key" "$F/seed-sample.csv"
	[ "$stderr" = "ddb-to-s3: student: 1 record, 2 rows, seq 5100000000093649950825..5100000000093649950825 -> s3://$B/$key" ]
	[ "$(s3_head "$B" "$key" | jq -r .ContentType)" = "text/csv; charset=utf-8" ]
}

@test "ddb-to-s3: the Python-repr event from a log, on stdin, gives the same object" {
	run --separate-stderr ddb-to-s3 <"$F/seed-sample.py.txt"
	[ "$status" -eq 0 ]
	key=$(s3_ls "$B" "$P/")
	[[ "$key" =~ $SEED_KEY_RE ]]
	same "$key" "$F/seed-sample.csv"
}

@test "ddb-to-s3: a two-table batch gives two objects, each table's records in one" {
	run --separate-stderr ddb-to-s3 -F "$P/lake/raw" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^$P/lake/raw/course/course_20240710T164502Z_5100000000093649950902\.csv$ ]]
	[[ "${lines[1]}" =~ ^$P/lake/raw/student/student_20240710T164501Z_5100000000093649950901\.csv$ ]]
	same "${lines[0]}" "$D/two-tables.course.csv"
	same "${lines[1]}" "$D/two-tables.student.csv"
}

@test "ddb-to-s3: a retried batch gives the same key and no second object" {
	run --separate-stderr ddb-to-s3 "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	first=$stderr
	run --separate-stderr ddb-to-s3 "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$stderr" = "$first" ]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 1 ]
	same "${lines[0]}" "$F/seed-sample.csv"
}

@test "ddb-to-s3: a bad record uploads nothing, names the record, prints no item data" {
	run --separate-stderr ddb-to-s3 "$F/seed-sample.json" "$D/bad-record.json"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[[ "$stderr" == *"bad-record.json:1: eventID bad-3: NewImage.age: unknown type descriptor"* ]]
	[[ "$stderr" == *"ddb-to-s3: bad data in the batch; nothing uploaded"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
	for v in Sita Ram Hari Gita Gaurav Saurav Kandel 334433223; do
		[[ "$stderr" != *"$v"* ]]
	done
}

@test "ddb-to-s3: a store that is down: exit 75, the body kept whole; a later run uploads it once" {
	# the table's column list is read and stored, then the store goes down
	fault_proxy_start 'pass*2,503*'
	run --separate-stderr ddb-to-s3 -u "$FAULT_URL" -a 1 -k "$T/keep" "$F/seed-sample.json"
	fault_proxy_stop
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"ddb-to-s3: student: 1 record, 2 rows, seq "*": upload failed for now: s3://$B/$SEED_KEY (body kept in $T/keep)"* ]]
	[[ "$stderr" != *" -> s3://"* ]]
	uf=$(ls "$T"/keep/*.uri)
	[ "$(sed -n 1p "$uf")" = "s3://$B/$SEED_KEY" ]
	cmp "$F/seed-sample.csv" "${uf%.uri}"
	[ -z "$(s3_ls "$B" "$P/")" ]
	# the next run (Lambda's retry, cron's next try) uploads the kept body
	# first, then the batch again to the same key: one object
	run --separate-stderr ddb-to-s3 -k "$T/keep" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ddb-to-s3: kept body ${uf%.uri}: uploaded"$'\n'* ]]
	[ "$(s3_ls "$B" "$P/")" = "$SEED_KEY" ]
	[ -z "$(ls -A "$T/keep")" ]
}

@test "ddb-to-s3: -D and -o: every stage runs, nothing is uploaded, same names" {
	run --separate-stderr ddb-to-s3 -D "$D/two-tables.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"course: 1 record, 1 row, seq 5100000000093649950902..5100000000093649950902 -> s3://$B/$P/staging/course/course_20240710T164502Z_"*".csv (dry run)"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
	run --separate-stderr ddb-to-s3 -o "$T/out" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	[ -z "$(s3_ls "$B" "$P/")" ]
	ddb-to-s3 "$D/two-tables.json" 2>/dev/null
	diff <(cd "$T/out" && find . -type f | sed 's:^\./::' | sort) <(s3_ls_all "$B" "$P/")
	diff -u "$D/two-tables.student.csv" "$T"/out/$P/staging/student/*.csv
	diff -u "$D/two-tables.course.csv" "$T"/out/$P/staging/course/*.csv
}

@test "ddb-to-s3: key templates: Hive dt= partitions, sequence numbers, gzip" {
	run --separate-stderr ddb-to-s3 -o "$T/out" -F staging \
		-K '{prefix}/{table}/dt={date}/hour={hour}/{table}_{timestamp}_{hash}.csv' "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	ls "$T"/out/staging/student/dt=2024-07-10/hour=16/student_20240710T164423Z_*.csv
	run --separate-stderr ddb-to-s3 -o "$T/seq" -K 'cdc/{table}/{year}/{month}/{day}/{first_seq}-{last_seq}.csv' "$D/two-tables.json"
	[ "$status" -eq 0 ]
	diff -u "$D/two-tables.student.csv" "$T/seq/cdc/student/2024/07/10/5100000000093649950901-5100000000093649950903.csv"
	run --separate-stderr ddb-to-s3 -z "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	key=$(s3_ls "$B" "$P/")
	[[ "$key" == $P/staging/student/student_20240710T164423Z_*.csv.gz ]]
	s3_get "$B" "$key" "$T/got.gz"
	diff -u "$F/seed-sample.csv" <(gzip -dc "$T/got.gz")
	# compressed in process, gzip -n's bytes; no gzip is run
	cmp "$T/got.gz" <(gzip -n -c "$F/seed-sample.csv")
	mkdir -p "$T/nogzip"
	printf '#!/bin/sh\nexit 9\n' >"$T/nogzip/gzip"
	chmod +x "$T/nogzip/gzip"
	PATH="$T/nogzip:$PATH" run --separate-stderr ddb-to-s3 -z -o "$T/z" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	cmp "$T"/z/$P/staging/student/*.csv.gz "$T/got.gz"
}

@test "ddb-to-s3: stage options pass through: filters, columns, insert-first, lineage" {
	run --separate-stderr ddb-to-s3 -o "$T/a" -F staging -t course "$D/two-tables.json"
	[ "$status" -eq 0 ]
	[ "$(cd "$T/a" && find . -type f -name '*.csv' | cut -d/ -f3)" = course ]
	run --separate-stderr ddb-to-s3 -o "$T/b" -F staging -c id,fname -x drop -i "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	printf 'id,fname,EventType,created_at\n2,Gaurav,INSERT,1720629863.0\n2,Saurav,REMOVE,1720629863.0\n' >"$T/exp"
	diff -u "$T/exp" "$T"/b/staging/student/*.csv
	run --separate-stderr ddb-to-s3 -o "$T/c" -F staging -c id -x fail "$F/seed-sample.json"
	[ "$status" -eq 1 ]
	[ ! -d "$T/c/staging" ]
	run --separate-stderr ddb-to-s3 -o "$T/d" -F staging -l eventID,SequenceNumber "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[[ "$(head -1 "$T"/d/staging/student/*.csv)" == *eventID*SequenceNumber* ]]
}

@test "ddb-to-s3: spool: good files to done/, bad ones to failed/, one line per file" {
	spool_in "$F/seed-sample.json" 1-seed.json "$D/bad-record.json" 2-bad.json "$D/two-tables.json" 3-two.json
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 1 ]
	[ "$(ls "$S/incoming")" = "" ]
	[ "$(ls "$S/done")" = "$(printf '1-seed.json\n3-two.json')" ]
	[ "$(ls "$S/failed")" = "2-bad.json" ]
	[[ "${stderr}" == "ddb-to-s3: 1-seed.json: done: student 1 record -> s3://$B/$P/staging/student/student_20240710T164423Z_"* ]]
	[ "$(grep -c '^ddb-to-s3: [0-9]-[a-z]*\.json: ' <<<"$stderr")" -eq 3 ]
	[[ "$stderr" == *"eventID bad-3"*"ddb-to-s3: 2-bad.json: bad data (above), moved to failed/2-bad.json"* ]]
	[ "$(s3_ls "$B" "$P/" | wc -l)" -eq 3 ]
	# nothing new: nothing to do, exit 0, silent
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
}

@test "ddb-to-s3: spool: a dry run says what it would do and moves nothing" {
	spool_in "$F/seed-sample.json" 1-seed.json "$D/bad-record.json" 2-bad.json
	run --separate-stderr ddb-to-s3 -D -q "$S"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ddb-to-s3: 1-seed.json: would be done: student 1 record -> s3://$B/$P/staging/student/student_20240710T164423Z_"*".csv"$'\n'"ddb-to-s3: 2-bad.json: would fail (exit 1)"$'\n'*"eventID bad-3"* ]]
	[ "$(ls "$S/incoming")" = "$(printf '1-seed.json\n2-bad.json')" ]
	[ -z "$(ls -A "$S/done")$(ls -A "$S/failed")" ]
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: installed beside the tools, it finds them with cron's PATH" {
	install_in "$T/bin"
	run --separate-stderr env PATH=/usr/bin:/bin "$T/bin/ddb-to-s3" -o "$T/out" -F staging "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	diff -u "$F/seed-sample.csv" "$T"/out/staging/student/student_20240710T164423Z_*.csv
}

@test "ddb-to-s3: spool: a run that finds the lock taken does nothing" {
	spool_in "$F/seed-sample.json" a.json
	: >"$S/.lock"
	flock "$S/.lock" sh -c 'ddb-to-s3 -q "$1"; echo "inner=$?"' sh "$S" >"$T/inner" 2>&1
	[ "$(cat "$T/inner")" = "inner=0" ]
	[ "$(ls "$S/incoming")" = a.json ]
	[ -z "$(s3_ls "$B" "$P/")" ]
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[ "$(ls "$S/done")" = a.json ]
}

@test "ddb-to-s3: spool: a lock held by a run with no sign of life for over an hour is a STALE LOCK, exit 7; a fresh one is left in silence" {
	spool_in "$F/seed-sample.json" a.json
	: >"$S/.lock"
	touch -d '-61 minutes' "$S/.lock"
	flock "$S/.lock" sh -c 'ddb-to-s3 -q "$1"; echo "inner=$?"' sh "$S" >"$T/inner" 2>&1
	[ "$(cat "$T/inner")" = "ddb-to-s3: $S/.lock: STALE LOCK: the run holding it has shown no sign of life for more than 3600 s: hung? nothing done; stop that run and the next one goes on
inner=7" ]
	[ "$(ls "$S/incoming")" = a.json ]
	# a run that holds it touches it before each file
	touch -d '-61 minutes' "$S/.lock"
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[ "$(ls "$S/done")" = a.json ]
	[ -z "$(find "$S/.lock" -mmin +1)" ]
	touch -d '-59 minutes' "$S/.lock"
	flock "$S/.lock" sh -c 'ddb-to-s3 -q "$1"; echo "inner=$?"' sh "$S" >"$T/inner" 2>&1
	[ "$(cat "$T/inner")" = "inner=0" ]
}

@test "ddb-to-s3: spool: store down leaves the files in incoming/, the next run uploads each once" {
	spool_in "$F/seed-sample.json" a.json "$D/two-tables.json" b.json
	port=$(closed_port)
	run --separate-stderr ddb-to-s3 -u "http://127.0.0.1:$port" -a 1 -q "$S"
	[ "$status" -eq 75 ]
	[ "$(ls "$S/incoming")" = "$(printf 'a.json\nb.json')" ]
	[ -z "$(ls -A "$S/done")$(ls -A "$S/failed")" ]
	[ ! -e "$S/keep" ]
	# s3-put's own reason is shown, no "->" for the object that failed
	[[ "$stderr" == *"ddb-to-s3: a.json: upload failed for now; it and the files after it are left in incoming/ for the next run"* ]]
	[[ "$stderr" == *"s3-put: GET s3://$B/$P/staging/student/_columns: "*"Couldn't connect to server"* ]]
	[[ "$stderr" != *" -> s3://"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[ "$(ls "$S/done")" = "$(printf 'a.json\nb.json')" ]
	[ -z "$(ls -A "$S/incoming")" ]
	same "$SEED_KEY" "$F/seed-sample.csv"
	[ "$(s3_ls "$B" "$P/" | wc -l)" -eq 3 ]
}

@test "ddb-to-s3: spool: a name already in failed/ or done/ is never replaced (regression: overwritten batch)" {
	spool_in "$D/bad-record.json" batch.json
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ddb-to-s3: batch.json: bad data (above), moved to failed/batch.json"* ]]
	printf '%s\n' '{"Records":[]}' >"$S/incoming/batch.json"
	cp "$D/bad-record.json" "$T/second.json"
	printf '\n' >>"$T/second.json"
	cp "$T/second.json" "$S/incoming/batch.json"
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ddb-to-s3: batch.json: bad data (above), moved to failed/batch.json.1"* ]]
	cmp "$D/bad-record.json" "$S/failed/batch.json"
	cmp "$T/second.json" "$S/failed/batch.json.1"
	cp "$F/seed-sample.json" "$S/incoming/x.json"
	run ddb-to-s3 -q "$S"
	cp "$D/two-tables.json" "$S/incoming/x.json"
	run ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	cmp "$F/seed-sample.json" "$S/done/x.json"
	cmp "$D/two-tables.json" "$S/done/x.json.1"
}

@test "ddb-to-s3: spool: a file a killed run linked into done/ but did not unlink is not filed twice" {
	spool_in "$F/seed-sample.json" a.json
	mkdir -p "$S/done"
	ln "$S/incoming/a.json" "$S/done/a.json"
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ddb-to-s3: a.json: already filed as done/a.json by a run that was killed while moving it" ]
	[ -z "$(ls -A "$S/incoming")" ]
	[ "$(ls "$S/done")" = a.json ]
}

@test "ddb-to-s3: a stage that is killed, crashes or is missing is a failure with its reason, never refused or success (regression)" {
	install_in "$T/bin"
	printf '#!/bin/sh\nkill -KILL $$\n' >"$T/kill9"
	printf '#!/bin/sh\nkill -SEGV $$\n' >"$T/segv"
	chmod +x "$T/kill9" "$T/segv"
	for stage in ddb-expand s3-put; do
		for how in kill9 segv missing; do
			rm -f "$T/bin/$stage"
			[ $how = missing ] || ln -s "$T/$how" "$T/bin/$stage"
			S="$T/spool-$stage-$how"
			mkdir -p "$S/incoming"
			cp "$F/seed-sample.json" "$S/incoming/a.json"
			run --separate-stderr env PATH="$T/bin:/usr/bin:/bin" "$T/bin/ddb-to-s3" -q "$S"
			[ "$status" -eq 70 ]
			[ "$(ls "$S/incoming")" = a.json ]
			[ -z "$(ls -A "$S/done")$(ls -A "$S/failed")" ]
			case $how in
			kill9) [[ "$stderr" == *"ddb-to-s3: $stage: killed by signal 9"* ]] ;;
			segv) [[ "$stderr" == *"ddb-to-s3: $stage: killed by signal 11"* ]] ;;
			missing) [[ "$stderr" == *"ddb-to-s3: $stage: cannot run (exit 127)"* ]] ;;
			esac
			[[ "$stderr" != *refused* ]]
			run --separate-stderr env PATH="$T/bin:/usr/bin:/bin" "$T/bin/ddb-to-s3" "$F/seed-sample.json"
			[ "$status" -eq 70 ]
			[[ "$stderr" != *refused* ]]
		done
		rm -f "$T/bin/$stage"
		ln -s "$(command -v "$stage")" "$T/bin/$stage"
	done
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: a configuration mistake is a usage error that touches no file (regression)" {
	spool_in "$F/seed-sample.json" a.json
	DDB_TO_S3_MAX_ATTEMPTS=five run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: max attempts (-a, DDB_TO_S3_MAX_ATTEMPTS) must be a whole number above 0, not 'five'"* ]]
	run --separate-stderr ddb-to-s3 -x drop -q "$S"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: --extra needs --columns"* ]]
	run --separate-stderr ddb-to-s3 -M 0 "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	run --separate-stderr ddb-to-s3 -c id -x sideways -q "$S"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "csv-emit: "* ]]
	run --separate-stderr ddb-to-s3 -e UPSERT -q "$S"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-flatten: "* ]]
	[ "$(ls "$S/incoming")" = a.json ]
	[ -z "$(ls -A "$S/done")$(ls -A "$S/failed")" ]
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: an attribute named created_at or EventType: written as _created_at and _EventType, or the column renames pass through (regression: exit 1 on every batch)" {
	sed 's/"fname"/"created_at"/; s/"lname"/"EventType"/' "$F/seed-sample.json" >"$T/clash.json"
	run --separate-stderr ddb-to-s3 -o "$T/a" -F s "$T/clash.json"
	[ "$status" -eq 0 ]
	printf '_created_at,number,_EventType,id,EventType,created_at\nSaurav,334433223,Kandel,2,REMOVE,1720629863.0\nGaurav,334433223,Kandel,2,INSERT,1720629863.0\n' >"$T/exp"
	diff -u "$T/exp" "$T"/a/s/student/*.csv
	run --separate-stderr ddb-to-s3 -o "$T/b" -F s -E op -C op_time "$T/clash.json"
	[ "$status" -eq 0 ]
	printf 'created_at,number,EventType,id,op,op_time\nSaurav,334433223,Kandel,2,REMOVE,1720629863.0\nGaurav,334433223,Kandel,2,INSERT,1720629863.0\n' >"$T/exp"
	diff -u "$T/exp" "$T"/b/s/student/*.csv
	DDB_TO_S3_EVENT_TYPE_COLUMN=op DDB_TO_S3_CREATED_AT_COLUMN=op_time \
		run --separate-stderr ddb-to-s3 -o "$T/c" -F s "$T/clash.json"
	[ "$status" -eq 0 ]
	diff -u "$T/exp" "$T"/c/s/student/*.csv
}

@test "ddb-to-s3: a 255-character table name is uploaded; under -o a too long file name is bad data, not stuck (regression)" {
	t=$(printf 'T%.0s' $(seq 255))
	sed "s|table/student/|table/$t/|" "$F/seed-sample.json" >"$T/long.json"
	run --separate-stderr ddb-to-s3 "$T/long.json"
	[ "$status" -eq 0 ]
	same "$P/staging/$t/${t}_20240710T164423Z_5100000000093649950825.csv" "$F/seed-sample.csv"
	run --separate-stderr ddb-to-s3 -o "$T/out" "$T/long.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"a part of the key is longer than 255 bytes and cannot be a file name under --output-dir"* ]]
}


@test "ddb-to-s3: spool: the lock dies with the run, though a stage it started lives on (regression)" {
	spool_in "$F/seed-sample.json" a.json
	fault_proxy_start 'stall:30*'
	setsid ddb-to-s3 -u "$FAULT_URL" -a 1 -q "$S" >/dev/null 2>&1 &
	job=$!
	for _ in $(seq 100); do
		[ "$(fault_proxy_count)" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(fault_proxy_count)" -ge 1 ]
	kill -KILL "$job"
	# s3-put, still stalled in its PUT, must not keep the spool locked
	pgrep -f "s3-put.*$FAULT_URL" >/dev/null
	run --separate-stderr ddb-to-s3 -q "$S"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ddb-to-s3: a.json: done: student 1 record -> s3://$B/$SEED_KEY" ]]
	pkill -f "s3-put.*$FAULT_URL" || :
	fault_proxy_stop
	same "$SEED_KEY" "$F/seed-sample.csv"
}

@test "ddb-to-s3: --refused FILE lists the records ddb-flatten refuses; --head N writes the first N of them" {
	run --separate-stderr ddb-to-s3 --refused "$T/r1" "$D/bad-record.json"
	[ "$status" -eq 1 ]
	[ "$(cat "$T/r1")" = "$(printf '2\t5100000000093649951003')" ]
	[ -z "$(s3_ls "$B" "$P/")" ]
	run --separate-stderr ddb-to-s3 --head 2 --refused "$T/r2" "$D/bad-record.json"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/r2")" = "$(printf '2\t5100000000093649951003\n3\t5100000000093649951004')" ]
	[[ "$stderr" == "ddb-to-s3: student: 2 records, 2 rows, seq 5100000000093649951001..5100000000093649951002 -> s3://$B/$P/staging/student/student_20240710T164423Z_5100000000093649951001.csv" ]]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 1 ]
	# one batch only: not with --spool; --head takes a whole number
	run --separate-stderr ddb-to-s3 --refused "$T/r3" -q "$T/spool"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-to-s3: --refused, --head and --work-dir are for one batch, not --spool" ]
	[ ! -e "$T/spool" ] && [ ! -e "$T/r3" ]
	run --separate-stderr ddb-to-s3 --head 2x "$D/bad-record.json"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-to-s3: --head must be a whole number, not '2x'" ]
	# --work-dir: the caller's empty directory holds the batch's files,
	# left there; one that is not empty is a usage error
	mkdir "$T/w"
	run --separate-stderr ddb-to-s3 -D --work-dir "$T/w" "$D/bad-record.json"
	[ "$status" -eq 1 ]
	[ "$(cd "$T/w" && echo *)" = summary ]
	run --separate-stderr ddb-to-s3 -D --work-dir "$T/w" "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "ddb-to-s3: --work-dir $T/w: not empty" ]
	rm "$T/w/summary"
	run --separate-stderr ddb-to-s3 -D --work-dir "$T/w" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$(cd "$T/w" && echo *)" = "1.cols 1.cols.new 1.csv 1.keys 1.ndjson 1.rows plan summary" ]
}

@test "ddb-to-s3: a SequenceNumber that would forge a summary line is bad data, no object (regression)" {
	jq -c '.Records[0].dynamodb.SequenceNumber = "5\t5\t1\ndef\t1\t666"' "$F/seed-sample.json" >"$T/forged.json"
	run --separate-stderr ddb-to-s3 "$T/forged.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"dynamodb.SequenceNumber"* ]]
	[[ "$stderr" == *"ddb-to-s3: bad data in the batch; nothing uploaded"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
	[ -z "$(s3_ls "$B" def)" ]
}

@test "ddb-to-s3: key placeholders are the same in every TZ, from ISO 8601 and epoch ms/us times" {
	for tz in UTC Asia/Kolkata America/Los_Angeles; do
		TZ=$tz run --separate-stderr ddb-to-s3 -D -K '{table}/{date}/{hour}/{timestamp}.csv' "$F/seed-sample.json"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"-> s3://$B/student/2024-07-10/16/20240710T164423Z.csv (dry run)" ]]
	done
	jq -c '.Records[0].dynamodb.ApproximateCreationDateTime = "2024-07-10T22:14:23+05:30"' "$F/seed-sample.json" >"$T/iso.json"
	jq -c '.Records[0].dynamodb.ApproximateCreationDateTime = 1720629863123456' "$F/seed-sample.json" >"$T/us.json"
	jq -c '.Records[0].dynamodb.ApproximateCreationDateTime = 1720629863123' "$F/seed-sample.json" >"$T/ms.json"
	for f in iso us ms; do
		TZ=Asia/Kolkata run --separate-stderr ddb-to-s3 -D -K '{table}/{date}/{hour}/{timestamp}.csv' "$T/$f.json"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"-> s3://$B/student/2024-07-10/16/20240710T164423Z.csv (dry run)" ]]
	done
}

# --- other sources (fixtures in sources/, see its README) ---
X="$F/sources"

@test "ddb-to-s3: --manifest: a full export's gzipped data file into the store: INSERTs at exportTime, table from tableArn" {
	run --separate-stderr ddb-to-s3 --manifest "$X/manifest-summary.json" "$X/export-full.json.gz"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	key=$P/staging/student/student_20240710T164423Z_hd913fbf92d04641d.csv
	[ "$stderr" = "ddb-to-s3: student: 2 records, 2 rows -> s3://$B/$key" ]
	[ "$(s3_ls "$B" "$P/")" = "$key" ]
	same "$key" "$X/export-full.csv"
	# --export-time and -n instead of the manifest: the same object
	run --separate-stderr ddb-to-s3 -D -n student --export-time=2024-07-10T16:44:23.028Z "$X/export-full.json.gz"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ddb-to-s3: student: 2 records, 2 rows -> s3://$B/$key (dry run)" ]
}

@test "ddb-to-s3: incremental exports into the store: NEW_AND_OLD_IMAGES with --manifest, NEW_IMAGE with -n; created_at from WriteTimestampMicros" {
	run --separate-stderr ddb-to-s3 -F "$P/old" --manifest "$X/manifest-incremental.json" "$X/export-incr-new-and-old.json.gz"
	[ "$status" -eq 0 ]
	key=$P/old/student/student_20240710T164640Z_hf1467812a18a7e9b.csv
	[ "$stderr" = "ddb-to-s3: student: 3 records, 4 rows -> s3://$B/$key" ]
	same "$key" "$X/export-incr-new-and-old.csv"
	run --separate-stderr ddb-to-s3 -F "$P/new" -n student "$X/export-incr-new-image.json.gz"
	[ "$status" -eq 0 ]
	key=$P/new/student/student_20240710T164640Z_hf1467812a18a7e9b.csv
	[ "$stderr" = "ddb-to-s3: student: 3 records, 3 rows -> s3://$B/$key" ]
	same "$key" "$X/export-incr-new-image.csv"
	[ "$(s3_ls "$B" "$P/" | wc -l)" -eq 2 ]
}

@test "ddb-to-s3: a bad --manifest or --export-time is a usage error that touches nothing, in every mode" {
	spool_in "$X/export-full.json.gz" a.json.gz
	run --separate-stderr ddb-to-s3 -q "$S" --manifest "$X/manifest-files.json"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ddb-flatten: $X/manifest-files.json:1: --manifest: not a DynamoDB export's manifest-summary.json (no exportArn and tableArn)" ]
	[ "$(ls "$S/incoming")" = a.json.gz ]
	[ -z "$(ls -A "$S/done")$(ls -A "$S/failed")" ]
	# plain mode: refused before the keep dir is made or a kept body tried
	run --separate-stderr ddb-to-s3 -k "$T/keep" --export-time yesterday -n student "$X/export-full.json.gz"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-flatten: --export-time: 'yesterday' is not epoch seconds or ISO 8601 with Z or an offset"* ]]
	[ ! -e "$T/keep" ]
	run --separate-stderr ddb-to-s3 -k "$T/keep" --manifest "$T/none.json" "$X/export-full.json.gz"
	[ "$status" -eq 3 ]
	[ "$stderr" = "ddb-flatten: $T/none.json: No such file or directory" ]
	[ ! -e "$T/keep" ]
	run --separate-stderr ddb-to-s3 --manifest - "$X/export-full.json.gz"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: --manifest needs the file's name (- is the data on stdin)"$'\n'"usage: ddb-to-s3 "* ]]
	# no export time known at all: exit 2, nothing written
	run --separate-stderr ddb-to-s3 -n student "$X/export-full.json.gz"
	[ "$status" -eq 2 ]
	[ "$stderr" = "ddb-flatten: $X/export-full.json.gz:1: a full export's item needs the export time as created_at: give --manifest (manifest-summary.json) or --export-time" ]
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "ddb-to-s3: aws kinesis get-records output: {first_seq} and {last_seq} are the Kinesis sequence numbers" {
	run --separate-stderr ddb-to-s3 -D -K '{table}/{first_seq}-{last_seq}.csv' "$X/kinesis-get-records.json"
	[ "$status" -eq 0 ]
	[ "$stderr" = "ddb-to-s3: student: 3 records, 4 rows, seq 49590338271490256608559692538361571095921575989136588891..49590338271490256608559692538361571095921575989136588893 -> s3://$B/student/49590338271490256608559692538361571095921575989136588891-49590338271490256608559692538361571095921575989136588893.csv (dry run)" ]
}

@test "bootstrap: a good batch is uploaded and answered" {
	runtime "$F/seed-sample.json"
	[ "$(cat "$RT/req-1.response")" = '{"batchItemFailures":[]}' ]
	key=$(s3_ls "$B" "$P/")
	[[ "$key" =~ $SEED_KEY_RE ]]
	same "$key" "$F/seed-sample.csv"
	grep -q '^bootstrap: req-1: ok$' "$RT/log"
	! grep -q -e Gaurav -e Saurav "$RT/log"
}

@test "bootstrap: one bad record with ReportBatchItemFailures: what precedes it is written, the rest reported" {
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	runtime "$D/bad-record.json" "$D/bad-record.json"
	exp='{"batchItemFailures":[{"itemIdentifier":"5100000000093649951003"},{"itemIdentifier":"5100000000093649951004"}]}'
	[ "$(cat "$RT/req-1.response")" = "$exp" ]
	[ "$(cat "$RT/req-2.response")" = "$exp" ]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 1 ]
	s3_get "$B" "${lines[0]}" "$T/got"
	printf 'id,fname,lname,EventType,created_at\n11,Sita,Kandel,INSERT,1720629863.0\n12,Ram,Kandel,INSERT,1720629863.0\n' >"$T/exp"
	diff -u "$T/exp" "$T/got"
	grep -q 'eventID bad-3' "$RT/log"
	grep -q '^bootstrap: req-1: record 3 (SequenceNumber 5100000000093649951003) is bad' "$RT/log"
	! grep -q -e Sita -e Hari -e Gita "$RT/log"
}

@test "bootstrap: one bad record without ReportBatchItemFailures: invocation error, nothing written" {
	runtime "$D/bad-record.json"
	[ ! -f "$RT/req-1.response" ]
	[ "$(cat "$RT/req-1.error-type")" = DataError ]
	jq -e '.errorType == "DataError" and (.errorMessage | contains("eventID bad-3"))' "$RT/req-1.error"
	[ -z "$(s3_ls "$B" "$P/")" ]
}

@test "bootstrap: an upload failure is an invocation error (Lambda retries the batch)" {
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	export DDB_TO_S3_ENDPOINT_URL="http://127.0.0.1:$(closed_port)" DDB_TO_S3_MAX_ATTEMPTS=1
	runtime "$F/seed-sample.json"
	[ ! -f "$RT/req-1.response" ]
	[ "$(cat "$RT/req-1.error-type")" = UploadFailed ]
	jq -e '.errorType == "UploadFailed" and (.errorMessage | contains("upload failed for now"))' "$RT/req-1.error"
}

@test "bootstrap: no bucket configured is an init error" {
	unset DDB_TO_S3_BUCKET
	runtime "$F/seed-sample.json"
	jq -e '.errorType == "InitError"' "$RT/init.error"
}

@test "ddb-to-s3: -b s3://BUCKET/PREFIX is the bucket and {prefix}; a bad bucket name is refused before any stage" {
	run --separate-stderr ddb-to-s3 -b "s3://$B/$P/raw/" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$(s3_ls "$B" "$P/")" = "$P/raw/student/student_20240710T164423Z_5100000000093649950825.csv" ]
	run --separate-stderr ddb-to-s3 -D --bucket="s3://$B" "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *" -> s3://$B/$P/staging/student/student_"*".csv (dry run)" ]]
	# refused, every one before any stage: the spool is not touched
	spool_in "$F/seed-sample.json" a.json
	for b in "s3://$B/x" Lake ab a_b lake/raw -lake lake. la..ke 192.168.1.1 xn--lake lake-s3alias s3:///raw "$(printf 'a\tb')" "$(printf '%064d' 0)"; do
		if [ "$b" = "s3://$B/x" ]; then
			run --separate-stderr ddb-to-s3 -b "$b" -F y -q "$S"
			[ "$stderr" = "ddb-to-s3: the prefix is given twice: in the bucket's s3:// URI and by -F"$'\n'"${stderr#*$'\n'}" ]
		else
			run --separate-stderr ddb-to-s3 -b "$b" -q "$S"
			[[ "${stderr%%$'\n'*}" == "ddb-to-s3: bucket"*": "* ]]
		fi
		echo "$b: $status"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *$'\n'"usage: ddb-to-s3 "* ]]
	done
	run --separate-stderr ddb-to-s3 -b Lake_1 -q "$S"
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: bucket 'Lake_1': not a valid S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, a letter or digit at each end)" ]
	run --separate-stderr ddb-to-s3 -b lake/raw -q "$S"
	[ "${stderr%%$'\n'*}" = "ddb-to-s3: bucket 'lake/raw': a name or s3://bucket/prefix, not a path" ]
	[ "$(ls "$S/incoming")" = a.json ]
	[ -z "$(ls "$S/done" "$S/failed" 2>/dev/null)" ]
	[ "$(s3_ls "$B" "$P/")" = "$P/raw/student/student_20240710T164423Z_5100000000093649950825.csv" ]
}

@test "ddb-to-s3: -U: Lambda's, the Streams API's and a scan's created_at in one ISO 8601 UTC form" {
	sed 's/1720629863\.0/1796648160.000/; s/5100000000093649950825/5100000000093649950826/' "$F/seed-sample.json" >"$T/api.json"
	sed 's/1720629863\.0/1796648446/; s/5100000000093649950825/5100000000093649950827/' "$F/seed-sample.json" >"$T/scan.json"
	run --separate-stderr ddb-to-s3 -o "$T/plain" -F s "$F/seed-sample.json" "$T/api.json" "$T/scan.json"
	[ "$status" -eq 0 ]
	diff -u <(printf '%s\n' 1720629863.0 1720629863.0 1796648160.000 1796648160.000 1796648446 1796648446) \
		<(tail -n +2 "$T"/plain/s/student/*.csv | awk -F, '{ print $6 }')
	for opt in -U --utc-created-at; do
		run --separate-stderr ddb-to-s3 -o "$T/u$opt" -F s "$opt" "$F/seed-sample.json" "$T/api.json" "$T/scan.json"
		[ "$status" -eq 0 ]
		diff -u <(printf '%s\n' 2024-07-10T16:44:23Z 2024-07-10T16:44:23Z 2026-12-07T12:56:00Z 2026-12-07T12:56:00Z 2026-12-07T13:00:46Z 2026-12-07T13:00:46Z) \
			<(tail -n +2 "$T/u$opt"/s/student/*.csv | awk -F, '{ print $6 }')
	done
	DDB_TO_S3_UTC_CREATED_AT=1 run --separate-stderr ddb-to-s3 -o "$T/env" -F s "$T/scan.json"
	[ "$(tail -n 1 "$T"/env/s/student/*.csv)" = "Gaurav,334433223,Kandel,2,INSERT,2026-12-07T13:00:46Z" ]
	run --separate-stderr ddb-to-s3 -D --utc-created-at=yes "$T/scan.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: option --utc-created-at takes no argument"$'\n'"usage: "* ]]
}

@test "ddb-to-s3: -r/--region (DDB_TO_S3_REGION) is the region of s3-put, as every tool's -r" {
	mkdir -p "$T/bin"
	# the stages as they are, each logging its arguments first
	for s in s3-put; do
		printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s/%s.args"\n[ %s = ddb-stream ] && exit 0\nexec "%s" "$@"\n' \
			"$T" "$s" "$s" "$(command -v "$s")" >"$T/bin/$s"
		chmod +x "$T/bin/$s"
	done
	PATH="$T/bin:$PATH" run --separate-stderr ddb-to-s3 -r us-east-1 "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	grep -q -- '--region us-east-1 ' "$T/s3-put.args"
	# the store signs for us-east-1: another region is refused (4)
	PATH="$T/bin:$PATH" DDB_TO_S3_REGION=eu-west-1 run --separate-stderr ddb-to-s3 "$F/seed-sample.json"
	[ "$status" -eq 4 ]
	PATH="$T/bin:$PATH" run --separate-stderr ddb-to-s3 --region=eu-west-1 "$F/seed-sample.json"
	[ "$status" -eq 4 ]
	[ "$(grep -c -- '--region eu-west-1 ' "$T/s3-put.args")" -eq 2 ]
}

@test "ddb-to-s3: a batch across midnight with dt={date}: one object per table and day, each row in its own day; a redelivery replaces" {
	K='{prefix}/{table}/dt={date}/{table}_{timestamp}_{first_id}.csv'
	run --separate-stderr ddb-to-s3 -K "$K" "$D/midnight.json"
	[ "$status" -eq 0 ]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$P/staging/course/dt=2024-07-10/course_20240710T235959Z_5100000000093649950902.csv" ]
	[ "${lines[1]}" = "$P/staging/student/dt=2024-07-10/student_20240710T235958Z_5100000000093649950901.csv" ]
	[ "${lines[2]}" = "$P/staging/student/dt=2024-07-11/student_20240711T000001Z_5100000000093649950903.csv" ]
	same "${lines[1]}" <(printf '%s\n' id,fname,EventType,created_at 1,Ram,INSERT,1720655998.0 2,Sita,INSERT,1720655999.0)
	same "${lines[2]}" <(printf '%s\n' id,fname,EventType,created_at 1,Ram,REMOVE,1720656001.0 1,Hari,INSERT,1720656001.0 2,Sita,REMOVE,1720659600.0)
	# every row's created_at in its object's day
	for k in "${lines[@]}"; do
		s3_get "$B" "$k" "$T/o.csv"
		d=${k#*dt=}; d=${d%%/*}
		tail -n +2 "$T/o.csv" | while IFS=, read -r -a c; do
			[ "$(date -u -d "@${c[${#c[@]}-1]}" +%F)" = "$d" ]
		done
	done
	# Lambda's retry of the batch: the same keys and bodies, no object more
	cp "$T/o.csv" "$T/before.csv"
	run --separate-stderr ddb-to-s3 -K "$K" "$D/midnight.json"
	[ "$status" -eq 0 ]
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 3 ]
	same "${lines[2]}" "$T/before.csv"
	# {hour}: one object per hour
	run --separate-stderr ddb-to-s3 -D -K '{table}/{date}/{hour}.csv' "$D/midnight.json"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' (dry run)$' <<<"$stderr")" -eq 4 ]
	[[ "$stderr" == *"student: 1 record, 1 row, seq 5100000000093649950905..5100000000093649950905 -> s3://$B/student/2024-07-11/01.csv (dry run)"* ]]
	# without a time placeholder one object per table, as before
	run --separate-stderr ddb-to-s3 -D "$D/midnight.json"
	[ "$(grep -c ' (dry run)$' <<<"$stderr")" -eq 2 ]
}

@test "ddb-to-s3: a key template that gives two partitions of a table one key uploads nothing, exit 2" {
	# a record a day later, in the same hour of the day
	sed 's/1720659600\.0/1720742398.0/' "$D/midnight.json" >"$T/twodays.json"
	spool_in "$T/twodays.json" a.json
	run --separate-stderr ddb-to-s3 -K '{prefix}/{table}/{hour}.csv' -q "$S"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ddb-to-s3: student: the key template gives two of its partitions one key ($P/staging/student/23.csv): name the partition whole ({date}, {hour}) or add {first_id}; nothing uploaded"* ]]
	[ -z "$(s3_ls "$B" "$P/")" ]
	[ "$(ls "$S/incoming")" = a.json ]
}

@test "ddb-to-s3: --json: one JSON line per object stored on stdout, the log on stderr" {
	run --separate-stderr ddb-to-s3 --json -K '{prefix}/{table}/dt={date}/{table}_{first_id}.csv' "$D/midnight.json"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(grep -c ' -> s3://' <<<"$stderr")" -eq 3 ]
	[[ "$stderr" != *'{"table"'* ]]
	diff -u - <(printf '%s\n' "$output" | jq -c '[.table, .uri, .records, .rows, .first_seq, .last_seq, .partition]') <<-EOF2
	["student","s3://$B/$P/staging/student/dt=2024-07-10/student_5100000000093649950901.csv",2,2,"5100000000093649950901","5100000000093649950904","2024-07-10"]
	["course","s3://$B/$P/staging/course/dt=2024-07-10/course_5100000000093649950902.csv",1,1,"5100000000093649950902","5100000000093649950902","2024-07-10"]
	["student","s3://$B/$P/staging/student/dt=2024-07-11/student_5100000000093649950903.csv",2,3,"5100000000093649950903","5100000000093649950905","2024-07-11"]
	EOF2
	# bytes: the object's size in the store
	printf '%s\n' "$output" | while read -r l; do
		k=$(jq -r '.uri' <<<"$l"); k=${k#"s3://$B/"}
		[ "$(jq .bytes <<<"$l")" -eq "$(s3_head "$B" "$k" | jq .ContentLength)" ]
	done
	# strings are JSON-escaped: a quote, a backslash, control characters
	o="$T/o \"q\" \\ $(printf '\001\t')end"
	run --separate-stderr ddb-to-s3 --json -o "$o" -F s "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$(jq -r .uri <<<"$output")" = "$o/s/student/student_20240710T164423Z_5100000000093649950825.csv" ]
	[ "$(jq -c '[.partition, .records, .rows]' <<<"$output")" = '[null,1,2]' ]
	# records without a SequenceNumber: null
	run --separate-stderr ddb-to-s3 --json -D -n student --export-time=2024-07-10T16:44:23Z "$F/sources/export-full.json.gz"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.first_seq, .last_seq]' <<<"$output")" = '[null,null]' ]
	run --separate-stderr ddb-to-s3 --json=yes -D "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[ "$output" = "" ]
	[[ "$stderr" == "ddb-to-s3: option --json takes no argument"$'\n'"usage: "* ]]
}

# blocked_run NAME: ddb-to-s3 of the seed sample in its own session, its
# s3-put a shim that waits (the batch's files written by then); its
# process group's id in $T/NAME.pgid once the shim runs
blocked_run() {
	mkdir -p "$T/shim"
	printf '#!/bin/sh\ntouch "$0.$1.started"\nexec sleep 60\n' >"$T/shim/s3-put"
	chmod +x "$T/shim/s3-put"
	TMPDIR="$T/tmp" PATH="$T/shim:$PATH" setsid sh -c 'echo $$ >"$0"; exec ddb-to-s3 -b "$1" "$2"' \
		"$T/$1.pgid" "$B" "$F/seed-sample.json" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$T/$1.job"
	local i=0
	while ! ls "$T/shim/"s3-put.*.started >/dev/null 2>&1 && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -f "$T/shim/"s3-put.*.started
}

@test "ddb-to-s3: the work files a SIGKILLed run left in TMPDIR are removed by the next run, never those of a live run" {
	local dead live
	mkdir -p "$T/tmp"
	blocked_run live
	live=$(ls -d "$T/tmp"/ddb-to-s3.*)
	blocked_run dead
	dead=$(ls -d "$T/tmp"/ddb-to-s3.* | grep -vxF "$live")
	[ -n "$(find "$dead" -type f ! -name .pid)" ]
	kill -KILL -- -"$(cat "$T/dead.pgid")"
	wait "$(cat "$T/dead.job")" || :	# reaped, as cron would
	[ -d "$dead" ]
	run --separate-stderr env TMPDIR="$T/tmp" ddb-to-s3 -b "$B" -o "$T/out" "$F/seed-sample.json"
	kill -KILL -- -"$(cat "$T/live.pgid")"
	wait "$(cat "$T/live.job")" || :
	[ "$status" -eq 0 ]
	[[ "$stderr" == "ddb-to-s3: student: 1 record, 2 rows, "* ]]
	[ ! -e "$dead" ]
	[ -d "$live" ]
	[ "$(ls -d "$T/tmp"/ddb-to-s3.*)" = "$live" ]
}

@test "ddb-to-s3: --format jsonl: the CSV's cells by name, key .jsonl, read by DuckDB by name as the CSV by position" {
	run --separate-stderr ddb-to-s3 --format jsonl -F "$P/j" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	run --separate-stderr ddb-to-s3 -F "$P/c" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	k=$(s3_ls "$B" "$P/j/student/" | grep -v /_columns)
	[[ "$k" == $P/j/student/student_20240710T164501Z_5100000000093649950901.jsonl ]]
	[ "$(s3_head "$B" "$k" | jq -r .ContentType)" = application/x-ndjson ]
	s3_get "$B" "$k" "$T/s.jsonl"
	s3_get "$B" "$(s3_ls "$B" "$P/c/student/" | grep -v /_columns)" "$T/s.csv"
	cols=$(head -n 1 "$T/s.csv")
	decl= sel=
	for c in ${cols//,/ }; do decl="$decl, \"$c\": 'VARCHAR'"; sel="$sel, \"$c\""; done
	cd "$T"
	"$BATS_TEST_DIRNAME/lib/duckdb" "SELECT ${sel#, } FROM read_json('s.jsonl', columns = {${decl#, }})" >json.out
	"$BATS_TEST_DIRNAME/lib/duckdb" "SELECT ${sel#, } FROM read_csv('s.csv', header = true, auto_detect = false, columns = {${decl#, }})" >csv.out
	diff -u csv.out json.out
	[ "$(wc -l <json.out)" -eq 3 ]
	# bad values: exit 2, nothing uploaded
	run --separate-stderr ddb-to-s3 --format xml -F "$P/x" "$D/two-tables.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: --format: csv, jsonl or parquet, not 'xml'"$'\n'"usage: "* ]]
	DDB_TO_S3_FORMAT=jsonl run --separate-stderr ddb-to-s3 -K '{prefix}/{table}/{first_id}.csv' -F "$P/x" "$D/two-tables.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "ddb-to-s3: --format jsonl: the key template names a .csv object: {prefix}/{table}/{first_id}.csv"$'\n'"usage: "* ]]
	run --separate-stderr ddb-to-s3 --format -F "$P/x" "$D/two-tables.json"
	[ "$status" -eq 2 ]
	[ -z "$(s3_ls "$B" "$P/x/")" ]
}

@test "ddb-to-s3: a stage's message names the batch's input, the table and the record (or row) index, never a work file that is gone" {
	run --separate-stderr ddb-to-s3 -o "$T/out" -c id,fname,number,EventType,created_at -x fail "$F/seed-sample.json"
	[ "$status" -eq 1 ]
	[ "$stderr" = "csv-emit: $F/seed-sample.json, table student, row 1: attribute \"lname\" is not in --columns (see --extra)
csv-emit: 1 more row refused for attributes not in --columns
ddb-to-s3: student: bad data; nothing uploaded" ]
	run --separate-stderr ddb-to-s3 -o "$T/out" -l eventID -n student --export-time=2024-07-10T16:44:23Z - \
		<"$X/export-full.json.gz"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "ddb-expand: <stdin>, table student, record 1: missing eventID (asked for by -l)" ]
	[ "${stderr_lines[2]}" = "ddb-to-s3: student: bad data; nothing uploaded" ]
	[[ "$stderr" != *"/ddb-to-s3."* ]]
	[ ! -e "$T/out" ]
}

@test "ddb-to-s3 --ddl: Athena's CREATE EXTERNAL TABLE for the layout, golden; names escaped; bad values exit 2" {
	run --separate-stderr ddb-to-s3 --ddl -b lake -F staging -t student -c "id,fname,First-Name,it's,EventType,created_at"
	[ "$status" -eq 0 ]
	diff -u "$D/ddl-csv.sql" <(printf '%s\n' "$output")
	run --separate-stderr ddb-to-s3 --ddl -b s3://lake/raw -t student --format jsonl -U \
		-K '{prefix}/{table}/dt={date}/{hour}/{first_id}.jsonl' -c "id,First-Name,\"x'\\y\",EventType,created_at"
	[ "$status" -eq 0 ]
	diff -u "$D/ddl-jsonl.sql" <(printf '%s\n' "$output")
	run --separate-stderr ddb-to-s3 --ddl -b lake -F staging -t Student.v2 -z \
		-K '{prefix}/{table}/{year}/{month}/{day}/{table}_{first_id}.csv' -c id,EventType,created_at
	[ "$status" -eq 0 ]
	diff -u "$D/ddl-ymd.sql" <(printf '%s\n' "$output")
	# refused: never broken SQL
	for c in "-t student -c a,A" "-t student -c dt -K {table}/dt={date}/{first_id}.csv" \
		"-t student -c a -K {table}/{first_id}/x.csv" "-t student -c a -K x/{table}_{first_id}.csv" \
		"-c a" "-t a -t b -c a" "-t student -c a -K {table}/Dt={date}/{first_id}.csv"; do
		run --separate-stderr ddb-to-s3 --ddl -b lake $c
		echo "$c: $status $stderr"
		[ "$status" -eq 2 ]
		[ "$output" = "" ]
		[[ "$stderr" == "ddb-to-s3: --ddl"*$'\n'"usage: "* ]]
	done
	# no column list yet
	run --separate-stderr ddb-to-s3 --ddl -o "$T/none" -t student
	[ "$status" -eq 2 ]
	[ "$stderr" = "ddb-to-s3: student: no column list yet (no object written): give -c" ]
}

@test "ddb-to-s3 --ddl: DuckDB reads the objects through the DDL's column list, every value under its own name" {
	K='{prefix}/{table}/dt={date}/{table}_{first_id}.csv'
	# two batches, the second's attributes in another order and one more
	ddb-to-s3 -o "$T/lake" -F s -K "$K" "$D/midnight.json" 2>/dev/null
	ddb-to-s3 -o "$T/lake" -F s -K "$K" "$F/seed-sample.json" 2>/dev/null
	run --separate-stderr ddb-to-s3 --ddl -b lake -o "$T/lake" -F s -K "$K" -t student
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/ddl.sql"
	# the column block of the CREATE, in order
	cols=$(sed -n '/^CREATE/,/^)/s/^  `\([a-z0-9_]*\)` string.*/\1/p' "$T/ddl.sql" | paste -sd,)
	[ "$cols" = id,fname,eventtype,created_at,number,lname ]
	grep -q "^LOCATION 's3://lake/s/student/'$" "$T/ddl.sql"
	decl=
	for c in ${cols//,/ }; do decl="$decl, $c: 'VARCHAR'"; done
	cd "$T/lake"
	run "$BATS_TEST_DIRNAME/lib/duckdb" "SELECT dt, id, fname, lname, number, eventtype, created_at FROM read_csv('s/student/*/*.csv', header = true, auto_detect = false, null_padding = true, hive_partitioning = true, columns = {${decl#, }}) ORDER BY created_at, id, eventtype DESC"
	[ "$status" -eq 0 ]
	diff -u - <(printf '%s\n' "$output") <<-'EOF2'
	dt,id,fname,lname,number,eventtype,created_at
	2024-07-10,2,Saurav,Kandel,334433223,REMOVE,1720629863.0
	2024-07-10,2,Gaurav,Kandel,334433223,INSERT,1720629863.0
	2024-07-10,1,Ram,,,INSERT,1720655998.0
	2024-07-10,2,Sita,,,INSERT,1720655999.0
	2024-07-11,1,Ram,,,REMOVE,1720656001.0
	2024-07-11,1,Hari,,,INSERT,1720656001.0
	2024-07-11,2,Sita,,,REMOVE,1720659600.0
	EOF2
}

@test "ddb-to-s3 --format parquet: one Parquet object per table into the store, read back by aws, DuckDB and hyparquet as csv-emit's cells" {
	run --separate-stderr ddb-to-s3 --format parquet "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	key=$(s3_ls "$B" "$P/")
	[ "$key" = "$P/staging/student/student_20240710T164423Z_5100000000093649950825.parquet" ]
	[ "$stderr" = "ddb-to-s3: student: 1 record, 2 rows, seq 5100000000093649950825..5100000000093649950825 -> s3://$B/$key" ]
	[ "$(s3_head "$B" "$key" | jq -r .ContentType)" = application/vnd.apache.parquet ]
	s3_get "$B" "$key" "$T/got.parquet"
	# every column a STRING: one schema for every object of the table
	[ "$("$LIB/hyparquet" -m "$T/got.parquet" | jq -c '[.columns[] | .logical] | unique')" = '["STRING"]' ]
	# the same batch as CSV, nulls as \N: the cells both readers must give
	ddb-to-s3 -N '\N' -o "$T/csv" "$F/seed-sample.json" 2>/dev/null
	local want=$T/csv/$P/staging/student/student_20240710T164423Z_5100000000093649950825.csv
	"$LIB/hyparquet" "$T/got.parquet" '\N' | diff -u "$want" -
	duck_csv "$T/got.parquet" | diff -u "$want" -
	# the table's column list, as for CSV
	s3_get "$B" "$P/staging/student/_columns" "$T/cols"
	diff -u "$T/csv/$P/staging/student/_columns" "$T/cols"
	# a retried batch: the same key, the same bytes, no second object
	run --separate-stderr ddb-to-s3 --format parquet "$F/seed-sample.json"
	[ "$status" -eq 0 ]
	[ "$(s3_ls "$B" "$P/")" = "$key" ]
	s3_get "$B" "$key" "$T/again.parquet"
	cmp "$T/got.parquet" "$T/again.parquet"
}

@test "ddb-to-s3 --format parquet: every --parquet-compression, DDB_TO_S3_FORMAT, a two-table batch" {
	local z key
	for z in snappy gzip none; do
		run --separate-stderr ddb-to-s3 --format=parquet --parquet-compression "$z" \
			-F "$P/$z" "$F/seed-sample.json"
		[ "$status" -eq 0 ]
		key=$(s3_ls "$B" "$P/$z/")
		s3_get "$B" "$key" "$T/$z.parquet"
		[ "$("$LIB/hyparquet" -m "$T/$z.parquet" | jq -r '[.row_groups[].columns[].codec] | unique | join(" ")')" = \
			"$([ "$z" = none ] && echo UNCOMPRESSED || tr a-z A-Z <<<"$z")" ]
		ddb-to-s3 -N '\N' -o "$T/csv$z" -F "$P/$z" "$F/seed-sample.json" 2>/dev/null
		"$LIB/hyparquet" "$T/$z.parquet" '\N' | diff -u "$T/csv$z/${key%.parquet}.csv" -
	done
	DDB_TO_S3_FORMAT=parquet run --separate-stderr ddb-to-s3 -o "$T/two" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	[ "$(cd "$T/two" && find . -name '*.parquet' | wc -l)" -eq 2 ]
	local f
	for f in "$T"/two/*/*/*/*.parquet; do
		"$LIB/hyparquet" "$f" > /dev/null
	done
}

@test "ddb-to-s3 --format parquet: -z, -N, a bad format or codec are usage errors that upload nothing" {
	local bad
	for bad in "--format parquet -z" "--format parquet -N x" "--format xml" \
		"--format parquet --parquet-compression lz4" "--parquet-compression zstd"; do
		run --separate-stderr ddb-to-s3 $bad "$F/seed-sample.json"
		echo "$bad: $status $stderr"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"usage: ddb-to-s3 "* ]]
	done
	run --separate-stderr ddb-to-s3 --format parquet -z "$F/seed-sample.json"
	[ "${stderr_lines[0]}" = "ddb-to-s3: -z gzips CSV: a Parquet file compresses its own pages (--parquet-compression)" ]
	DDB_TO_S3_GZIP=1 run --separate-stderr ddb-to-s3 --format parquet "$F/seed-sample.json"
	[ "$status" -eq 2 ]
	[ -z "$(s3_ls_all "$B" "$P/")" ]
}

@test "ddb-to-s3 --format parquet --ddl: the table STORED AS PARQUET, every column a string" {
	run -0 --separate-stderr ddb-to-s3 --format parquet --ddl -t student -c id,fname -b lake
	[ "$output" = "CREATE EXTERNAL TABLE \`student\` (
  \`id\` string,
  \`fname\` string
)
STORED AS PARQUET
LOCATION 's3://lake/$P/staging/student/'
TBLPROPERTIES (
  'classification'='parquet'
);" ]
}

@test "ddb-to-s3 --format parquet --column-type: the declared types in the object and in --ddl, DDB_TO_S3_COLUMN_TYPES; a value the type cannot hold stores nothing" {
	run --separate-stderr ddb-to-s3 --format parquet --column-type 'credits=decimal(4,1)' -t course -o "$T/o" "$D/two-tables.json"
	[ "$status" -eq 0 ]
	local f
	f=$(cd "$T/o" && find . -name '*.parquet')
	run -0 "$LIB/duckdb" "SELECT code, typeof(credits), credits, typeof(title) FROM '$T/o/$f'"
	[ "$output" = 'code,typeof(credits),credits,typeof(title)
DE101,"DECIMAL(4,1)",4.0,VARCHAR' ]
	run -0 "$LIB/hyparquet" "$T/o/$f"
	[ "$output" = 'code,title,credits,EventType,created_at
DE101,"Data, engineering",4,INSERT,1720629902.0' ]
	# a batch of two tables, one of them refused: nothing of it stored
	DDB_TO_S3_COLUMN_TYPES='credits=double  title=double' run --separate-stderr ddb-to-s3 --format parquet -o "$T/e" "$D/two-tables.json"
	[ "$status" -eq 1 ]
	[ "$stderr" = "parquet-emit: $D/two-tables.json, table course, row 1: a value in column \"title\" that is not a number, which double needs (--column-type)
ddb-to-s3: course: bad data; nothing uploaded" ]
	[ ! -e "$T/e" ]
	run -0 --separate-stderr ddb-to-s3 --format parquet --ddl -t course -c code,credits,title \
		--column-type 'credits=decimal(4,1)' --column-type score=double -b lake
	[ "$output" = "CREATE EXTERNAL TABLE \`course\` (
  \`code\` string,
  \`credits\` decimal(4,1),
  \`title\` string
)
STORED AS PARQUET
LOCATION 's3://lake/$P/staging/course/'
TBLPROPERTIES (
  'classification'='parquet'
);" ]
	local bad
	for bad in "--column-type credits=double" "--format parquet --column-type credits" \
		"--format parquet --column-type credits=decimal(39,1)" "--format parquet --column-type credits=decimal(4,5)" \
		"--format parquet --column-type credits=int"; do
		run --separate-stderr ddb-to-s3 $bad "$D/two-tables.json"
		echo "$bad: $status $stderr"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"usage: ddb-to-s3 "* ]]
	done
	run --separate-stderr ddb-to-s3 --column-type credits=double "$D/two-tables.json"
	[ "${stderr_lines[0]}" = "ddb-to-s3: --column-type needs --format parquet (CSV and JSON lines cells are text)" ]
	run --separate-stderr ddb-to-s3 --format parquet --column-type 'credits=decimal(4,5)' "$D/two-tables.json"
	[ "${stderr_lines[0]}" = "ddb-to-s3: --column-type: double or decimal(P,S) with P 1 to 38 and S 0 to P, not 'decimal(4,5)'" ]
	[ -z "$(s3_ls_all "$B" "$P/")" ]
}
