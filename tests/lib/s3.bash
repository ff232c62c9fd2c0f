# s3.bash: helpers for bats tests that talk to the suite's S3 store
# (started by tests/setup_suite.bash). Load with `load lib/s3`.
# They always use Debian's awscli, /usr/bin/aws: a client nobody here wrote.
# Each returns aws's exit status; aws's errors go to stderr.

S3_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export S3_LIB	# s3_aws, also where a test writes it into a script

# s3_aws ARGS...: /usr/bin/aws against the store, no pager, no prompts
# (through lib/aws-warm: the same aws, its modules loaded once)
s3_aws() {
	AWS_PAGER='' "$S3_LIB/aws-warm" --endpoint-url "$S3_ENDPOINT" --no-cli-pager "$@"
}

# s3_bucket [TAG]: print a new unique, valid bucket name (does not create it)
s3_bucket() {
	local tag
	tag=${1:-b}
	tag=$(LC_ALL=C tr -c 'a-z0-9\n' '-' <<<"${tag,,}")
	printf 't%s-%s-%04x%04x\n' "${BATS_SUITE_TEST_NUMBER:-0}" "${tag:0:24}" \
		"$RANDOM" "$RANDOM"
}

# s3_mb BUCKET: create BUCKET
s3_mb() {
	s3_aws s3api create-bucket --bucket "$1" >/dev/null
}

# s3_put BUCKET KEY FILE [ARGS...]: upload FILE with aws (for preparing tests)
s3_put() {
	s3_aws s3api put-object --bucket "$1" --key "$2" --body "$3" "${@:4}" >/dev/null
}

# s3_get BUCKET KEY FILE: download the object to FILE
s3_get() {
	s3_aws s3api get-object --bucket "$1" --key "$2" "$3" >/dev/null
}

# s3_head BUCKET KEY: print head-object's JSON (ContentLength, ETag,
# ContentType, ContentEncoding, Metadata, ...)
s3_head() {
	s3_aws s3api head-object --bucket "$1" --key "$2"
}

# s3_ls BUCKET [PREFIX]: print the keys, one per line, in S3's order, but
# those a table's readers skip (Hive's rule: a last part that starts with _
# or ., such as a table's _columns)
s3_ls() {
	local out
	out=$(s3_ls_all "$@") || return
	grep -v '\(^\|/\)[_.][^/]*$' <<<"$out" || :
}

# s3_ls_all BUCKET [PREFIX]: print every key, one per line, in S3's order
s3_ls_all() {
	local out
	out=$(s3_aws s3api list-objects-v2 --bucket "$1" --prefix "${2:-}" \
		--query 'Contents[].Key' --output json) || return
	jq -r '.[]?' <<<"$out"
}

# s3_uploads BUCKET: print the keys of unfinished multipart uploads, one per line
s3_uploads() {
	local out
	out=$(s3_aws s3api list-multipart-uploads --bucket "$1" \
		--query 'Uploads[].Key' --output json) || return
	jq -r '.[]?' <<<"$out"
}

# Helper servers, each in its own directory under the test's temp dir, with a
# bounded lifetime; their pids are also noted for teardown_suite, so nothing
# outlives the suite even when a test forgets to stop them.

_s3_helper_start() {	# _s3_helper_start VAR_PREFIX PROG DIR ARGS...
	local prefix=$1 prog=$2 dir=$3 url
	shift 3
	url=$("$S3_LIB/$prog" "$@") || return
	[ -n "${S3_STORE_DIR:-}" ] && cat "$dir/pid" >>"$S3_STORE_DIR/helpers.pids"
	printf -v "${prefix}_URL" '%s' "$url"
	printf -v "${prefix}_DIR" '%s' "$dir"
}

_s3_helper_stop() {	# _s3_helper_stop DIR
	local pid
	[ -f "$1/pid" ] || return 0
	pid=$(cat "$1/pid")
	kill "$pid" 2>/dev/null || :
	rm -f "$1/pid"
}

