#!/usr/bin/env bats
# bootstrap, the Lambda custom runtime: its posts to the Runtime API
# (tests/lib/lambda-runtime-standin, which checks every body as JSON), under
# each awk, and Lambda's retries (whole, bisected) against the real store.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/lambda

F="$BATS_TEST_DIRNAME/fixtures"
D="$F/ddb-to-s3"
BF="$F/bootstrap"

setup_file() {
	s3_setup_file boot
}

setup() {
	s3_setup_test staging DDB_TO_S3_LINEAGE \
		DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES DDB_TO_S3_MAX_ATTEMPTS \
		LAMBDA_TASK_ROOT
	RT=
	RTN=0
	FAULT_DIR=
}

teardown() {
	local f
	for f in "$T"/rt*/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -n "$FAULT_DIR" ] && fault_proxy_stop
	return 0
}

# runtime [-r CODE] [-e CODE] EVENT...: bootstrap against a new stand-in
# (its options -r, -e) serving the events; the stand-in's files and
# bootstrap's stderr (log) in $RT, a new $T/rtN each time
runtime() {
	RTN=$((RTN + 1))
	RT="$T/rt$RTN"
	runtime_standin "$RT" "$@"
	AWS_LAMBDA_RUNTIME_API=$(cat "$RT/address") timeout 120 bootstrap \
		2>"$RT/log" || :
}

# task_root NAME AWK: a task root whose bin/awk is AWK (bootstrap puts
# $LAMBDA_TASK_ROOT/bin first in PATH, as lambda-zip's bundled mawk is)
task_root() {
	LAMBDA_TASK_ROOT="$T/task-$1"
	mkdir -p "$LAMBDA_TASK_ROOT/bin"
	ln -sf "$2" "$LAMBDA_TASK_ROOT/bin/awk"
	export LAMBDA_TASK_ROOT
}

# no body posted to the stand-in of $RT was invalid JSON
all_valid() {
	if [ -e "$RT/invalid" ]; then
		cat "$RT/invalid"
		return 1
	fi
}

# an eventID e\q (ddb-flatten prints it JSON-escaped: more backslashes)
# and messages with tabs, quotes, backslashes, control characters, UTF-8
# and bytes that are no UTF-8 (from a stand-in ddb-to-s3), under awk $1
check_escaping() {
	local awk
	# scripts/deps unpacks gawk and the one true awk into build-deps/awks
	awk=$(PATH="$BATS_TEST_DIRNAME/../build-deps/awks/bin:$PATH" command -v "$1")
	task_root "$1" "$awk"
	sed 's/"bad-3"/"e\\\\q"/' "$D/bad-record.json" >"$T/eq.json"
	grep -q '"eventID":"e\\\\q"' "$T/eq.json"
	runtime "$T/eq.json"
	all_valid
	[ "$(cat "$RT/req-1.error-type")" = DataError ]
	jq -e '.errorType == "DataError"' "$RT/req-1.error"
	# the message is ddb-to-s3's lines, exactly
	jq -j .errorMessage "$RT/req-1.error" >"$T/got"
	grep -v '^bootstrap: ' "$RT/log" | tail -n 20 >"$T/exp"
	printf '\n' >>"$T/got"
	diff -u "$T/exp" "$T/got"
	grep -qF 'eventID e\\q' "$T/got"

	cat >"$LAMBDA_TASK_ROOT/ddb-to-s3" <<-'EOF'
	#!/bin/sh
	printf 'ddb-to-s3: tab\there "quoted" back\\slash e\\q \\\\"\n' >&2
	printf 'ctl \001\r\177 utf8 \303\251\342\202\254\360\237\230\200 bad \377\300\200\355\240\200\303 nul \000 end' >&2
	exit 75
	EOF
	chmod +x "$LAMBDA_TASK_ROOT/ddb-to-s3"
	runtime "$F/seed-sample.json"
	all_valid
	[ "$(cat "$RT/req-1.error-type")" = UploadFailed ]
	cmp "$BF/hostile.error.json" "$RT/req-1.error"
	grep -qx 'bootstrap: req-1: UploadFailed (ddb-to-s3 exit 75), invocation error' "$RT/log"
}

