#!/usr/bin/env bats
# The test infrastructure itself: the Swift S3 store (setup_suite.bash), the
# helpers (lib/s3.bash), the fault proxy and the credentials stand-in,
# checked with Debian's awscli only.

bats_require_minimum_version 1.5.0
load lib/s3

setup() {
	B=$(s3_bucket infra)	# tests that need it create it
	printf 'fname,id\nSaurav,2\n' >"$BATS_TEST_TMPDIR/small.csv"
}

teardown() {
	fault_proxy_stop
	imds_stop
}

@test "suite environment: endpoint on loopback, test credentials, no ~/.aws" {
	[[ $S3_ENDPOINT =~ ^http://127\.0\.0\.1:[0-9]+$ ]]
	[ "$AWS_ACCESS_KEY_ID" = test:tester ]
	[ "$AWS_SECRET_ACCESS_KEY" = testing ]
	[ "$AWS_DEFAULT_REGION" = us-east-1 ]
	[ ! -s "$AWS_CONFIG_FILE" ] && [ ! -s "$AWS_SHARED_CREDENTIALS_FILE" ]
	[ -z "${AWS_SESSION_TOKEN+x}" ] && [ -z "${AWS_PROFILE+x}" ]
}

@test "s3_bucket: unique, valid names" {
	local a b
	a=$(s3_bucket 'My_Tag!') b=$(s3_bucket 'My_Tag!')
	[ "$a" != "$b" ]
	[[ $a =~ ^[a-z0-9][a-z0-9-]{2,62}$ ]]
}

@test "put, get byte for byte, head, list with prefix" {
	s3_mb "$B"
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/bin"
	s3_put "$B" dir/a.csv "$BATS_TEST_TMPDIR/small.csv"
	s3_put "$B" dir/b.bin "$BATS_TEST_TMPDIR/bin"
	s3_put "$B" other.csv "$BATS_TEST_TMPDIR/small.csv"
	s3_get "$B" dir/b.bin "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/back"
	run -0 s3_head "$B" dir/a.csv
	[ "$(jq .ContentLength <<<"$output")" = "$(wc -c <"$BATS_TEST_TMPDIR/small.csv")" ]
	[ "$(jq -r .ETag <<<"$output")" = "\"$(md5sum <"$BATS_TEST_TMPDIR/small.csv" | cut -c1-32)\"" ]
	run -0 s3_ls "$B"
	[ "$output" = "$(printf 'dir/a.csv\ndir/b.bin\nother.csv')" ]
	run -0 s3_ls "$B" dir/
	[ "$output" = "$(printf 'dir/a.csv\ndir/b.bin')" ]
	run -0 s3_ls "$B" nothing/
	[ "$output" = "" ]
}

@test "keys with spaces, +, :, = and unicode round-trip" {
	s3_mb "$B"
	local k='staging/student/a b+c:d=e é☃.csv'
	s3_put "$B" "$k" "$BATS_TEST_TMPDIR/small.csv"
	run -0 s3_ls "$B"
	[ "$output" = "$k" ]
	s3_get "$B" "$k" "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/small.csv" "$BATS_TEST_TMPDIR/back"
}

@test "a wrong secret is refused: SignatureDoesNotMatch" {
	s3_mb "$B"
	AWS_SECRET_ACCESS_KEY=wrong run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *SignatureDoesNotMatch* ]]
}

@test "an unknown access key is refused (Swift says SignatureDoesNotMatch)" {
	s3_mb "$B"
	AWS_ACCESS_KEY_ID=test:nobody run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *SignatureDoesNotMatch* ]]
}

@test "a wrong Content-MD5 is refused: BadDigest, nothing stored" {
	s3_mb "$B"
	run -254 --separate-stderr s3_put "$B" k "$BATS_TEST_TMPDIR/small.csv" \
		--content-md5 AAAAAAAAAAAAAAAAAAAAAA==	# a valid MD5, not the body's
	[[ $stderr == *BadDigest* ]]
	run -0 s3_ls "$B"
	[ "$output" = "" ]
}

@test "an unknown bucket: NoSuchBucket" {
	run -254 --separate-stderr s3_put "$(s3_bucket none)" k "$BATS_TEST_TMPDIR/small.csv"
	[[ $stderr == *NoSuchBucket* ]]
}

