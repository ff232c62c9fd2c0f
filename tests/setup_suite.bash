# setup_suite.bash: bats runs setup_suite once before the whole suite and
# teardown_suite once after it. It starts the real S3 store (tests/lib/s3-store)
# and gives every test the same clean AWS environment: the store's endpoint,
# its test credentials, and nothing from the caller's ~/.aws or AWS_* variables.

setup_suite() {
	local lib dir
	lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib"
	dir=$(mktemp -d "${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}/s3-store.XXXXXX") || return 1
	export S3_STORE_DIR="$dir"

	unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE \
		AWS_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE \
		AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
		AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
		AWS_EC2_METADATA_SERVICE_ENDPOINT AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE \
		AWS_MAX_ATTEMPTS AWS_RETRY_MODE AWS_CLI_AUTO_PROMPT AWS_USE_FIPS_ENDPOINT \
		AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
		AWS_ENDPOINT_URL_STS AWS_ENDPOINT_URL_SSO
	mkdir -p "$dir/aws" && : >"$dir/aws/config" && : >"$dir/aws/credentials" || return 1
	export AWS_CONFIG_FILE="$dir/aws/config"
	export AWS_SHARED_CREDENTIALS_FILE="$dir/aws/credentials"
	export AWS_ACCESS_KEY_ID=test:tester
	export AWS_SECRET_ACCESS_KEY=testing
	export AWS_DEFAULT_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true	# never ask a real 169.254.169.254
	export AWS_PAGER=
	# ddb-to-s3's default lineage (SequenceNumber, for the current-state
	# view) is off in the suite, whose objects predate it; tests/view.bats
	# and tests/view-ddb-local.bats unset this and run the default
	export DDB_TO_S3_LINEAGE=
	# the store has no conditional writes (501): ddb-to-s3 would say so once
	# a run; tests of that path unset this
	export DDB_TO_S3_SINGLE_WRITER=1
	# the Lambda bootstrap's cache of column lists: the suite's, not /tmp's
	export DDB_TO_S3_COLUMNS_CACHE="$dir/columns-cache"

	# /usr/bin/aws with its modules loaded once (lib/aws-warm): s3_aws and
	# ddb_aws go through it; if it cannot start they run /usr/bin/aws
	AWS_WARM_OWNER=$$ setsid /usr/bin/python3 "$lib/aws-warm" serve "$dir/aws.sock" \
		</dev/null >"$dir/aws-warm.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$dir/aws-warm.pid"
	export AWS_WARM_SOCKET="$dir/aws.sock"

	# S3_ENDPOINT=http://127.0.0.1:PORT and friends
	local env
	env=$(S3_STORE_OWNER=$$ "$lib/s3-store" start "$dir/store") || return 1
	S3_ENDPOINT=$(sed -n 's/^S3_ENDPOINT=//p' <<<"$env")
	[ -n "$S3_ENDPOINT" ] || return 1
	export S3_ENDPOINT
	local i=0
	until grep -qx ready "$dir/aws-warm.log" 2>/dev/null || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

teardown_suite() {
	[ -n "${S3_STORE_DIR:-}" ] || return 0
	# fault proxies and stand-ins a test left running (lib/s3.bash notes them)
	local pid
	if [ -f "$S3_STORE_DIR/helpers.pids" ]; then
		while read -r pid; do
			grep -qs -e lib/fault-proxy -e lib/imds-standin -e lib/streams-standin \
				-e lib/cas-proxy \
				"/proc/$pid/cmdline" && kill "$pid" 2>/dev/null
		done <"$S3_STORE_DIR/helpers.pids"
	fi
	# DynamoDB Local, if a file started it (lib/ddb.bash: ddb_local_up)
	"$(dirname "${BASH_SOURCE[0]}")/lib/ddb-local" stop "$S3_STORE_DIR/ddb-local"
	"$(dirname "${BASH_SOURCE[0]}")/lib/s3-store" stop "$S3_STORE_DIR/store"
	kill "$(cat "$S3_STORE_DIR/aws-warm.pid")" 2>/dev/null
	rm -rf "$S3_STORE_DIR"
}