@test "bootstrap: error bodies are valid JSON under mawk (what lambda-zip bundles)" {
	check_escaping mawk
}

@test "bootstrap: error bodies are valid JSON under gawk" {
	check_escaping gawk
}

@test "bootstrap: error bodies are valid JSON under the one true awk" {
	check_escaping original-awk
}

@test "lambda-runtime-standin: records a body that is no JSON, no UTF-8, NaN, or no error object" {
	RT="$T/rt1"
	runtime_standin "$RT" "$F/seed-sample.json"
	u="http://$(cat "$RT/address")/2018-06-01/runtime"
	curl -sS -o /dev/null "$u/invocation/next"
	printf '{"errorType":"X","errorMessage":"a\\z"}' >"$T/1"
	printf '{"errorType":"X","errorMessage":"\377"}' >"$T/2"
	printf '[NaN]' >"$T/3"
	printf '{"errorMessage":"m"}' >"$T/4"
	printf '{"batchItemFailures":[]}' >"$T/5"
	for i in 1 2 3 4; do
		curl -sS -o /dev/null --data-binary "@$T/$i" "$u/invocation/req-$i/error"
	done
	curl -sS -o /dev/null --data-binary "@$T/5" "$u/invocation/req-5/response"
	curl -sS -o /dev/null "$u/invocation/next" || :
	run cut -d: -f1 "$RT/invalid"
	[ "$output" = "$(printf 'req-1.error\nreq-2.error\nreq-3.error\nreq-4.error')" ]
	[ "$(cat "$RT/posts")" = "$(printf 'req-%d.error 202\n' 1 2 3 4; echo 'req-5.response 202')" ]
}

@test "bootstrap: a 413 on /response is logged as such, never ok, and becomes an invocation error" {
	runtime -r 413 "$F/seed-sample.json"
	all_valid
	grep -qx 'bootstrap: req-1: POST invocation/req-1/response: HTTP 413 (RequestEntityTooLarge), not accepted' "$RT/log"
	grep -qx 'bootstrap: req-1: response not accepted, reporting an invocation error' "$RT/log"
	! grep -q 'ok$' "$RT/log"
	[ "$(cat "$RT/posts")" = "$(printf 'req-1.response 413\nreq-1.error 202')" ]
	[ "$(cat "$RT/req-1.error-type")" = ResponseNotAccepted ]
	jq -e '.errorMessage | endswith("the runtime API did not accept the response (HTTP 413 RequestEntityTooLarge)")' "$RT/req-1.error"
}

@test "bootstrap: a failed /error post is logged" {
	runtime -e 500 "$D/bad-record.json"
	all_valid
	grep -qx 'bootstrap: req-1: DataError (ddb-to-s3 exit 1), invocation error' "$RT/log"
	grep -qx 'bootstrap: req-1: POST invocation/req-1/error: HTTP 500 (ServiceException), not accepted' "$RT/log"
	grep -qx 'bootstrap: req-1: could not post the result' "$RT/log"
	[ "$(cat "$RT/posts")" = 'req-1.error 500' ]
}

@test "bootstrap: bad data for which ddb-flatten names no record blames no record (no partial batchItemFailures)" {
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	LAMBDA_TASK_ROOT="$T/task"
	mkdir -p "$LAMBDA_TASK_ROOT"
	export LAMBDA_TASK_ROOT
	# fails the whole event as bad data (as a later stage would), and
	# writes an empty --refused report; a run with --head would pass
	cat >"$LAMBDA_TASK_ROOT/ddb-to-s3" <<-'EOF'
	#!/bin/sh
	case " $* " in *" --head "*) exit 0 ;; esac
	[ "$1" = --refused ] && : >"$2"
	echo "ddb-to-s3: stand-in: bad data" >&2
	exit 1
	EOF
	chmod +x "$LAMBDA_TASK_ROOT/ddb-to-s3"
	runtime "$D/bad-record.json"
	all_valid
	[ ! -e "$RT/req-1.response" ]
	[ "$(cat "$RT/req-1.error-type")" = DataError ]
	grep -qx 'bootstrap: req-1: no record named as bad (the bad data is not one ddb-flatten refuses), invocation error' "$RT/log"
	[ "$(cat "$RT/posts")" = 'req-1.error 202' ]
}

