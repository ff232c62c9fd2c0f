#!/usr/bin/env bats
# make deb: the Debian package builds lintian-clean, installs with dpkg -i
# on this machine, runs the demo's batch with the installed tools against
# the real store, and is removed and purged leaving none of its files.
# (Needs root, as dpkg does; one install at a time on the machine, under
# a lock, since test suites may run side by side.)

bats_require_minimum_version 1.5.0
load lib/s3

TOP="$BATS_TEST_DIRNAME/.."
F="$BATS_TEST_DIRNAME/fixtures"
LOCK=/tmp/ddb-to-s3-deb-test.lock

setup_file() {
	B=$(s3_bucket deb)
	s3_mb "$B"
	export B
}

setup() {
	T="$BATS_TEST_TMPDIR"
	export DDB_TO_S3_BUCKET="$B" DDB_TO_S3_ENDPOINT_URL="$S3_ENDPOINT"
	export DDB_TO_S3_PREFIX="t$BATS_TEST_NUMBER/staging"
	unset DDB_TO_S3_KEY DDB_TO_S3_KEEP_DIR DDB_TO_S3_GZIP DDB_TO_S3_LINEAGE
}

# dpkg_locked ARGS...: dpkg ARGS, waiting up to 5 minutes while another
# dpkg or apt holds the machine's dpkg lock
dpkg_locked() {
	local i out
	for i in $(seq 150); do
		if out=$(dpkg "$@" 2>&1); then
			printf '%s\n' "$out"
			return 0
		fi
		printf '%s\n' "$out"
		grep -q 'lock' <<<"$out" || return 1
		sleep 2
	done
	return 1
}

# a package this test installed is purged, whatever failed
teardown() {
	if [ -e "$T/installed" ] && installed; then
		dpkg_locked -P ddb-to-s3 >/dev/null || :
	fi
	return 0
}

installed() {
	dpkg-query -W -f='${Status}' ddb-to-s3 2>/dev/null | grep -q 'ok installed'
}

@test "make deb: lintian-clean; dpkg -i; the demo's batch with the installed tools; dpkg -r and -P leave nothing" {
	[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root"
	run make -s --no-print-directory -C "$TOP" deb
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	deb=${lines[${#lines[@]} - 1]}
	[[ "$deb" == *.deb ]]
	# what it holds: the tools, the man pages, the README, the examples
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | sort >"$T/files"
	for f in /usr/bin/ddb-to-s3 /usr/bin/ddb-flatten /usr/bin/ddb-expand \
	    /usr/bin/csv-emit /usr/bin/s3-put /usr/bin/ddb-stream /usr/bin/ddb-scan \
	    /usr/bin/ddb-esm /usr/bin/parquet-emit /usr/share/man/man1/ddb-to-s3.1.gz \
	    /usr/share/man/man7/ddb-to-s3.7.gz /usr/share/doc/ddb-to-s3/README.md.gz \
	    /usr/share/doc/ddb-to-s3/copyright \
	    /usr/share/doc/ddb-to-s3/examples/ddb-stream.service \
	    /usr/share/doc/ddb-to-s3/examples/ddb-to-s3.crontab; do
		grep -qx "$f" "$T/files"
	done
	# the package's own files: not the directories it shares
	grep '/ddb-to-s3\|/usr/bin/\|/man[17]/' "$T/files" | grep -v '^/usr/bin$' >"$T/own"

	exec 9>"$LOCK"
	flock 9
	if installed; then
		echo "ddb-to-s3 is installed already (not by this test): not touched"
		return 1
	fi
	dpkg_locked -i "$deb"
	: >"$T/installed"
	installed
	for f in $(cat "$T/own"); do
		[ -e "$f" ]
	done
	# the demo's batch, with the installed tools only
	PATH=/usr/bin:/bin run --separate-stderr /usr/bin/ddb-to-s3 -b "$B" "$F/seed-sample.json"
	echo "$stderr"
	[ "$status" -eq 0 ]
	run s3_ls "$B" "t$BATS_TEST_NUMBER/"
	[ "${#lines[@]}" -eq 1 ]
	s3_get "$B" "${lines[0]}" "$T/got"
	ddb-to-s3 -o "$T/exp" "$F/seed-sample.json"
	cmp "$T/exp/${lines[0]}" "$T/got"
	/usr/bin/ddb-flatten --version | grep -qx 'ddb-flatten 0.1.0'

	dpkg_locked -r ddb-to-s3
	dpkg_locked -P ddb-to-s3
	! installed
	for f in $(cat "$T/own"); do
		[ ! -e "$f" ] || { echo "left: $f"; return 1; }
	done
	[ ! -e /usr/share/doc/ddb-to-s3 ]
	! dpkg-query -W ddb-to-s3 2>/dev/null
}