@test "s3-store: start prints the environment, stop twice, nothing left" {
	s3_mb "$B"
	local d="$BATS_TEST_TMPDIR/store" pids
	run -0 "$S3_LIB/s3-store" start "$d"
	[[ ${lines[0]} =~ ^S3_ENDPOINT=http://127\.0\.0\.1:[0-9]+$ ]]
	[ "$output" = "$(cat "$d/env")" ]
	[ "${lines[0]#*=}" != "$S3_ENDPOINT" ]
	S3_ENDPOINT=${lines[0]#*=} s3_ls "$B" && false	# a different store
	S3_ENDPOINT=${lines[0]#*=} s3_mb "$B"
	pids=$(cat "$d"/run/*.pid)
	[ "$(wc -w <<<"$pids")" = 5 ]
	run -0 "$S3_LIB/s3-store" stop "$d"
	run -0 "$S3_LIB/s3-store" stop "$d"
	for p in $pids; do	# gone, or a zombie init has not reaped yet
		run cat "/proc/$p/stat"
		[ "$status" -ne 0 ] || [[ $output == *') Z '* ]]
	done
	run -2 "$S3_LIB/s3-store" start
}

# --- fault proxy (aws retries 5xx and network errors itself: AWS_MAX_ATTEMPTS)

@test "fault proxy: pass-through keeps the signature and the bytes" {
	s3_mb "$B"
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	fault_proxy_start pass
	S3_ENDPOINT=$FAULT_URL s3_put "$B" big "$BATS_TEST_TMPDIR/big"
	S3_ENDPOINT=$FAULT_URL s3_get "$B" big "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/back"
	[ "$(fault_proxy_count)" = 2 ]
	[ "$(cut -d' ' -f2,3 "$FAULT_DIR/log")" = "$(printf 'pass PUT\npass GET')" ]
	grep -q "^Host: ${FAULT_URL#http://}" "$FAULT_DIR/heads"
}

@test "fault proxy: 503 SlowDown, 500 and 429 once each, then pass" {
	s3_mb "$B"
	fault_proxy_start '503,500,429:SlowDown'
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *'(SlowDown)'* ]]
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *'(InternalError)'* ]]
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *'(SlowDown)'* ]]
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 run -0 s3_ls "$B"
	[ "$(fault_proxy_count)" = 4 ]
}

@test "fault proxy: a client that retries gets through 503*2 with the object intact" {
	s3_mb "$B"
	fault_proxy_start '503*2'
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=3 s3_put "$B" k "$BATS_TEST_TMPDIR/small.csv"
	[ "$(fault_proxy_count)" = 3 ]
	s3_get "$B" k "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/small.csv" "$BATS_TEST_TMPDIR/back"
}

@test "fault proxy: 500* outlasts the retries" {
	s3_mb "$B"
	fault_proxy_start '500*'
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=3 run -254 --separate-stderr \
		s3_put "$B" k "$BATS_TEST_TMPDIR/small.csv"
	[[ $stderr == *'(InternalError)'*'reached max retries: 2'* ]]
	[ "$(fault_proxy_count)" = 3 ]
	run -0 s3_ls "$B"
	[ "$output" = "" ]
}

@test "fault proxy: reset mid-body, then pass" {
	s3_mb "$B"
	head -c 1000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	fault_proxy_start reset
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 run -255 --separate-stderr \
		s3_put "$B" big "$BATS_TEST_TMPDIR/big"
	[[ $stderr == *'Connection was closed'* ]]
	run -0 s3_ls "$B"
	[ "$output" = "" ]
	S3_ENDPOINT=$FAULT_URL AWS_MAX_ATTEMPTS=1 s3_put "$B" big "$BATS_TEST_TMPDIR/big"
	s3_get "$B" big "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/big" "$BATS_TEST_TMPDIR/back"
}

@test "fault proxy: close gives an empty reply, refuse a refused connection" {
	fault_proxy_start close
	run -52 curl -sS "$FAULT_URL/"
	run -0 curl -sS -o /dev/null "$FAULT_URL/"
	fault_proxy_stop
	fault_proxy_start 'refuse:1.5,pass'
	run -7 curl -sS "$FAULT_URL/"
	sleep 1.6
	run -0 curl -sS -o /dev/null "$FAULT_URL/"
	[ "$(fault_proxy_count)" = 1 ]
	grep -qx -- '- refuse:1.5' "$FAULT_DIR/log"
}

@test "fault proxy: stall outlasts the client's timeout" {
	fault_proxy_start 'stall:5'
	SECONDS=0
	run -28 curl -sS -m 1 "$FAULT_URL/"
	[ "$SECONDS" -lt 4 ]
	run -0 curl -sS -o /dev/null -m 5 "$FAULT_URL/"
}

@test "fault proxy: the control file re-arms it" {
	fault_proxy_start_file '503*'
	run -0 curl -sS -o /dev/null -w '%{http_code}' "$FAULT_URL/"
	[ "$output" = 503 ]
	printf '500\n' >"$FAULT_DIR/spec"
	run -0 curl -sS -o /dev/null -w '%{http_code}' "$FAULT_URL/"
	[ "$output" = 500 ]
	run -0 curl -sS -o /dev/null -w '%{http_code}' "$FAULT_URL/"
	[ "$output" != 500 ]
	[ "$(fault_proxy_count)" = 3 ]
}

@test "fault proxy: bad spec and usage are refused" {
	run -2 --separate-stderr "$S3_LIB/fault-proxy" "$BATS_TEST_TMPDIR/fp" "$S3_ENDPOINT" 'bogus*2'
	[ "$stderr" = "fault-proxy: bad fault in spec: bogus" ]
	run -2 "$S3_LIB/fault-proxy"
}

@test "fault proxy: exits by itself after its lifetime" {
	local url pid
	url=$("$S3_LIB/fault-proxy" -t 1 "$BATS_TEST_TMPDIR/fp" "$S3_ENDPOINT")
	pid=$(cat "$BATS_TEST_TMPDIR/fp/pid")
	kill -0 "$pid"
	sleep 1.6
	run -7 curl -sS "$url/"
}

# --- credentials stand-in

@test "imds stand-in: IMDSv2 needs its token" {
	imds_start
	run -0 curl -sS -o /dev/null -w '%{http_code}' \
		"$IMDS_URL/latest/meta-data/iam/security-credentials/"
	[ "$output" = 401 ]
	run -0 curl -sS -o /dev/null -w '%{http_code}' -X PUT "$IMDS_URL/latest/api/token"
	[ "$output" = 400 ]
	local tok
	tok=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
		"$IMDS_URL/latest/api/token")
	run -0 curl -sS -H "X-aws-ec2-metadata-token: $tok" \
		"$IMDS_URL/latest/meta-data/iam/security-credentials/"
	[ "$output" = s3-put-test-role ]
	run -0 curl -sS -H "X-aws-ec2-metadata-token: $tok" \
		"$IMDS_URL/latest/meta-data/iam/security-credentials/s3-put-test-role"
	[ "$(jq -r '[.Code,.AccessKeyId,.SecretAccessKey,.Token]|join(" ")' <<<"$output")" = \
		"Success test:tester testing imds-standin-session-token" ]
}

@test "imds stand-in: aws takes IMDSv2 credentials and the store accepts them" {
	s3_mb "$B"
	imds_start -T tok-from-imds
	fault_proxy_start pass
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_URL/ S3_ENDPOINT=$FAULT_URL \
		s3_put "$B" k "$BATS_TEST_TMPDIR/small.csv"
	grep -q '^GET /latest/meta-data/iam/security-credentials/s3-put-test-role 200$' \
		"$IMDS_DIR/log"
	grep -qi '^x-amz-security-token: tok-from-imds' "$FAULT_DIR/heads"
	grep -qi '^authorization: .*SignedHeaders=[^,]*x-amz-security-token' "$FAULT_DIR/heads"
	AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing s3_get "$B" k "$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/small.csv" "$BATS_TEST_TMPDIR/back"
}

@test "imds stand-in: container credentials need the Authorization token" {
	s3_mb "$B"
	imds_start -a 'Bearer sekrit'
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=$IMDS_URL/v2/credentials/test
	AWS_CONTAINER_AUTHORIZATION_TOKEN='Bearer sekrit' run -0 s3_ls "$B"
	AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong run -255 --separate-stderr s3_ls "$B"
	[[ $stderr == *'(401)'* ]]
	run -0 curl -sS -H 'Authorization: Bearer sekrit' "$AWS_CONTAINER_CREDENTIALS_FULL_URI"
	[ "$(jq -r '[.AccessKeyId,.SecretAccessKey,.Token]|join(" ")' <<<"$output")" = \
		"test:tester testing imds-standin-session-token" ]
	[ "$(grep -c ' 401$' "$IMDS_DIR/log")" -ge 1 ]
}

@test "imds stand-in: a wrong secret from the stand-in is refused by the store" {
	s3_mb "$B"
	imds_start -s wrong
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$IMDS_URL/creds run -254 --separate-stderr s3_ls "$B"
	[[ $stderr == *SignatureDoesNotMatch* ]]
}