@test "bootstrap: its own log lines hold no item data, on every path" {
	sed 's/"age":{"Q":"5"}/"ssn":{"N":"123-45-6789"}/' "$D/bad-record.json" >"$T/ssn.json"
	runtime "$T/ssn.json"
	runtime -r 413 "$F/seed-sample.json"
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	runtime "$T/ssn.json"
	runtime -r 500 -e 500 "$T/ssn.json"
	grep -qx 'bootstrap: req-1: record 3 (SequenceNumber 5100000000093649951003) is bad: 2 records written, the rest reported as batchItemFailures' "$T/rt3/log"
	cat "$T"/rt*/log | grep '^bootstrap: ' >"$T/own"
	cat "$T/own"
	[ "$(wc -l <"$T/own")" -ge 8 ]
	! grep -e 123-45-6789 -e Sita -e Ram -e Hari -e Gita -e Gaurav -e Saurav "$T/own"
}

# fault proxy in front of the store: every PUT of a tblB object (not its
# column list) gets 503, everything else passes
tblb_fails() {
	local dir
	dir=$(mktemp -d "$T/fault-proxy.XXXXXX")
	_s3_helper_start FAULT fault-proxy "$dir" -t 120 -m /tblB/tblB_ "$dir" \
		"$S3_ENDPOINT" '503*'
}

# once TABLE SEQ...: the objects under staging/TABLE/ are complete (the
# header, then rows of 5 fields ending in LF) and together hold each
# SequenceNumber given exactly once, and no other row
once() {
	local table=$1 key n=0
	shift
	: >"$T/seqs"
	while read -r key; do
		n=$((n + 1))
		rm -f "$T/obj"
		s3_get "$B" "$key" "$T/obj"
		echo "# s3://$B/$key"
		cat "$T/obj"
		[ "$(tail -c 1 "$T/obj" | od -An -c | tr -d ' ')" = '\n' ]
		[ "$(head -n 1 "$T/obj")" = id,name,SequenceNumber,EventType,created_at ]
		awk -F, 'NR > 1 && (NF != 5 || $3 !~ /^[0-9]+$/ || $4 != "INSERT") { exit 1 }' "$T/obj"
		tail -n +2 "$T/obj" | cut -d, -f3 >>"$T/seqs"
	done < <(s3_ls "$B" "$P/staging/$table/")
	[ "$n" -gt 0 ]
	sort "$T/seqs" >"$T/got"
	printf '%s\n' "$@" | sort >"$T/exp"
	diff -u "$T/exp" "$T/got"
}

# upload_fails: bootstrap on bisect.json through the fault proxy of
# tblb_fails: every body it posts is valid JSON, req-1 is an UploadFailed
# error and has no response
upload_fails() {
	DDB_TO_S3_ENDPOINT_URL=$FAULT_URL
	runtime "$BF/bisect.json"
	cat "$RT/log"
	all_valid
	[ ! -e "$RT/req-1.response" ]
	[ "$(cat "$RT/req-1.error-type")" = UploadFailed ]
}

# all_taken EVENT: bootstrap on EVENT answers req-1 with no record failed
all_taken() {
	runtime "$1"
	cat "$RT/log"
	[ "$(cat "$RT/req-1.response")" = '{"batchItemFailures":[]}' ]
}

