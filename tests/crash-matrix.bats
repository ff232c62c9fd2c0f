#!/usr/bin/env bats
# crash-matrix.bats: the whole job killed with SIGKILL at every point where it
# writes or moves something (issue 9), in plain, spool and Lambda modes.
# After each kill, one more healthy run (plain and Lambda: the same batch
# again, as a retry; spool: the next cron run). Then every record of the batch
# is in exactly one object, byte for byte the object the pipeline makes
# offline; no object is truncated, none is extra, no multipart upload is left;
# and right after the kill every kept body is complete. Each test prints its
# rows (point, mode, outcome) and fails naming every point that failed.
#
# The kills: tests/lib/kill-at stands in for a tool (first on PATH) and kills
# the job's process group when that tool exits, or mid-run (fed half its
# input); tests/lib/stall-proxy holds one request (its body cut off, or the
# store's answer withheld) and the test kills the group once it is held.
#
# CRASH_POINTS="kept-write mpu-parts" runs only those points (all: every
# one; under valgrind the default is VALGRIND_POINTS below); CRASH_JOBS is
# how many rows run at a time (default 2).

bats_require_minimum_version 1.5.0
load lib/s3

LIB="$BATS_TEST_DIRNAME/lib"

setup_file() {
	B=$(s3_bucket crash)
	s3_mb "$B"
	W=$BATS_FILE_TMPDIR
	: >"$W/empty"
	"$LIB/crash-batch" small >"$W/small.json"
	"$LIB/crash-batch" big >"$W/big.json"
	# the objects the pipeline makes offline, under the prefix x
	for b in small big; do
		ddb-to-s3 --output-dir "$W/exp-$b" --prefix x \
			--lineage SequenceNumber "$W/$b.json" 2>"$W/exp-$b.log"
	done
	# kill-at under every name the job runs; also Lambda's task root
	mkdir -p "$W/root/bin"
	for t in ddb-flatten ddb-expand csv-emit s3-put ddb-to-s3 ln; do
		ln -s "$LIB/kill-at" "$W/root/bin/$t"
	done
	export B W
}

# nap: sleep 50 ms without starting a process (a read that times out)
nap() {
	[ -n "${NAP_FD:-}" ] || exec {NAP_FD}<> <(:)
	read -r -t 0.05 -u "$NAP_FD" _ || :
}

# job LOG TRIGGER LIMIT CMD...: run CMD as a job of its own (a new session,
# the whole job, KILL_AT_PGID its id) with the kill-at shims first on PATH.
# Once the file TRIGGER is not empty, SIGKILL every process of the session
# at once (lib/kill-session).
# After LIMIT seconds the session is killed anyway (JOB_TIMEOUT=1).
# JOB_STATUS: the job's exit status.
job() {
	local log=$1 trigger=$2 limit=$3 pid pg='' t0=$SECONDS
	shift 3
	JOB_TIMEOUT=0
	rm -f "$R/pgid"
	PATH="$W/root/bin:$PATH" setsid -w sh -c \
		'echo $$ >"$0"; KILL_AT_PGID=$$; export KILL_AT_PGID; exec "$@"' \
		"$R/pgid" "$@" <"$W/empty" >"$log" 2>&1 3>&- &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		[ -n "$pg" ] || pg=$(cat "$R/pgid" 2>/dev/null) || :
		if [ -n "$pg" ] && [ -n "$trigger" ] && [ -s "$trigger" ]; then
			"$LIB/kill-session" "$pg"
			break
		fi
		if [ $((SECONDS - t0)) -ge "$limit" ]; then
			JOB_TIMEOUT=1
			if [ -n "$pg" ]; then "$LIB/kill-session" "$pg"
			else kill -KILL "$pid" 2>/dev/null || :; fi
			break
		fi
		nap
	done
	JOB_STATUS=0
	wait "$pid" 2>/dev/null || JOB_STATUS=$?
}

# standin DIR: the Lambda Runtime API stand-in, serving $BATCH once
standin() {
	mkdir -p "$1"
	"$LIB/lambda-runtime-standin" "$1" "$BATCH" >/dev/null 2>&1 3>&- &
	echo $! >"$1/pid"
	for _ in $(seq 100); do
		[ -f "$1/address" ] && return 0
		nap
	done
	return 1
}

# launch ENDPOINT LOG TRIGGER LIMIT [VAR=VALUE...]: one run of the row's
# job in $MODE against ENDPOINT, with the variables set
launch() {
	local ep=$1 log=$2 trigger=$3 limit=$4 rt
	shift 4
	local opts=(--bucket "$B" --prefix "$PFX" --endpoint-url "$ep"
		--lineage SequenceNumber)
	[ -n "$KEEP" ] && opts+=(--keep-dir "$KEEP")
	[ -n "$ATTEMPTS" ] && opts+=(--max-attempts "$ATTEMPTS")
	case $MODE in
	plain)
		job "$log" "$trigger" "$limit" env "$@" ddb-to-s3 "${opts[@]}" "$BATCH"
		;;
	spool)
		job "$log" "$trigger" "$limit" env "$@" ddb-to-s3 "${opts[@]}" \
			--spool "$R/spool"
		;;
	lambda)
		rt=$log.rt
		RT=$rt
		standin "$rt"
		job "$log" "$trigger" "$limit" env "$@" \
			AWS_LAMBDA_RUNTIME_API="$(cat "$rt/address")" \
			LAMBDA_TASK_ROOT="$W/root" DDB_TO_S3_BUCKET="$B" \
			DDB_TO_S3_PREFIX="$PFX" DDB_TO_S3_ENDPOINT_URL="$ep" \
			DDB_TO_S3_LINEAGE=SequenceNumber \
			${KEEP:+DDB_TO_S3_KEEP_DIR="$KEEP"} \
			${ATTEMPTS:+DDB_TO_S3_MAX_ATTEMPTS="$ATTEMPTS"} \
			"$(command -v bootstrap)"
		kill "$(cat "$rt/pid")" 2>/dev/null || :
		;;
	esac
}