# fault_proxy_start SPEC [UPSTREAM]: start tests/lib/fault-proxy in front of
# the store (or UPSTREAM); sets FAULT_URL (use it as the endpoint) and
# FAULT_DIR. Lifetime: $FAULT_PROXY_LIFE seconds (default 120).
fault_proxy_start() {
	local dir
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/fault-proxy.XXXXXX") || return
	_s3_helper_start FAULT fault-proxy "$dir" -t "${FAULT_PROXY_LIFE:-120}" \
		"$dir" "${2:-$S3_ENDPOINT}" "$1"
}

# fault_proxy_count: print how many requests reached the proxy
fault_proxy_count() {
	cat "$FAULT_DIR/count"
}

# fault_proxy_start_file SPEC [UPSTREAM]: the same, with the spec in the
# control file $FAULT_DIR/spec: write a new spec there to re-arm the proxy
fault_proxy_start_file() {
	local dir
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/fault-proxy.XXXXXX") || return
	printf '%s\n' "$1" >"$dir/spec"
	_s3_helper_start FAULT fault-proxy "$dir" -t "${FAULT_PROXY_LIFE:-120}" \
		-f "$dir/spec" "$dir" "${2:-$S3_ENDPOINT}"
}

# fault_proxy_stop: stop the proxy fault_proxy_start started
fault_proxy_stop() {
	_s3_helper_stop "${FAULT_DIR:-/nonexistent}"
}

# cas_proxy_start [ARGS...]: start tests/lib/cas-proxy (ARGS as its options,
# e.g. -d SECS) in front of the store: S3's conditional writes
# (If-None-Match, If-Match) that Swift lacks; sets CAS_URL (use it as the
# endpoint) and CAS_DIR. Lifetime: $CAS_PROXY_LIFE seconds (default 120).
cas_proxy_start() {
	local dir
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/cas-proxy.XXXXXX") || return
	_s3_helper_start CAS cas-proxy "$dir" -t "${CAS_PROXY_LIFE:-120}" "$@" \
		"$dir" "$S3_ENDPOINT"
}

# cas_proxy_stop: stop the proxy cas_proxy_start started
cas_proxy_stop() {
	_s3_helper_stop "${CAS_DIR:-/nonexistent}"
}

# imds_start [ARGS...]: start tests/lib/imds-standin (ARGS as its options,
# e.g. -a AUTH -T TOKEN); sets IMDS_URL and IMDS_DIR. For IMDSv2 use
# AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_URL (and unset
# AWS_EC2_METADATA_DISABLED); for container credentials
# AWS_CONTAINER_CREDENTIALS_FULL_URI=$IMDS_URL/v2/credentials/test.
imds_start() {
	local dir
	dir=$(mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/imds.XXXXXX") || return
	_s3_helper_start IMDS imds-standin "$dir" -t "${IMDS_LIFE:-120}" "$@" "$dir"
}

# imds_stop: stop the stand-in imds_start started
imds_stop() {
	_s3_helper_stop "${IMDS_DIR:-/nonexistent}"
}

# s3_setup_file TAG: a test file's bucket on the store, made, its name in B
# (exported); for setup_file
s3_setup_file() {
	B=$(s3_bucket "$1") || return
	s3_mb "$B" || return
	export B
}

# s3_setup_test PREFIX [VAR...]: a test's ddb-to-s3 settings, for setup: T
# its temporary folder, P "t" and its number, objects into bucket B on the
# store under $P/PREFIX; the settings of where and how to put (and each
# VAR) unset
s3_setup_test() {
	T="$BATS_TEST_TMPDIR"
	P="t$BATS_TEST_NUMBER"
	export DDB_TO_S3_BUCKET="$B" DDB_TO_S3_ENDPOINT_URL="$S3_ENDPOINT"
	export DDB_TO_S3_PREFIX="$P/$1"
	shift
	unset DDB_TO_S3_KEY DDB_TO_S3_KEEP_DIR DDB_TO_S3_GZIP "$@"
}