@test "bootstrap: Lambda's bisect of A0,B1,A2,B3 after tblB's upload failed leaves each record in exactly one object" {
	export DDB_TO_S3_LINEAGE=SequenceNumber DDB_TO_S3_MAX_ATTEMPTS=1
	jq -c '{Records: .Records[0:2]}' "$BF/bisect.json" >"$T/half1.json"
	jq -c '{Records: .Records[2:4]}' "$BF/bisect.json" >"$T/half2.json"
	tblb_fails
	# 1: the whole batch; tblA is written, tblB's PUT gets 503
	upload_fails
	grep -q '^[0-9]* pass PUT /[^ ]*/tblA/' "$FAULT_DIR/log"
	grep -q '^[0-9]* 503:SlowDown PUT /[^ ]*/tblB/' "$FAULT_DIR/log"
	[ "$(s3_ls "$B" "$P/staging/tblB/")" = "" ]
	# 2, 3: BisectBatchOnFunctionError: the halves, the store healthy
	DDB_TO_S3_ENDPOINT_URL=$S3_ENDPOINT
	all_taken "$T/half1.json"
	all_taken "$T/half2.json"
	once tblA 5100000000093649960000 5100000000093649960002
	once tblB 5100000000093649960001 5100000000093649960003
}

@test "bootstrap: ReportBatchItemFailures and a failed upload: no partial list; Lambda's whole retry leaves each record once" {
	export DDB_TO_S3_LINEAGE=SequenceNumber DDB_TO_S3_MAX_ATTEMPTS=1
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	tblb_fails
	upload_fails
	grep -qx 'bootstrap: req-1: UploadFailed (ddb-to-s3 exit 75), invocation error' "$RT/log"
	# Lambda retries the whole batch (a function error is not a partial answer)
	DDB_TO_S3_ENDPOINT_URL=$S3_ENDPOINT
	all_taken "$BF/bisect.json"
	once tblA 5100000000093649960000 5100000000093649960002
	once tblB 5100000000093649960001 5100000000093649960003
}

# rbatch FILE BAD...: a 5-record event (SequenceNumbers ...9510 to ...9514,
# ids 20 to 24) whose records at the 0-based positions BAD are bad data
rbatch() {
	local out=$1
	shift
	jq -c --argjson bad "[$(IFS=,; echo "$*")]" '.Records[0] as $r |
	    {Records: [range(5) as $i | $r | .eventID = "e\($i)" |
	    .dynamodb.SequenceNumber = "510000000009364995101\($i)" |
	    .dynamodb.Keys.id.S = "2\($i)" | .dynamodb.NewImage.id.S = "2\($i)" |
	    if ($bad | index($i)) then .dynamodb.NewImage.age = {Q: "5"} else . end]}' \
	    "$D/bad-record.json" >"$out"
}

# failures FROM: the batchItemFailures of records FROM..4 of rbatch
failures() {
	local i sep=
	printf '{"batchItemFailures":['
	for i in $(seq "$1" 4); do
		printf '%s{"itemIdentifier":"510000000009364995101%s"}' "$sep" "$i"
		sep=,
	done
	printf ']}'
}