# fault ROW-TEXT: note a fault of the row
fault() {
	printf '%s\n' "$*" >>"$R/faults"
}

# row POINT: set the row up, kill the job at POINT, run it once more healthy,
# check what can be checked locally; matrix checks the stored objects
row() {
	POINT=$1
	T0=$SECONDS
	R="$W/$MODE/$POINT"
	PFX="cm/$MODE/$POINT"
	mkdir -p "$R/kill"
	: >"$R/faults"
	BATCH=$W/small.json
	KEEP= ATTEMPTS= KILL= HOLD= HOLD_WHAT=body FAULT= PRE= DESC=
	# 503 for the objects' PUTs only: the requests of a two-table batch
	# are the GET of each table's column list, then per table the PUT of
	# its list and of its object
	local OBJ503='pass*3,503,pass,503*'
	local feed=
	case $POINT in
	flatten-mid) KILL=ddb-flatten:1:input
		DESC="ddb-flatten mid-run (half its input read)" ;;
	flatten-exit) KILL=ddb-flatten:1:exit
		DESC="ddb-flatten done, before ddb-expand" ;;
	expand-mid) KILL=ddb-expand:1:input
		DESC="ddb-expand mid-run (first table)" ;;
	expand-exit) KILL=ddb-expand:2:exit
		DESC="ddb-expand done (last table)" ;;
	emit-mid) KILL=csv-emit:1:input
		DESC="csv-emit mid-run (first table)" ;;
	emit-exit) KILL=csv-emit:2:exit
		DESC="csv-emit done (last table), before any upload" ;;
	put-body) HOLD="^PUT /$B/$PFX/crash_a/"
		DESC="single PUT cut off in its body (first object)" ;;
	put-answer) HOLD="^PUT /$B/$PFX/crash_b/" HOLD_WHAT=answer
		DESC="single PUT stored, its answer lost (last object)" ;;
	put-exit-first) KILL=s3-put:1:exit
		DESC="first object stored, the second not" ;;
	put-exit-last) KILL=s3-put:2:exit
		DESC="every object stored, before the job notes it (done/, response)" ;;
	kept-write) KILL=s3-put:1:input FAULT=$OBJ503 KEEP=1 ATTEMPTS=1
		DESC="a kept body being written (s3-put reading its body)" ;;
	kept-exit) KILL=s3-put:1:exit FAULT=$OBJ503 KEEP=1 ATTEMPTS=1
		DESC="upload failed (503), body kept, before the job notes it" ;;
	kept-retry) PRE=$OBJ503 HOLD="^PUT /$B/$PFX/" KEEP=1
		DESC="retry of a kept body cut off in its body" ;;
	kept-retried) PRE=$OBJ503 HOLD="^PUT /$B/$PFX/" HOLD_WHAT=answer KEEP=1
		DESC="retry of a kept body stored, its answer lost" ;;
	move-done) KILL=ln:1:exit
		DESC="batch linked into done/, not yet unlinked from incoming/" ;;
	batch-exit) KILL=ddb-to-s3:1:exit
		DESC="ddb-to-s3 done, before bootstrap posts the response" ;;
	mpu-parts) BATCH=$W/big.json
		HOLD="^PUT /$B/$PFX/.*[?&]partNumber=2(&|$)"
		DESC="multipart: part 1 stored, part 2 cut off in its body" ;;
	mpu-complete) BATCH=$W/big.json
		HOLD="^POST /$B/$PFX/.*[?&]uploadId=" HOLD_WHAT=answer
		DESC="multipart: completed, the answer to Complete lost" ;;
	mpu-kept-write) BATCH=$W/big.json
		KILL=s3-put:1:error FAULT='pass*2,503*' KEEP=1 ATTEMPTS=1
		feed=$((8 * 1024 * 1024 + 512 * 1024))
		DESC="multipart failed (503), the rest of the body being kept" ;;
	*) echo "row: unknown point $POINT" >&2; return 1 ;;
	esac
	# kept bodies: where the row asks for them; in spool mode always
	if [ "$MODE" = spool ]; then
		KEEP=$R/spool/keep
	elif [ -n "$KEEP" ]; then
		KEEP=$R/keep
	fi
	EXP="$W/exp-$(basename "$BATCH" .json)/x"
	if [ "$MODE" = spool ]; then
		mkdir -p "$R/spool/incoming"
		cp "$BATCH" "$R/spool/incoming/batch.json"
	fi

	# an earlier failed run leaves kept bodies
	if [ -n "$PRE" ]; then
		fault_proxy_start "$PRE"
		launch "$FAULT_URL" "$R/pre.log" "" 300
		fault_proxy_stop
		[ "$JOB_STATUS" -eq 75 ] ||
			fault "setup: the failing run exited $JOB_STATUS, not 75"
	fi

	# the run that is killed
	local ep=$S3_ENDPOINT trigger='' env=()
	if [ -n "$FAULT" ]; then
		fault_proxy_start "$FAULT"
		ep=$FAULT_URL
	fi
	if [ -n "$HOLD" ]; then
		"$LIB/stall-proxy" -t 300 -w "$HOLD_WHAT" "$R/hold" "$S3_ENDPOINT" \
			"$HOLD" >/dev/null
		ep=$(cat "$R/hold/url")
		trigger=$R/hold/held
	fi
	[ -n "$KILL" ] && env+=(KILL_AT="$KILL" KILL_AT_DIR="$R/kill" KILL_AT_TIMEOUT=240)
	[ -n "$feed" ] && env+=(KILL_AT_FEED="$feed")
	launch "$ep" "$R/kill.log" "$trigger" 300 "${env[@]}"
	[ -n "$FAULT" ] && fault_proxy_stop
	[ -n "$HOLD" ] && kill "$(cat "$R/hold/pid")" 2>/dev/null
	if [ -n "$KILL" ]; then
		KILLED=$(cat "$R/kill/killed" 2>/dev/null) ||
			KILLED="$KILL: missed: the job exited $JOB_STATUS first"
	elif [ -s "$trigger" ]; then
		KILLED="held $(head -1 "$trigger" | cut -d' ' -f1) ($HOLD_WHAT), killed"
	else
		KILLED="$HOLD: missed: nothing held, the job exited $JOB_STATUS"
	fi
	[ "$JOB_TIMEOUT" -eq 0 ] || KILLED="$KILLED; TIMEOUT, killed after 300 s"
	case $KILLED in
	*missed*|*TIMEOUT*) fault "kill point not reached: $KILLED" ;;
	esac
	[ "$JOB_STATUS" -eq 137 ] || fault "the killed job exited $JOB_STATUS, not 137"
	printf '%s\n' "$KILLED" >"$R/killed"

	# right after the kill: every kept body complete; the batch not lost
	if [ -n "$KEEP" ] && [ -d "$KEEP" ]; then
		"$LIB/crash-check" kept "$KEEP" "$PFX" "$EXP" >"$R/kept" ||
			sed 's/^/after the kill: /' "$R/kept" >>"$R/faults"
	fi
	if [ "$MODE" = spool ] && [ ! -f "$R/spool/incoming/batch.json" ] &&
	    [ ! -f "$R/spool/done/batch.json" ]; then
		fault "after the kill: batch.json in neither incoming/ nor done/:" \
			"$(cd "$R/spool" && find . -name 'batch.json*' | tr '\n' ' ')"
	fi

	# one more healthy run
	launch "$S3_ENDPOINT" "$R/retry.log" "" 600
	RETRY="retry exit $JOB_STATUS"
	case $MODE in
	lambda)
		if [ "$(cat "$RT/req-1.response" 2>/dev/null)" = '{"batchItemFailures":[]}' ]; then
			RETRY="retry ok"
		else
			fault "retry: no good response ($(cat "$RT"/req-1.error 2>/dev/null | head -c 300))"
		fi
		;;
	*)
		[ "$JOB_STATUS" -eq 0 ] ||
			fault "retry exited $JOB_STATUS:" \
				"$(tail -2 "$R/retry.log" | tr '\n' ' ' | cut -c1-300)"
		;;
	esac
	if [ "$MODE" = spool ]; then
		local left
		left=$(cd "$R/spool" && { ls -A incoming failed | grep -v ':$' | grep .; } 2>/dev/null) || :
		[ -z "$left" ] || fault "retry: left in incoming/ or failed/: $left"
		[ "$(ls -A "$R/spool/done")" = batch.json ] ||
			fault "retry: done/ holds: $(ls -A "$R/spool/done" | tr '\n' ' ')"
		left=$(find "$KEEP" -name '*.uri' | wc -l)
		[ "$left" -eq 0 ] || fault "retry: $left kept bodies left in keep/"
	fi
	printf '%s\n' "$RETRY, $((SECONDS - T0)) s" >"$R/retry"
	printf '%s\n' "$DESC" >"$R/desc"
}

