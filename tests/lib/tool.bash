# tool.bash: helpers for the bats files of the tools that read files and
# write stdout (ddb-flatten, ddb-expand, csv-emit, ddb-esm, s3-put...), and
# the command-line checks every tool's file makes. Load with `load lib/tool`.

# tool_run TOOL STATUS ARGS...: in $F, run TOOL ARGS with its stdout in
# $BATS_TEST_TMPDIR/out and its stderr in $BATS_TEST_TMPDIR/err; it must
# exit STATUS (else its stderr is shown and this fails)
tool_run() {
	local tool=$1 want=$2 st=0 t=$BATS_TEST_TMPDIR
	shift 2
	cd "$F"
	"$tool" "$@" > "$t/out" 2> "$t/err" || st=$?
	if [ "$st" -ne "$want" ]; then
		cat "$t/err"
		echo "status $st, want $want"
		return 1
	fi
}

# tool_like TOOL OUT ERR STATUS ARGS...: run TOOL ARGS in $F; it must exit
# STATUS, its stdout must be the file OUT byte for byte, its stderr the file
# ERR ("-": empty)
tool_like() {
	local tool=$1 out=$2 errf=$3 want=$4 t=$BATS_TEST_TMPDIR
	shift 4
	[ "$out" != - ] || out=/dev/null
	[ "$errf" != - ] || errf=/dev/null
	tool_run "$tool" "$want" "$@"
	diff -u "$out" "$t/out"
	diff -u "$errf" "$t/err"
}

# full_disk TOOL ARGS...: TOOL ARGS with its stdout on /dev/full exits 3,
# and says exactly that it could not write stdout
full_disk() {
	run --separate-stderr sh -c '"$0" "$@" >/dev/full' "$@"
	[ "$status" -eq 3 ]
	[ "$stderr" = "$1: stdout: No space left on device" ]
}

# tool_says TOOL STATUS MESSAGE ARGS...: TOOL ARGS exits STATUS, and its
# stderr is MESSAGE exactly (its stdout is left in $output)
tool_says() {
	local tool=$1 want=$2 msg=$3
	shift 3
	run --separate-stderr "$tool" "$@"
	[ "$status" -eq "$want" ]
	[ "$stderr" = "$msg" ]
}

# tool_refuses TOOL MESSAGE ARGS...: TOOL ARGS exits 1 (bad data), writes
# nothing on stdout, and its stderr is MESSAGE exactly
tool_refuses() {
	local tool=$1 msg=$2
	shift 2
	run --separate-stderr "$tool" "$@"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$msg" ]
}

# help_and_bad_option TOOL TEXT: TOOL --help exits 0, its output the usage
# ("usage: TOOL ...") holding TEXT; TOOL --bogus exits 2 with the usage
help_and_bad_option() {
	local tool=$1 text=$2
	run "$tool" --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: $tool "* ]]
	[[ "$output" == *"$text"* ]]
	run "$tool" --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: $tool"* ]]
}