@test "bootstrap: bad records at several positions: what precedes the first is written, it and the rest reported" {
	export DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES=true
	rbatch "$T/b13.json" 1 3
	rbatch "$T/b0.json" 0 2 4
	rbatch "$T/b4.json" 4
	rbatch "$T/all.json" 0 1 2 3 4
	rbatch "$T/none.json"
	runtime "$T/b13.json" "$T/b0.json" "$T/b4.json" "$T/all.json" "$T/none.json"
	cat "$RT/log"
	all_valid
	[ "$(cat "$RT/req-1.response")" = "$(failures 1)" ]
	[ "$(cat "$RT/req-2.response")" = "$(failures 0)" ]
	[ "$(cat "$RT/req-3.response")" = "$(failures 4)" ]
	[ "$(cat "$RT/req-4.response")" = "$(failures 0)" ]
	[ "$(cat "$RT/req-5.response")" = '{"batchItemFailures":[]}' ]
	[ "$(grep '^bootstrap: ' "$RT/log")" = "$(cat <<-'EOF'
	bootstrap: req-1: record 2 (SequenceNumber 5100000000093649951011) is bad: 1 record written, the rest reported as batchItemFailures
	bootstrap: req-2: record 1 (SequenceNumber 5100000000093649951010) is bad: 0 records written, the rest reported as batchItemFailures
	bootstrap: req-3: record 5 (SequenceNumber 5100000000093649951014) is bad: 4 records written, the rest reported as batchItemFailures
	bootstrap: req-4: record 1 (SequenceNumber 5100000000093649951010) is bad: 0 records written, the rest reported as batchItemFailures
	bootstrap: req-5: ok
	bootstrap: runtime API: next invocation: HTTP 410
	EOF
	)" ]
	# req-1 wrote record 0; req-3 records 0 to 3, req-5 all five, each
	# under the key of its first record: the same key, rewritten
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == *_5100000000093649951010.csv ]]
	s3_get "$B" "${lines[0]}" "$T/got"
	[ "$(tail -n +2 "$T/got" | cut -d, -f1 | tr '\n' ' ')" = "20 21 22 23 24 " ]
}

# procs LOG: processes started (fork, clone without CLONE_THREAD) in the
# strace -f log LOG
procs() {
	grep -E '(clone|clone3|fork|vfork)\(' "$1" | grep -vc CLONE_THREAD
}

@test "bootstrap: an invocation starts at most 8 processes (bootstrap, ddb-to-s3, the stages and s3-put)" {
	command -v strace >/dev/null || skip "no strace"
	if ldd "$(command -v ddb-flatten)" | grep -q libasan; then
		skip "sanitizer build: LeakSanitizer does not run under strace"
	fi
	export LAMBDA_TASK_ROOT="$T/task"
	mkdir -p "$T/task"
	for n in 1 2; do
		RTN=$((RTN + 1))
		RT="$T/rt$RTN"
		events=("$F/seed-sample.json")
		[ $n -eq 1 ] || events+=("$F/seed-sample.json")
		runtime_standin "$RT" "${events[@]}"
		AWS_LAMBDA_RUNTIME_API=$(cat "$RT/address") timeout 120 \
			strace -f -qq -e trace=execve,clone,clone3,fork,vfork \
			-e signal=none -o "$T/st$n" bootstrap 2>"$RT/log" || :
		grep -q "^bootstrap: req-$n: ok$" "$RT/log"
	done
	one=$(procs "$T/st1")
	two=$(procs "$T/st2")
	echo "processes: $one for one invocation, $two for two"
	[ $((two - one)) -le 8 ]
}

# hostile MODE [ARGS...]: bootstrap against a stand-in serving the seed
# sample the MODE way (-x) as req-1, then as usual as req-2; its time in
# $SECS
hostile() {
	local mode=$1
	shift
	SECONDS=0
	runtime -x "$mode" "$@" "$F/seed-sample.json" "$F/seed-sample.json"
	SECS=$SECONDS
	all_valid
	# never item data in its own lines
	! grep '^bootstrap: ' "$RT/log" | grep -e Gaurav -e Saurav -e Kandel -e 334433223
	# the next invocation is served as usual, its object stored
	grep -qx 'bootstrap: req-2: ok' "$RT/log"
	grep -qx 'req-2.response 202' "$RT/posts"
	s3_get "$B" "$P/staging/student/student_20240710T164423Z_5100000000093649950825.csv" "$T/obj"
	[ "$(wc -l <"$T/obj")" -eq 3 ]
}

@test "bootstrap: a huge event (1 GB announced, blanks as fast as read) is refused as an invocation error, never read whole; the next is served" {
	hostile huge
	[ "$(cat "$RT/req-1.error-type")" = EventRefused ]
	grep -qx 'bootstrap: req-1: the event is larger than 16777216 bytes: refused, invocation error' "$RT/log"
	[ ! -e "$RT/req-1.response" ]
	[ "$SECS" -lt 30 ]
}

