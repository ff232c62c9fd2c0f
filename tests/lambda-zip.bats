#!/usr/bin/env bats
# make lambda-zip, x86_64 and arm64: each package, unpacked, runs a batch
# through its own bootstrap against the Runtime API stand-in and the real
# store, loading no library but glibc from outside the package; the arm64
# one under qemu-user, with nothing but arm64 glibc on its library path.
# (make check's O, from MAKEFLAGS, is where the packages are built.)

bats_require_minimum_version 1.5.0
load lib/s3
load lib/lambda

TOP="$BATS_TEST_DIRNAME/.."
F="$BATS_TEST_DIRNAME/fixtures"

setup_file() {
	s3_setup_file lzip
}

setup() {
	s3_setup_test staging DDB_TO_S3_LINEAGE \
		DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES DDB_TO_S3_MAX_ATTEMPTS \
		LAMBDA_TASK_ROOT LD_LIBRARY_PATH
	RT="$T/rt"
}

teardown() {
	[ -f "$RT/pid" ] && kill "$(cat "$RT/pid")" 2>/dev/null
	return 0
}

# package ARCH: make lambda-zip ARCH=ARCH, unpacked into $T/task; the
# zip's path in $ZIP
package() {
	run make -s --no-print-directory -C "$TOP" lambda-zip ARCH="$1"
	printf '%s\n' "$output"
	[ "$status" -eq 0 ]
	ZIP=$(sed -n 's/^lambda-zip: \(.*\) ('"$1"'): .*/\1/p' <<<"$output")
	[ -f "$ZIP" ]
	rm -rf "$T/task"
	mkdir "$T/task"
	(cd "$T/task" && unzip -q "$ZIP")
	[ -x "$T/task/bootstrap" ]
}

# is_glibc NAME: a library of glibc's, which Lambda brings
is_glibc() {
	[[ "$1" =~ ^(ld-linux.*|libc\.so\..*|libm\.so\..*|libpthread\.so\..*|libdl\.so\..*|librt\.so\..*|libresolv\.so\..*|libnss_.*|libmvec\.so\..*|linux-vdso\.so\..*)$ ]]
}

# invoke [PATH]: bootstrap of $T/task on the seed's sample, against a new
# stand-in; PATH after the package's own bin/ (default the system's, as on
# Lambda; /nonexistent proves the package needs no command of this machine)
invoke() {
	runtime_standin "$RT" "$F/seed-sample.json"
	local api
	api=$(cat "$RT/address")
	LAMBDA_TASK_ROOT="$T/task" PATH=${1:-/usr/bin:/bin} \
		AWS_LAMBDA_RUNTIME_API=$api \
		/usr/bin/timeout 300 "$T/task/bootstrap" 2>"$RT/log" || :
	cat "$RT/log"
}

# stored: the batch's one object is what ddb-to-s3 of this checkout
# writes for it with -o
stored() {
	[ "$(cat "$RT/posts")" = 'req-1.response 202' ]
	grep -qx 'bootstrap: req-1: ok' "$RT/log"
	run s3_ls "$B" "$P/"
	[ "${#lines[@]}" -eq 1 ]
	s3_get "$B" "${lines[0]}" "$T/got"
	ddb-to-s3 -o "$T/exp" "$F/seed-sample.json"
	cmp "$T/exp/${lines[0]}" "$T/got"
}

@test "lambda-zip x86_64: nothing but glibc is loaded from outside the package, no Kerberos, LDAP, SSH, GnuTLS; ddb-lambda (plain HTTP to the Runtime API) loads no TLS library" {
	package x86_64
	n=0
	for f in "$T"/task/bin/* "$T"/task/lib/*; do
		[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		n=$((n + 1))
		while read -r name _ path _; do
			is_glibc "$name" && continue
			echo "${f#"$T"/task/}: $name => $path"
			[ "$path" = "$T/task/lib/$name" ]
		done < <(LD_LIBRARY_PATH="$T/task/lib" ldd "$f" | grep '=>')
	done
	[ "$n" -ge 10 ]
	! ls "$T/task/lib" | grep -E 'ldap|krb5|gssapi|ssh|rtmp|gnutls|unistring|nghttp|idn|psl|brotli|sasl'
	[ ! -e "$T/task/lib/libcurl.so.4" ]
	LD_LIBRARY_PATH="$T/task/lib" ldd "$T/task/bin/ddb-lambda" >"$T/ldd"
	grep -q 'libc\.so' "$T/ldd"
	! grep -E 'libssl|libcrypto' "$T/ldd"
	LD_LIBRARY_PATH="$T/task/lib" ldd "$T/task/bin/s3-put" | grep -q libssl
}

@test "lambda-zip x86_64: a batch through the package's bootstrap is stored, with no command from the machine's PATH" {
	package x86_64
	invoke /nonexistent
	stored
}

@test "lambda-zip arm64: a batch through the package's bootstrap under qemu-user is stored" {
	command -v qemu-aarch64
	package arm64
	for f in "$T"/task/lib/*; do
		file -L "$f" | grep -q 'ARM aarch64'
	done
	sh "$BATS_TEST_DIRNAME/lib/qemu-task" "$T/task" "$T/glibc"
	# the package's tools and commands are what run: arm64 code
	LD_LIBRARY_PATH="$T/task/lib" "$T/task/bin/s3-put" --version | grep -q '^s3-put '
	invoke
	stored
}
