#!/usr/bin/env bats
# Every tool's --help has a line per option that says what it does: each
# long option its man page lists starts a line of --help (after its short
# twin, if any), and words follow it on that line or, when the option and
# its argument fill the column, on the next.

bats_require_minimum_version 1.5.0

M="$BATS_TEST_DIRNAME/../man"

# help_lists TOOL: every --option of man/TOOL.1 on a line of its own in
# TOOL --help, with a description after it; prints those that are not
help_lists() {
	local tool=$1 help o
	help=$("$tool" --help) || return
	for o in $(grep -o '^\.It Fl [A-Za-z0-9] , Fl \\-[a-z0-9-]*\|^\.It Fl \\-[a-z0-9-]*' "$M/$tool.1" |
		grep -o '\\-[a-z0-9-]*$' | sed 's/^\\/-/'); do
		# the option, its argument words, two spaces, a description
		grep -qE "^ +(-[A-Za-z0-9], )?$o([= ]?([A-Z][A-Za-z0-9|,.:]*|[a-z0-9]+([|][a-z0-9:]+)+))* {2,}[^ ]" <<<"$help" ||
			grep -A1 -E "^ +(-[A-Za-z0-9], )?$o([= ]?([A-Z][A-Za-z0-9|,.:]*|[a-z0-9]+([|][a-z0-9:]+)+))*\$" <<<"$help" |
			sed -n 2p | grep -qE '^ {6,}[^ -]' ||
			echo "$tool: $o"
	done
}

@test "help: every option of every tool has a line of --help that says what it does" {
	local t missing=
	for t in ddb-flatten ddb-expand csv-emit parquet-emit s3-put ddb-stream ddb-scan ddb-esm ddb-to-s3; do
		[ -f "$M/$t.1" ] || continue
		missing+=$(help_lists "$t")
	done
	[ -z "$missing" ] || { echo "$missing"; false; }
}

@test "help: the options of s3-put --help are the ones it takes" {
	run s3-put --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"  -z, --gzip  "* ]]
	[[ "$output" == *"  -R, --retry-kept SIDECAR  "* ]]
	[[ "$output" == *"  -r, --region NAME  "* ]]
}