# under_valgrind: the tools on PATH are tests/valgrind's wrappers
under_valgrind() {
	grep -qa -e '--error-exitcode=99' "$(command -v s3-put)"
}
VALGRIND_POINTS="put-body kept-write mpu-parts kept-retry kept-retried
	mpu-kept-write move-done put-exit-first batch-exit"

# matrix MODE POINT...: run the rows, then check the stored objects of all of
# them at once, print the matrix to fd 3 and fail naming each failed point
matrix() {
	MODE=$1
	shift
	local p failed=0 out points=${CRASH_POINTS:-}
	# under valgrind (make valgrind) every tool start costs about a second:
	# the points whose tools run their recovery paths to the end, unless
	# CRASH_POINTS says which (CRASH_POINTS=all: every one)
	if [ -z "$points" ] && under_valgrind; then
		points=$VALGRIND_POINTS
		echo "# under valgrind: only the points" $VALGRIND_POINTS \
			"(CRASH_POINTS=all for every one)" >&3
	fi
	[ "$points" != all ] || points=
	# CRASH_POINTS="p1 p2": only these points (to debug one)
	if [ -n "$points" ]; then
		set -- $(printf '%s\n' "$@" | grep -Fx -f <(printf '%s\n' $points))
		[ $# -gt 0 ] || skip "none of the points $points in $MODE mode"
	fi
	# the rows are independent (a prefix, a directory, proxies of their
	# own): run CRASH_JOBS of them at a time (default 2)
	local running=0
	for p in "$@"; do
		(row "$p") 3>&- &
		running=$((running + 1))
		if [ "$running" -ge "${CRASH_JOBS:-2}" ]; then
			wait -n || :
			running=$((running - 1))
		fi
	done
	wait
	mkdir -p "$W/got/$MODE"
	s3_aws s3 sync --only-show-errors "s3://$B/cm/$MODE/" "$W/got/$MODE/"
	out=$(s3_aws s3api list-multipart-uploads --bucket "$B" \
		--prefix "cm/$MODE/" --output json)
	printf '%s' "$out" | jq -r '.Uploads[]?.Key' >"$W/$MODE.uploads"
	printf '# %-14s %-6s %s\n' point mode outcome >&3
	for p in "$@"; do
		R="$W/$MODE/$p"
		[ -f "$R/retry" ] || fault "the row stopped before its end (see $R)"
		grep "^cm/$MODE/$p/" "$W/$MODE.uploads" >"$R/uploads" || :
		case $p in mpu-*) EXP=$W/exp-big/x BATCH=$W/big.json ;;
		*) EXP=$W/exp-small/x BATCH=$W/small.json ;;
		esac
		"$LIB/crash-check" objects "$W/got/$MODE/$p" "$EXP" "$BATCH" \
			"$R/uploads" >"$R/objects" || cat "$R/objects" >>"$R/faults"
		if [ -s "$R/faults" ]; then
			failed=1
			printf '# %-14s %-6s FAIL %s: %s\n' "$p" "$MODE" \
				"$(cat "$R/desc")" \
				"$(paste -sd ';' "$R/faults" | sed 's/;/; /g')" >&3
			sed "s|^|$p ($MODE): |" "$R/faults" >&2
		else
			printf '# %-14s %-6s ok   %s: %s; %s; %s\n' "$p" "$MODE" \
				"$(cat "$R/desc")" "$(cat "$R/killed")" \
				"$(cat "$R/retry")" "$(cat "$R/objects")" >&3
		fi
	done
	return $failed
}