@test "bootstrap: a truncated event (shorter than its Content-Length) is never handed on: an invocation error; the next is served" {
	hostile truncate
	[ "$(cat "$RT/req-1.error-type")" = EventRefused ]
	grep -qx 'bootstrap: req-1: the event is cut off (shorter than its Content-Length): refused, invocation error' "$RT/log"
	[ ! -e "$RT/req-1.response" ]
}

@test "bootstrap: an invocation without a request id cannot be answered: skipped, said, no crash; the next is served" {
	hostile noid
	grep -qx 'bootstrap: runtime API: an invocation without a valid request id: skipped (Lambda retries it after its timeout)' "$RT/log"
	[ "$(grep -c '^req-1' "$RT/posts")" -eq 0 ]
}

@test "bootstrap: odd headers (case, spacing, unknown and 8 KB ones, the request id last) are read as HTTP allows: the invocation succeeds" {
	hostile oddhdr
	grep -qx 'bootstrap: req-1: ok' "$RT/log"
	grep -qx 'req-1.response 202' "$RT/posts"
}

@test "bootstrap: an event trickling a byte every 0.2 s is given up at the function's deadline, not waited for; an invocation error" {
	hostile trickle -d 3
	# the deadline is 3 s; the whole event, trickled, would take 230 s
	# (the stand-in gives up at 60): 20 s leaves room for the next
	# invocation's batch and the loop's start under valgrind
	[ "$SECS" -lt 20 ]
	grep -qx 'bootstrap: req-1: the event did not arrive by the deadline: refused, invocation error' "$RT/log"
	[ ! -e "$RT/req-1.response" ]
}

@test "bootstrap: a 500 on the response post is no success: reported as an invocation error, the objects stored either way" {
	runtime -r 500 "$F/seed-sample.json"
	all_valid
	grep -qx 'bootstrap: req-1: POST invocation/req-1/response: HTTP 500 (ServiceException), not accepted' "$RT/log"
	! grep -q 'ok$' "$RT/log"
	[ "$(cat "$RT/posts")" = "$(printf 'req-1.response 500\nreq-1.error 202')" ]
	[ "$(cat "$RT/req-1.error-type")" = ResponseNotAccepted ]
}

@test "bootstrap: the same invocation twice writes the same object again, never a second one" {
	runtime -x twice "$F/seed-sample.json"
	all_valid
	[ "$(grep -c '^bootstrap: req-1: ok$' "$RT/log")" -eq 2 ]
	[ "$(s3_ls "$B" "$P/staging/" | grep -v /_columns)" = "$P/staging/student/student_20240710T164423Z_5100000000093649950825.csv" ]
}

@test "bootstrap: ddb-to-s3 still running at the function's deadline is stopped (its stages too) and the invocation reported as an error" {
	LAMBDA_TASK_ROOT="$T/task"
	mkdir -p "$LAMBDA_TASK_ROOT"
	export LAMBDA_TASK_ROOT
	printf '#!/bin/sh\nsleep 60 &\necho $! >"%s/child"\nwait\n' "$T" >"$LAMBDA_TASK_ROOT/ddb-to-s3"
	chmod +x "$LAMBDA_TASK_ROOT/ddb-to-s3"
	SECONDS=0
	runtime -d 4 "$F/seed-sample.json"
	[ "$SECONDS" -lt 12 ]
	all_valid
	[ "$(cat "$RT/req-1.error-type")" = Timeout ]
	grep -qx 'bootstrap: req-1: ddb-to-s3 still running at the deadline: stopped, invocation error' "$RT/log"
	# the stage it started is gone too (a zombie at most, until reaped)
	sleep 0.2
	c=$(cat "$T/child")
	! kill -0 "$c" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$c/stat")" = Z ]
}