SMALL="flatten-mid flatten-exit expand-mid expand-exit emit-mid emit-exit
	put-body put-answer put-exit-first put-exit-last kept-write kept-exit"

@test "crash matrix: the offline objects are the stages' output, and pass the checks" {
	for t in crash_a crash_b; do
		ddb-flatten -t "$t" "$W/small.json" | ddb-expand -l SequenceNumber |
			csv-emit >"$BATS_TEST_TMPDIR/$t.csv"
		cmp "$BATS_TEST_TMPDIR/$t.csv" "$W"/exp-small/x/$t/*.csv
	done
	[ "$(cd "$W/exp-small/x" && find . -type f -name '*.csv' | wc -l)" -eq 2 ]
	[ "$(cd "$W/exp-big/x" && find . -type f -name '*.csv' | wc -l)" -eq 1 ]
	[ "$(stat -c %s "$W"/exp-big/x/crash_big/*.csv)" -gt $((10 * 1000 * 1000)) ]
	run "$LIB/crash-check" objects "$W/exp-small/x" "$W/exp-small/x" "$W/small.json"
	[ "$status" -eq 0 ]
	[ "$output" = "2 objects exact, 24 records each in one object" ]
	# and the checks catch what they are for
	mkdir -p "$BATS_TEST_TMPDIR/bad"
	cp -r "$W/exp-small/x/." "$BATS_TEST_TMPDIR/bad/"
	f=$(ls "$BATS_TEST_TMPDIR"/bad/crash_a/*.csv)
	head -c 3000 "$f" >"$BATS_TEST_TMPDIR/bad/crash_a/extra.csv"
	run "$LIB/crash-check" objects "$BATS_TEST_TMPDIR/bad" "$W/exp-small/x" "$W/small.json"
	[ "$status" -eq 1 ]
	[[ "$output" == "extra object crash_a/extra.csv"$'\n'*"record 510000000000000001000 is in 2 objects"* ]]
}

@test "crash matrix: plain mode (ddb-to-s3 --bucket BUCKET FILE, retried)" {
	matrix plain $SMALL mpu-parts mpu-complete
}

@test "crash matrix: spool mode (ddb-to-s3 --spool DIR, then the next cron run)" {
	matrix spool $SMALL kept-retry kept-retried move-done mpu-parts mpu-kept-write
}

@test "crash matrix: Lambda mode (bootstrap, then Lambda's retry of the batch)" {
	matrix lambda $SMALL batch-exit mpu-parts
}

# The sources' batch life cycle (common/statedir.c): ddb-stream and
# ddb-scan SIGKILLed while staging a batch, once it is staged, once the
# state names it, while the consumer (ddb-to-s3 -) reads it, once the
# consumer is done, and after the commit before the batch file is gone;
# then a healthy run. The points inside the source are its test hook
# DDB_TEST_KILL_AT; the consumer's are tests/lib/kill-at's.
SOURCE_POINTS="stage staged recorded consumer-mid consumer-exit commit"

# src_run SOURCE PREFIX LOG [VAR=VALUE...]: one run of SOURCE into PREFIX,
# its state in $R/st, as a job (JOB_STATUS)
src_run() {
	local src=$1 pfx=$2 log=$3
	shift 3
	local sink=(ddb-to-s3 --bucket "$B" --prefix "$pfx" --endpoint-url "$S3_ENDPOINT")
	local dl=() limit=120
	# a bisection runs the command many times
	! under_valgrind || limit=900
	# SRC_REFUSE: the batches holding that text are refused (bad data),
	# the bad records go to $R/dl
	if [ -n "${SRC_REFUSE:-}" ]; then
		sink=(sh "$W/refuse-sink" "$SRC_REFUSE" "${sink[@]}")
		dl=(--dead-letter "$R/dl")
	fi
	case $src in
	stream)
		job "$log" "" "$limit" env "$@" ddb-stream -u "$STREAMS_URL" --state "$R/st" \
			"${dl[@]}" student "${sink[@]}" --lineage SequenceNumber - ;;
	scan)
		job "$log" "" "$limit" env "$@" AWS_SHARED_CREDENTIALS_FILE="$W/ddb-credentials" \
			ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$SCAN_TABLE" --page-size 10 \
			--created-at 1720629900 --state "$R/st" "${dl[@]}" "${sink[@]}" - ;;
	esac
}

# scan_table VAR TAG: DynamoDB Local up, its key in $W/ddb-credentials
# (profile ddb), a new table keyed by the string id, its name in VAR
scan_table() {
	local t
	ddb_local_up
	printf '[ddb]\naws_access_key_id = %s\naws_secret_access_key = ddblocal\n' \
		"$DDB_ACCESS_KEY" >"$W/ddb-credentials"
	t=$(ddb_table "$2")
	printf -v "$1" '%s' "$t"
	ddb_aws dynamodb create-table --table-name "$t" \
		--attribute-definitions AttributeName=id,AttributeType=S \
		--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST >/dev/null
}

# src_setup: the sources' inputs: ddb-stream the small batch's 24 records in
# one shard of the stand-in, ddb-scan 25 items of DynamoDB Local (pages of
# 10); SCAN_TABLE
src_setup() {
	load lib/ddb
	jq -c '{streams: [{table: "student", shards: [{id: "shardId-00000000000000000001-aaaaaaaa",
		records: .Records}]}]}' "$W/small.json" >"$W/src-stream.json"
	# alive for all the rows (stopped by streams_stop): under valgrind
	# they take longer than its default lifetime
	STREAMS_LIFE=3600 streams_start "$W/src-stream.json"
	scan_table SCAN_TABLE crashscan
	for i in $(seq 25); do
		printf '{"PutRequest":{"Item":{"id":{"S":"k%02d"},"v":{"S":"row %d, \\"q\\"\\nx"}}}}\n' "$i" "$i"
	done | jq -s '{('"\"$SCAN_TABLE\""'): .}' >"$W/items.json"
	jq -c "{\"$SCAN_TABLE\": .\"$SCAN_TABLE\"[0:20]}" "$W/items.json" >"$W/items1.json"
	jq -c "{\"$SCAN_TABLE\": .\"$SCAN_TABLE\"[20:]}" "$W/items.json" >"$W/items2.json"
	ddb_aws dynamodb batch-write-item --request-items "file://$W/items1.json" >/dev/null
	ddb_aws dynamodb batch-write-item --request-items "file://$W/items2.json" >/dev/null
}

# src_row SOURCE POINT: kill SOURCE's job at POINT, run it again healthy;
# faults to $R/faults
src_row() {
	local src=$1 point=$2 env=()
	R="$W/src/$src/$point"
	mkdir -p "$R/kill"
	: >"$R/faults"
	case $point in
	consumer-mid) env=(KILL_AT=ddb-to-s3:1:input KILL_AT_DIR="$R/kill") ;;
	consumer-exit) env=(KILL_AT=ddb-to-s3:1:exit KILL_AT_DIR="$R/kill") ;;
	*) env=(DDB_TEST_KILL_AT="$point") ;;
	esac
	src_run "$src" "cm/$src/$point" "$R/kill.log" "${env[@]}"
	[ "$JOB_STATUS" -eq 137 ] || fault "the killed job exited $JOB_STATUS, not 137"
	case $point in
	consumer-*) grep -q missed "$R/kill/killed" 2>/dev/null &&
		fault "kill point not reached: $(cat "$R/kill/killed")" ;;
	esac
	case $point in
	recorded|consumer-*) grep -q '^batch ' "$R/st/state" ||
		fault "after the kill: no batch line in the state" ;;
	stage|staged) ! grep -q '^batch ' "$R/st/state" 2>/dev/null ||
		fault "after the kill: a batch line before the batch was staged" ;;
	esac
	src_run "$src" "cm/$src/$point" "$R/retry.log"
	[ "$JOB_STATUS" -eq 0 ] || fault "retry exited $JOB_STATUS: $(tail -2 "$R/retry.log" | tr '\n' ' ')"
	! grep -q '^batch ' "$R/st/state" || fault "retry: a batch left in the state"
	[ -z "$(ls -A "$R/st" | grep -v '^lock$\|^state$')" ] ||
		fault "retry: left in the state directory: $(ls -A "$R/st" | tr '\n' ' ')"
	if [ "$point" = commit ]; then
		grep -q 'handed on again' "$R/retry.log" &&
			fault "retry: a committed batch handed on again"
	elif [ "$point" != stage ] && [ "$point" != staged ]; then
		grep -q 'batch staged by an earlier run, not committed, handed on again' \
			"$R/retry.log" || fault "retry: the staged batch was not handed on first"
	fi
	return 0
}

@test "crash matrix: the sources' batch life cycle (ddb-stream, ddb-scan | ddb-to-s3 -): killed at each step, then run again: every record in exactly one object, byte for byte" {
	src_setup
	# the scan's objects from a run never killed
	R=$W/src/scan/whole
	mkdir -p "$R"
	src_run scan cm/scan/whole "$R/log"
	[ "$JOB_STATUS" -eq 0 ] || { cat "$R/log"; false; }
	s3_aws s3 sync --only-show-errors "s3://$B/cm/scan/whole/" "$W/got/scan-whole/"
	[ "$(find "$W/got/scan-whole" -type f ! -name '_*' | wc -l)" -eq 3 ]

	local src p failed=0
	for src in stream scan; do
		for p in $SOURCE_POINTS; do
			src_row "$src" "$p" 2>/dev/null
		done
	done
	streams_stop
	s3_aws s3 sync --only-show-errors "s3://$B/cm/" "$W/got/src/"
	out=$(s3_aws s3api list-multipart-uploads --bucket "$B" --prefix cm/ --output json)
	for src in stream scan; do
		for p in $SOURCE_POINTS; do
			R=$W/src/$src/$p
			if [ "$src" = stream ]; then
				"$LIB/crash-check" objects "$W/got/src/$src/$p" "$W/exp-small/x" \
					"$W/small.json" >"$R/objects" || cat "$R/objects" >>"$R/faults"
			elif diff -r "$W/got/scan-whole" "$W/got/src/$src/$p" >"$R/objects"; then
				echo "3 objects exact, the same as a run never killed" >"$R/objects"
			else
				cat "$R/objects" >>"$R/faults"
			fi
			printf '%s' "$out" | jq -r '.Uploads[]?.Key' | grep "^cm/$src/$p/" |
				sed 's/^/orphan multipart upload of /' >>"$R/faults" || :
			if [ -s "$R/faults" ]; then
				failed=1
				printf '# %-14s %-6s FAIL %s\n' "$p" "$src" \
					"$(paste -sd ';' "$R/faults" | sed 's/;/; /g')" >&3
			else
				printf '# %-14s %-6s ok   %s\n' "$p" "$src" "$(cat "$R/objects")" >&3
			fi
		done
	done
	[ "$failed" -eq 0 ]
}

# Big batches: the sources' life cycle with batches of 1,000 and of 100,000
# records, into `ddb-to-s3 --output-dir` (the object store is not what is
# tested here); killed at each step (while staging a batch of several
# pages: half-way through it, DDB_TEST_KILL_AT=stage:N), then run again:
# the objects are byte for byte a run never killed. ddb-stream reads one shard of the Streams
# stand-in (its records made from one template: 2,500 and 150,000 of them,
# so the kill falls in the first of two or three batches); ddb-scan a table
# of DynamoDB Local of 100,500 items (pages of 10,000: a batch of ten
# pages, then one of 500), loaded once for every row (a scan does not
# change it). Once a batch is recorded, its file cut off and then altered
# is refused (exit 3, a line naming the file), nothing handed on. Under
# valgrind only ddb-stream's 1,000 column runs (BIG_SIZES="1000 100000"
# for both of its columns; ddb-scan's column is 100,000 only).

# big_run SOURCE SIZE OUT LOG [VAR=VALUE...]: one run, its state in $R/st
big_run() {
	local src=$1 size=$2 out=$3 log=$4
	shift 4
	case $src in
	stream)
		job "$log" "" 300 env "$@" ddb-stream --shard-rate 1000 --batch-size "$size" \
			-u "$STREAMS_URL" --state "$R/st" student \
			ddb-to-s3 --output-dir "$out" --prefix x --lineage SequenceNumber - ;;
	scan)
		job "$log" "" 300 env "$@" AWS_SHARED_CREDENTIALS_FILE="$W/ddb-credentials" \
			ddb-scan -p ddb -u "$DDB_ENDPOINT" -t "$BIG_TABLE" --page-size 10000 \
			--batch-size "$size" --created-at 1720629900 --state "$R/st" \
			ddb-to-s3 --output-dir "$out" --prefix x --lineage SequenceNumber - ;;
	esac
}

# big_refused SOURCE SIZE: $R/st holds the first batch, recorded: a copy
# of it with the batch's file cut off, then one with a byte altered, is
# refused: exit 3, a line naming the file and what differs, nothing handed
# on, the state as it was; faults to $R/faults
big_refused() {
	local src=$1 size=$2 f bytes mid again
	again="ddb-$src: batch staged by an earlier run, not committed, handed on again: "
	case $src in
	stream) again+=$(printf '%d records: shardId-00000000000000000001-aaaaaaaa %021d..%021d (%d)' \
		"$size" 1 "$size" "$size") ;;
	scan) again+="segment 0 page 1: $size items" ;;
	esac
	f=$(cd "$R/st" && ls batch.*)
	bytes=$(stat -c %s "$R/st/$f")
	mid=$((bytes / 2))
	rm -rf "$R/bad"
	mkdir "$R/bad"
	cp -r "$R/st" "$R/bad/st"
	head -c "$mid" "$R/st/$f" >"$R/bad/st/$f"
	R=$R/bad big_run "$src" "$size" "$R/bad/out" "$R/cut.log"
	printf '%s\nddb-%s: %s: %d bytes, the state names %d (cut off or altered); not handed on\n' \
		"$again" "$src" "$R/bad/st/$f" "$mid" "$bytes" >"$R/cut.exp"
	[ "$JOB_STATUS" -eq 3 ] && cmp -s "$R/cut.exp" "$R/cut.log" ||
		echo "cut off: exit $JOB_STATUS, said: $(head -c 300 "$R/cut.log")" >>"$R/faults"
	{ head -c "$mid" "$R/st/$f"; printf '#'; tail -c +$((mid + 2)) "$R/st/$f"; } >"$R/bad/st/$f"
	R=$R/bad big_run "$src" "$size" "$R/bad/out" "$R/altered.log"
	printf '%s\nddb-%s: %s: its SHA-256 is not the one the state names (altered); not handed on\n' \
		"$again" "$src" "$R/bad/st/$f" >"$R/altered.exp"
	[ "$JOB_STATUS" -eq 3 ] && cmp -s "$R/altered.exp" "$R/altered.log" ||
		echo "altered: exit $JOB_STATUS, said: $(head -c 300 "$R/altered.log")" >>"$R/faults"
	[ ! -e "$R/bad/out" ] || echo "a cut off or altered batch was handed on" >>"$R/faults"
	cmp -s "$R/st/state" "$R/bad/st/state" ||
		echo "a refused batch changed the state" >>"$R/faults"
	rm -rf "$R/bad"
}

# big_rows SOURCE SIZE STAGE: a run never killed, then a row per point:
# killed there (while staging: at STAGE, stage or stage:N), run again;
# prints the rows to fd 3, returns 1 if one failed
big_rows() {
	local src=$1 size=$2 stage=$3 p env failed=0 whole
	whole=$W/big/$src/$size/whole
	R=$whole
	mkdir -p "$R"
	big_run "$src" "$size" "$R/out" "$R/log"
	[ "$JOB_STATUS" -eq 0 ] || { cat "$R/log"; return 1; }
	for p in $SOURCE_POINTS; do
		R=$W/big/$src/$size/$p
		mkdir -p "$R/kill"
		: >"$R/faults"
		case $p in
		stage) env=(DDB_TEST_KILL_AT="$stage") ;;
		consumer-mid) env=(KILL_AT=ddb-to-s3:1:input KILL_AT_DIR="$R/kill") ;;
		consumer-exit) env=(KILL_AT=ddb-to-s3:1:exit KILL_AT_DIR="$R/kill") ;;
		*) env=(DDB_TEST_KILL_AT="$p") ;;
		esac
		big_run "$src" "$size" "$R/out" "$R/kill.log" "${env[@]}"
		[ "$JOB_STATUS" -eq 137 ] || echo "the killed job exited $JOB_STATUS, not 137" >>"$R/faults"
		[ "$p" != recorded ] || big_refused "$src" "$size"
		big_run "$src" "$size" "$R/out" "$R/retry.log"
		[ "$JOB_STATUS" -eq 0 ] ||
			echo "retry exited $JOB_STATUS: $(tail -2 "$R/retry.log" | tr '\n' ' ')" >>"$R/faults"
		[ -z "$(ls -A "$R/st" | grep -v '^lock$\|^state$')" ] ||
			echo "retry: left in the state directory: $(ls -A "$R/st" | tr '\n' ' ')" >>"$R/faults"
		case $p in
		recorded|consumer-*) grep -q 'batch staged by an earlier run, not committed, handed on again' \
			"$R/retry.log" || echo "retry: the staged batch was not handed on first" >>"$R/faults" ;;
		esac
		diff -r "$whole/out" "$R/out" >>"$R/faults" 2>&1 || :
		if [ -s "$R/faults" ]; then
			failed=1
			printf '# %-14s %-6s %6s FAIL %s\n' "$p" "$src" "$size" \
				"$(head -c 300 "$R/faults" | paste -sd ';' | sed 's/;/; /g')" >&3
		else
			printf '# %-14s %-6s %6s ok   %d objects exact\n' "$p" "$src" "$size" \
				"$(find "$R/out" -type f ! -name '_*' | wc -l)" >&3
		fi
	done
	return $failed
}

@test "crash matrix: ddb-stream with batches of 1,000 and 100,000 records, killed at each step, then run again: the objects of a run never killed, byte for byte" {
	load lib/ddb
	local size n stage failed=0 sizes=${BIG_SIZES:-}
	if [ -z "$sizes" ]; then
		sizes="1000 100000"
		! under_valgrind || sizes=1000
	fi
	for size in $sizes; do
		n=$((size == 1000 ? 2500 : 150000))
		printf '{"streams": [{"table": "student", "shards": [{"id": "shardId-00000000000000000001-aaaaaaaa", "bench": {"count": %d, "pad": 20}}]}]}\n' \
			"$n" >"$W/big-$size.json"
		STREAMS_LIFE=1800 streams_start "$W/big-$size.json"
		# a batch of 1,000 is one page of the stand-in's
		stage=stage
		[ "$size" -eq 1000 ] || stage=stage:$((size / 2))
		big_rows stream "$size" "$stage" || failed=1
		[ "$(find "$W/big/stream/$size/whole/out" -type f ! -name '_*' | wc -l)" -eq $(((n + size - 1) / size)) ]
		streams_stop
	done
	[ "$failed" -eq 0 ]
}

@test "crash matrix: ddb-scan with batches of 100,000 items (DynamoDB Local), killed at each step, then run again: the objects of a run never killed, byte for byte" {
	# about 2 minutes of CPU under valgrind: its ddb-stream rows (the
	# same life cycle, common/statedir.c) stand for it there
	! under_valgrind || skip "under valgrind (the ddb-stream rows above run there)"
	load lib/ddb
	scan_table BIG_TABLE scan100k
	local t0=$SECONDS
	ddb_fill "$BIG_TABLE" 100500
	echo "# 100,500 items loaded in $((SECONDS - t0)) s" >&3
	big_rows scan 100000 stage:50000
	# a batch of 100,000 items, then the 500 left: two objects
	grep -qx 'ddb-scan: batch: segment 0 page 1: 100000 items' "$W/big/scan/100000/whole/log"
	grep -qx 'ddb-scan: batch: segment 0 page 2: 500 items' "$W/big/scan/100000/whole/log"
	[ "$(find "$W/big/scan/100000/whole/out" -type f ! -name '_*' | wc -l)" -eq 2 ]
}

# The bisection of a batch the consumer refuses (exit 1), in both sources:
# killed once the state records a split (split), while a half's consumer
# reads it (half-mid: the second range ddb-to-s3 gets), after a range was
# taken before the state says so (taken), and after a bad record was
# dead-lettered before the state says so (dead); then a healthy run. The
# objects and dead letters must be those of a run never killed, byte for
# byte: no record twice, no half handed on again as a whole.
BISECT_POINTS="split half-mid taken dead"

# bisect_row SOURCE POINT
bisect_row() {
	local src=$1 point=$2 env=()
	R="$W/src/$src/$point"
	mkdir -p "$R/kill"
	: >"$R/faults"
	case $point in
	half-mid) env=(KILL_AT=ddb-to-s3:2:input KILL_AT_DIR="$R/kill") ;;
	*) env=(DDB_TEST_KILL_AT="$point") ;;
	esac
	src_run "$src" "cb/$src/$point" "$R/kill.log" "${env[@]}"
	[ "$JOB_STATUS" -eq 137 ] || fault "the killed job exited $JOB_STATUS, not 137"
	[ "$point" != half-mid ] || ! grep -q missed "$R/kill/killed" 2>/dev/null ||
		fault "kill point not reached: $(cat "$R/kill/killed")"
	grep -q '^todo ' "$R/st/state" || fault "after the kill: no todo line in the state"
	src_run "$src" "cb/$src/$point" "$R/retry.log"
	[ "$JOB_STATUS" -eq 0 ] || fault "retry exited $JOB_STATUS: $(tail -2 "$R/retry.log" | tr '\n' ' ')"
	grep -q 'handed on again: .*; bisected: records ' "$R/retry.log" ||
		fault "retry: the bisection did not go on where it was"
	! grep -q '^batch \|^todo ' "$R/st/state" || fault "retry: a batch left in the state"
	[ -z "$(ls -A "$R/st" | grep -v '^lock$\|^state$')" ] ||
		fault "retry: left in the state directory: $(ls -A "$R/st" | tr '\n' ' ')"
	return 0
}

@test "crash matrix: a refused batch's bisection (ddb-stream, ddb-scan | ddb-to-s3 -, --dead-letter): killed at each step, then run again: the objects and dead letters of a run never killed, byte for byte" {
	src_setup
	printf '%s\n' 'm=$1; shift; f=$(mktemp "${0%/*}/rs.XXXXXX") || exit 75; cat >"$f"' \
		'if grep -q -F -- "$m" "$f"; then rm -f "$f"; echo "refuse-sink: a record refused" >&2; exit 1; fi' \
		'"$@" <"$f"; s=$?; rm -f "$f"; exit $s' >"$W/refuse-sink"
	local src p failed=0 m
	for src in stream scan; do
		case $src in
		stream) m=\"$(jq -r '.Records[9].dynamodb.SequenceNumber' "$W/small.json")\" ;;
		scan) m='"k07"' ;;
		esac
		# a run never killed
		R=$W/src/$src/bisect-whole
		mkdir -p "$R"
		SRC_REFUSE=$m src_run "$src" cb/$src/whole "$R/log"
		[ "$JOB_STATUS" -eq 0 ] || { cat "$R/log"; false; }
		grep -q 'bisected into' "$R/log"
		[ "$(ls "$R/dl" | wc -l)" -eq 1 ]
		for p in $BISECT_POINTS; do
			SRC_REFUSE=$m bisect_row "$src" "$p" 2>/dev/null
		done
	done
	# killed after a bad record was dead-lettered (halves stored before
	# it), then run again with the command fixed (it refuses nothing): the
	# bisection goes on with the ranges left, never the whole page again
	# (its first half's key, the second half's records then in two
	# objects): every item in exactly one object
	R=$W/src/scan/fixed
	mkdir -p "$R"
	SRC_REFUSE='"k07"' src_run scan cb/scan/fixed "$R/kill.log" DDB_TEST_KILL_AT=dead
	[ "$JOB_STATUS" -eq 137 ]
	grep -q '^todo ' "$R/st/state"
	src_run scan cb/scan/fixed "$R/retry.log"
	[ "$JOB_STATUS" -eq 0 ] || { cat "$R/retry.log"; false; }
	streams_stop
	s3_aws s3 sync --only-show-errors "s3://$B/cb/" "$W/got/cb/"
	find "$W/got/cb/scan/fixed" -type f ! -name '_*' -exec cat {} + |
		grep -o '"*k[0-9][0-9]"*' | tr -d '"' | sort | uniq -c |
		awk '$1 != 1 { print "item " $2 " in " $1 " objects" } END { if (NR != 25) print NR " items, not 25" }' >"$W/fixed.faults"
	if [ -s "$W/fixed.faults" ]; then
		failed=1
		printf '# %-14s %-6s FAIL %s\n' fixed scan "$(paste -sd ';' "$W/fixed.faults")" >&3
	else
		printf '# %-14s %-6s ok   %s\n' fixed scan "25 items, each in exactly one object" >&3
	fi
	out=$(s3_aws s3api list-multipart-uploads --bucket "$B" --prefix cb/ --output json)
	for src in stream scan; do
		[ "$(find "$W/got/cb/$src/whole" -type f ! -name '_*' | wc -l)" -ge 3 ]
		for p in $BISECT_POINTS; do
			R=$W/src/$src/$p
			if diff -r "$W/got/cb/$src/whole" "$W/got/cb/$src/$p" >"$R/objects" &&
				diff -r "$W/src/$src/bisect-whole/dl" "$R/dl" >>"$R/objects"; then
				echo "$(find "$W/got/cb/$src/$p" -type f ! -name '_*' | wc -l) objects and 1 dead letter exact, as a run never killed" >"$R/objects"
			else
				cat "$R/objects" >>"$R/faults"
			fi
			printf '%s' "$out" | jq -r '.Uploads[]?.Key' | grep "^cb/$src/$p/" |
				sed 's/^/orphan multipart upload of /' >>"$R/faults" || :
			if [ -s "$R/faults" ]; then
				failed=1
				printf '# %-14s %-6s FAIL %s\n' "$p" "$src" \
					"$(paste -sd ';' "$R/faults" | sed 's/;/; /g')" >&3
			else
				printf '# %-14s %-6s ok   %s\n' "$p" "$src" "$(cat "$R/objects")" >&3
			fi
		done
	done
	[ "$failed" -eq 0 ]
}
