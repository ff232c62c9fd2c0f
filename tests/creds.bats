#!/usr/bin/env bats
# The credential chain (issue 14): assumed roles, web identity, SSO,
# credential_process, and renewal before expiry. STS and the SSO portal are
# stand-ins (tests/lib/sts-standin, sso-standin) that check every request
# against botocore (Debian's awscli); what they issue is then used against
# the real Swift store, which takes the suite's key with any session token.

bats_require_minimum_version 1.5.0
load lib/s3
load lib/ddb

# the line s3-put adds to a failure when it keeps no body
NK=$'\n''s3-put: the body was not kept (no --keep-dir)'

setup_file() {
	B=$(s3_bucket creds)
	s3_mb "$B"
	export B
	# one STS and one SSO stand-in with default settings for the file (a
	# test that wants other settings starts its own): each takes seconds
	# to start, botocore being large
	standin_new FILE_STS sts "$BATS_FILE_TMPDIR" 900
	standin_new FILE_SSO sso "$BATS_FILE_TMPDIR" 900
	export FILE_STS_URL FILE_STS_DIR FILE_SSO_URL FILE_SSO_DIR
}

teardown_file() {
	_s3_helper_stop "$FILE_STS_DIR"
	_s3_helper_stop "$FILE_SSO_DIR"
}

setup() {
	T=$BATS_TEST_TMPDIR
	export HOME=$T/home
	mkdir -p "$HOME"
	export AWS_CONFIG_FILE=$T/config AWS_SHARED_CREDENTIALS_FILE=$T/credentials
	# the long-term key STS knows lives in profile "base" only
	printf '[base]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n' \
		>"$AWS_SHARED_CREDENTIALS_FILE"
	: >"$AWS_CONFIG_FILE"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	export AWS_ENDPOINT_URL_S3=$S3_ENDPOINT
	printf 'a,b\n1,2\n' >"$T/small.csv"
}

teardown() {
	fault_proxy_stop
	imds_stop
	_s3_helper_stop "${STS_DIR:-/nonexistent}"
	_s3_helper_stop "${SSO_DIR:-/nonexistent}"
	streams_stop
}

# standin_new PREFIX KIND BASE LIFE [ARGS...]: start tests/lib/KIND-standin
# (sts or sso) with ARGS in a new directory under BASE, to live LIFE
# seconds; sets PREFIX_URL and PREFIX_DIR
standin_new() {
	local prefix=$1 kind=$2 base=$3 life=$4 dir
	shift 4
	dir=$(mktemp -d "$base/$kind.XXXXXX")
	_s3_helper_start "$prefix" "$kind-standin" "$dir" -t "$life" "$@" "$dir"
}

# standin_test PREFIX KIND [ARGS...]: a KIND stand-in of its own for the
# test (without ARGS: the file's, FILE_PREFIX_*, its log emptied and its
# log and issued files linked into a directory of the test's); sets
# PREFIX_URL and PREFIX_DIR
standin_test() {
	local prefix=$1 kind=$2 shared=$BATS_TEST_TMPDIR/$2-shared
	shift 2
	if [ $# -eq 0 ]; then
		local -n file_url=FILE_${prefix}_URL file_dir=FILE_${prefix}_DIR
		printf -v "${prefix}_URL" '%s' "$file_url"
		printf -v "${prefix}_DIR" '%s' "$shared"
		mkdir -p "$shared"
		: >"$file_dir/log"
		ln -s "$file_dir/log" "$file_dir/issued" "$shared/"
	else
		standin_new "$prefix" "$kind" "$BATS_TEST_TMPDIR" 120 "$@"
	fi
}

# sts_start [ARGS...]: an STS stand-in of its own for the test (without
# ARGS: the file's, its log emptied); sets STS_URL, STS_DIR, and
# AWS_ENDPOINT_URL_STS points at it
sts_start() {
	standin_test STS sts "$@"
	export AWS_ENDPOINT_URL_STS=$STS_URL
}

# sso_start [ARGS...]: the same for the SSO portal stand-in;
# AWS_ENDPOINT_URL_SSO points at it
sso_start() {
	standin_test SSO sso "$@"
	export AWS_ENDPOINT_URL_SSO=$SSO_URL
}

# sts_log FILTER: jq over the stand-in's log, one result per line
sts_log() {
	jq -c "$@" "$STS_DIR/log"
}

config() {
	cat >>"$AWS_CONFIG_FILE"
}

# role NAME ROLE [LINE...]: add the profile NAME, which takes the role ROLE
# of account 123456789012, each LINE in it (source_profile = base, ...)
role() {
	printf '[profile %s]\nrole_arn = arn:aws:iam::123456789012:role/%s\n' "$1" "$2" | config
	[ $# -le 2 ] || printf '%s\n' "${@:3}" | config
}

# put_says STATUS MESSAGE ARGS...: s3-put ARGS, small.csv on its stdin,
# exits STATUS, and its stderr is MESSAGE exactly
put_says() {
	local want=$1 msg=$2
	shift 2
	run "-$want" --separate-stderr s3-put "$@" <"$T/small.csv"
	[ "$stderr" = "$msg" ]
}

# back KEY FILE: the object reads back (with the suite's key) as FILE
back() {
	AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing \
		s3_get "$B" "$1" "$T/back"
	cmp "$2" "$T/back"
}

# tokens_valid: every S3 request that went through the fault proxy carried
# a session token the stand-in (STS_DIR or SSO_DIR: $1) issued, unexpired
# at the request's X-Amz-Date; prints how many distinct tokens were used and
# how many requests. The X-Amz-Date of a token's first use may be the second
# before the stand-in's issue time: the tools' time(3) is the kernel's
# coarse clock, up to a tick (4 ms at HZ=250) behind Python's time.time()
tokens_valid() {
	python3 - "$1/issued" "$FAULT_DIR/heads" <<-'EOF'
	import sys, time, calendar, re
	issued = {}
	for line in open(sys.argv[1]):
	    t, a, b = line.split()
	    issued[t] = (float(a), float(b))
	used, reqs = set(), 0
	for head in ("\n" + open(sys.argv[2], errors="replace").read()).split("\n# ")[1:]:
	    d = re.search(r"(?im)^x-amz-date: *(\S+)", head)
	    tok = re.search(r"(?im)^x-amz-security-token: *(\S+)", head)
	    if not d or not tok or tok.group(1) not in issued:
	        sys.exit("request without an issued token: %r" % head[:200])
	    when = calendar.timegm(time.strptime(d.group(1), "%Y%m%dT%H%M%SZ"))
	    a, b = issued[tok.group(1)]
	    if not (int(a - 0.02) <= when < b):
	        sys.exit("token %s used at %d, valid %.0f..%.0f" % (tok.group(1), when, a, b))
	    used.add(tok.group(1))
	    reqs += 1
	print(len(used), reqs)
	EOF
}

# --- assumed roles --------------------------------------------------------

@test "creds: role_arn + source_profile: AssumeRole (SigV4 checked by botocore), then the store takes the role's credentials" {
	sts_start
	role r1 reader 'source_profile = base' 'role_session_name = nightly-load'
	fault_proxy_start pass
	run -0 --separate-stderr s3-put -v -p r1 -u "$FAULT_URL" "s3://$B/role/a.csv" <"$T/small.csv"
	[[ $stderr == *"s3-put: credentials from assumed role; region us-east-1; endpoint $FAULT_URL/$B"* ]]
	[[ $stderr == *"s3-put: > POST $STS_URL/"* ]]
	[ "$(sts_log '[.action,.status,.caller,.role,.session]')" = \
		'["AssumeRole",200,"test:tester","arn:aws:iam::123456789012:role/reader","nightly-load"]' ]
	tok=$(sts_log -r .issued)
	# nothing secret in -v: not the session token, not STS's answer
	[[ $stderr != *"$tok"* && $stderr != *testing* && $stderr != *SecretAccessKey* ]]
	[[ $stderr == *"x-amz-security-token: [redacted]"* ]]
	run -0 tokens_valid "$STS_DIR"
	[ "$output" = "1 1" ]
	back role/a.csv "$T/small.csv"
}

@test "creds: external_id, duration_seconds and the default session name go to STS" {
	sts_start
	role ext external-partner 'source_profile = base' 'external_id = ext-ok' 'duration_seconds = 1800'
	role ext-wrong external-partner 'source_profile = base' 'external_id = nope'
	run -0 s3-put -p ext "s3://$B/role/ext.csv" <"$T/small.csv"
	[ "$(sts_log '[.external,.duration]')" = '["ext-ok",1800]' ]
	[[ $(sts_log -r .session) =~ ^ddb-to-s3-[0-9]{10}$ ]]
	put_says 4 "s3-put: profile ext-wrong: assume role arn:aws:iam::123456789012:role/external-partner: HTTP 403 AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/external-partner$NK" -p ext-wrong "s3://$B/role/ext2.csv"
}

@test "creds: a role chain: each role is assumed with the credentials of the one before" {
	sts_start
	role top top 'source_profile = middle'
	role middle middle 'source_profile = base'
	run -0 s3-put -p top "s3://$B/role/chain.csv" <"$T/small.csv"
	run -0 sts_log '[.role,.caller,.issued]'
	[ "${#lines[@]}" -eq 2 ]
	first=$(jq -r .[2] <<<"${lines[0]}")
	[ "$(jq -r '.[0]+" "+.[1]' <<<"${lines[0]}")" = "arn:aws:iam::123456789012:role/middle test:tester" ]
	[ "$(jq -r '.[0]+" "+.[1]' <<<"${lines[1]}")" = "arn:aws:iam::123456789012:role/top $first" ]
}

@test "creds: a loop of source profiles, and a chain deeper than 8 roles, are refused before STS is asked" {
	sts_start
	role la a 'source_profile = lb'
	role lb b 'source_profile = la'
	role self self 'source_profile = self'
	put_says 4 "s3-put: profile lb: source_profile la makes a loop$NK" -p la "s3://$B/role/loop.csv"
	put_says 4 "s3-put: profile self: source_profile self makes a loop$NK" -p self "s3://$B/role/loop.csv"
	for i in 1 2 3 4 5 6 7 8 9; do
		printf '[profile d%d]\nrole_arn = arn:aws:iam::123456789012:role/d%d\nsource_profile = d%d\n' \
			"$i" "$i" $((i + 1))
	done | config
	printf '[profile d10]\nrole_arn = arn:aws:iam::123456789012:role/d10\nsource_profile = base\n' | config
	put_says 4 "s3-put: profile d9: more than 8 roles in a chain$NK" -p d1 "s3://$B/role/deep.csv"
	[ ! -s "$STS_DIR/log" ]
	# 8 deep is fine
	printf '[profile e8]\nrole_arn = arn:aws:iam::123456789012:role/e8\nsource_profile = d3\n' | config
	run -0 s3-put -p d3 "s3://$B/role/deep.csv" <"$T/small.csv"
	[ "$(wc -l <"$STS_DIR/log")" -eq 8 ]
}

@test "creds: a profile may take its own static keys as its source_profile" {
	sts_start
	cat >>"$AWS_SHARED_CREDENTIALS_FILE" <<-'EOF'
	[own]
	aws_access_key_id = test:tester
	aws_secret_access_key = testing
	EOF
	role own own 'source_profile = own'
	run -0 s3-put -p own "s3://$B/role/own.csv" <"$T/small.csv"
	[ "$(sts_log '[.role,.caller]')" = '["arn:aws:iam::123456789012:role/own","test:tester"]' ]
}

@test "creds: refusals of a role profile name the profile and the reason, in one line" {
	sts_start
	role mfa x 'source_profile = base' 'mfa_serial = arn:aws:iam::123456789012:mfa/me'
	role both x 'source_profile = base' 'credential_source = Environment'
	role neither x
	role gone x 'source_profile = nosuch'
	config <<-'EOF'
	[profile empty]
	region = us-east-1
	EOF
	role nokeys x 'source_profile = empty'
	role dur x 'source_profile = base' 'duration_seconds = 60'
	role badsrc x 'credential_source = Laptop'
	role denied denied-writer 'source_profile = base'
	put_says 4 "s3-put: profile mfa: mfa_serial is set, and no one is here to type an MFA code: use a role without MFA, or export the keys of aws sts get-session-token$NK" -p mfa "s3://$B/x"
	put_says 4 "s3-put: profile both: both source_profile and credential_source are set$NK" -p both "s3://$B/x"
	put_says 4 "s3-put: profile neither: role_arn needs source_profile or credential_source$NK" -p neither "s3://$B/x"
	put_says 4 "s3-put: profile gone: source_profile nosuch does not exist$NK" -p gone "s3://$B/x"
	put_says 4 "s3-put: profile nokeys: source_profile empty has no credentials$NK" -p nokeys "s3://$B/x"
	put_says 4 "s3-put: profile dur: duration_seconds is not 900 to 43200$NK" -p dur "s3://$B/x"
	put_says 4 "s3-put: profile badsrc: credential_source Laptop is none of Environment, Ec2InstanceMetadata, EcsContainer$NK" -p badsrc "s3://$B/x"
	[ ! -s "$STS_DIR/log" ]
	put_says 4 "s3-put: profile denied: assume role arn:aws:iam::123456789012:role/denied-writer: HTTP 403 AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/denied-writer$NK" -p denied "s3://$B/x"
}

@test "creds: STS throttling and 5xx are retried; when they last, exit 75" {
	sts_start -e 'Throttling,InternalFailure'
	role r1 reader 'source_profile = base'
	run -0 s3-put -g 0.01 -p r1 "s3://$B/role/retry.csv" <"$T/small.csv"
	[ "$(sts_log -r .status | tr '\n' ' ')" = "400 500 200 " ]
	_s3_helper_stop "$STS_DIR"
	sts_start -e 'ServiceUnavailable*9'
	put_says 75 "s3-put: profile r1: assume role arn:aws:iam::123456789012:role/reader: HTTP 503 ServiceUnavailable: injected by the test (after 3 attempts)$NK" -a 3 -g 0.01 -p r1 "s3://$B/role/retry.csv"
	[ "$(wc -l <"$STS_DIR/log")" -eq 3 ]
}

@test "creds: credential_source Environment, EcsContainer, Ec2InstanceMetadata" {
	# the container's and the instance's session token is one STS knows
	echo 'imds-tok 0 4102444800' >"$T/known"
	sts_start -i "$T/known"
	role fromenv env 'credential_source = Environment'
	role fromecs ecs 'credential_source = EcsContainer'
	role fromec2 ec2 'credential_source = Ec2InstanceMetadata'
	# -p: the environment's keys are not the chain's, only the source's
	AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing \
		run -0 s3-put -p fromenv "s3://$B/role/env.csv" <"$T/small.csv"
	put_says 4 "s3-put: profile fromenv: credential_source Environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set$NK" -p fromenv "s3://$B/role/env.csv"
	imds_start -T imds-tok
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$IMDS_URL/v2/credentials/x \
		run -0 s3-put -p fromecs "s3://$B/role/ecs.csv" <"$T/small.csv"
	unset AWS_EC2_METADATA_DISABLED
	AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_URL run -0 s3-put -p fromec2 "s3://$B/role/ec2.csv" <"$T/small.csv"
	[ "$(sts_log '[.role,.caller]' | tr '\n' ' ')" = '["arn:aws:iam::123456789012:role/env","test:tester"] ["arn:aws:iam::123456789012:role/ecs","imds-tok"] ["arn:aws:iam::123456789012:role/ec2","imds-tok"] ' ]
	grep -q '^GET /v2/credentials/x 200$' "$IMDS_DIR/log"
	grep -q '^GET /latest/meta-data/iam/security-credentials/s3-put-test-role 200$' "$IMDS_DIR/log"
}

# --- web identity ---------------------------------------------------------

@test "creds: web identity from the environment: AssumeRoleWithWebIdentity, unsigned, the token file read" {
	sts_start -w "$(printf 'eyJ%.0s' 1 2 3)"
	printf 'eyJeyJeyJ\n' >"$T/wi-token"
	export AWS_WEB_IDENTITY_TOKEN_FILE=$T/wi-token
	export AWS_ROLE_ARN=arn:aws:iam::123456789012:role/pod AWS_ROLE_SESSION_NAME=pod-7
	fault_proxy_start pass
	run -0 --separate-stderr s3-put -v -u "$FAULT_URL" "s3://$B/wi/a.csv" <"$T/small.csv"
	[[ $stderr == *"s3-put: credentials from web identity;"* ]]
	[[ $stderr != *eyJeyJeyJ* ]]
	[ "$(sts_log '[.action,.status,.role,.session]')" = \
		'["AssumeRoleWithWebIdentity",200,"arn:aws:iam::123456789012:role/pod","pod-7"]' ]
	run -0 tokens_valid "$STS_DIR"
	back wi/a.csv "$T/small.csv"
	printf 'forged\n' >"$T/wi-token"
	put_says 4 "s3-put: web identity role arn:aws:iam::123456789012:role/pod (AWS_ROLE_ARN): HTTP 400 InvalidIdentityToken: The web identity token that was passed could not be validated by AWS.$NK" "s3://$B/wi/b.csv"
	rm "$T/wi-token"
	put_says 3 "s3-put: web identity role arn:aws:iam::123456789012:role/pod (AWS_ROLE_ARN): $T/wi-token: No such file or directory" "s3://$B/wi/b.csv"
	unset AWS_ROLE_ARN
	put_says 4 "s3-put: web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but no role: set AWS_ROLE_ARN or role_arn in profile default$NK" "s3://$B/wi/b.csv"
}

@test "creds: web_identity_token_file in a profile; the environment's keys come first" {
	sts_start
	printf 'web-identity-token' >"$T/tok"
	config <<-EOF
	[profile wi]
	web_identity_token_file = $T/tok
	role_arn = arn:aws:iam::123456789012:role/ci
	EOF
	run -0 s3-put -p wi "s3://$B/wi/p.csv" <"$T/small.csv"
	[ "$(sts_log '[.action,.role]')" = '["AssumeRoleWithWebIdentity","arn:aws:iam::123456789012:role/ci"]' ]
	# AWS_PROFILE (not -p) leaves the environment's keys first
	AWS_PROFILE=wi AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing \
		run -0 --separate-stderr s3-put -v "s3://$B/wi/p.csv" <"$T/small.csv"
	[[ $stderr == *"credentials from environment;"* ]]
	[ "$(wc -l <"$STS_DIR/log")" -eq 1 ]
}

@test "creds: the order: a profile's role_arn before the environment's web identity, which -p leaves out" {
	sts_start
	printf 'web-identity-token' >"$T/tok"
	export AWS_WEB_IDENTITY_TOKEN_FILE=$T/tok AWS_ROLE_ARN=arn:aws:iam::123456789012:role/pod
	role r1 reader 'source_profile = base'
	AWS_PROFILE=r1 run -0 s3-put "s3://$B/order/a.csv" <"$T/small.csv"
	[ "$(sts_log '[.action,.role]')" = '["AssumeRole","arn:aws:iam::123456789012:role/reader"]' ]
	run -0 s3-put "s3://$B/order/b.csv" <"$T/small.csv"
	[ "$(sts_log -r .action | tail -1)" = AssumeRoleWithWebIdentity ]
	run -0 --separate-stderr s3-put -v -p base "s3://$B/order/c.csv" <"$T/small.csv"
	[[ $stderr == *"credentials from profile;"* ]]
	[ "$(wc -l <"$STS_DIR/log")" -eq 2 ]
}

# --- credential_process ---------------------------------------------------

@test "creds: credential_process: words split like a shell, no shell; its JSON; its failures" {
	mkdir -p "$T/bin dir"
	cat >"$T/bin dir/helper" <<-'EOF'
	#!/bin/sh
	# helper MODE ARG: prints credentials as the AWS CLI wants them
	[ "$2" = "two words" ] || { echo "helper: bad argument: $2" >&2; exit 9; }
	case $1 in
	ok) printf '{"Version": 1, "AccessKeyId": "test:tester", "SecretAccessKey": "testing", "SessionToken": "proc-tok", "Expiration": "2099-01-01T00:00:00Z"}\n' ;;
	v2) printf '{"Version": 2, "AccessKeyId": "test:tester", "SecretAccessKey": "testing"}\n' ;;
	nokey) printf '{"Version": 1, "AccessKeyId": "test:tester"}\n' ;;
	junk) echo 'not json' ;;
	esac
	EOF
	chmod +x "$T/bin dir/helper"
	for m in ok v2 nokey junk; do
		printf '[profile p-%s]\ncredential_process = "%s/bin dir/helper" %s '"'"'two words'"'"'\n' "$m" "$T" "$m"
	done | config
	printf '[profile p-bad]\ncredential_process = "%s/bin dir/helper" ok three words\n' "$T" | config
	printf '[profile p-quote]\ncredential_process = "%s/bin dir/helper\n' "$T" | config
	printf '[profile p-none]\ncredential_process = /nonexistent/helper\n' | config
	fault_proxy_start pass
	run -0 --separate-stderr s3-put -v -p p-ok -u "$FAULT_URL" "s3://$B/proc/a.csv" <"$T/small.csv"
	[[ $stderr == *"credentials from credential_process;"* ]]
	grep -qi '^x-amz-security-token: proc-tok' "$FAULT_DIR/heads"
	back proc/a.csv "$T/small.csv"
	put_says 4 "s3-put: profile p-v2: credential_process: its output's Version is not 1$NK" -p p-v2 "s3://$B/proc/b.csv"
	put_says 4 "s3-put: profile p-nokey: credential_process: no credentials in the answer$NK" -p p-nokey "s3://$B/proc/b.csv"
	put_says 4 "s3-put: profile p-junk: credential_process: its output is no JSON object$NK" -p p-junk "s3://$B/proc/b.csv"
	put_says 4 "helper: bad argument: three
s3-put: profile p-bad: credential_process $T/bin dir/helper exited with status 9$NK" -p p-bad "s3://$B/proc/b.csv"
	put_says 4 "s3-put: profile p-quote: credential_process: a quote is not closed$NK" -p p-quote "s3://$B/proc/b.csv"
	put_says 4 "s3-put: profile p-none: credential_process: /nonexistent/helper: No such file or directory$NK" -p p-none "s3://$B/proc/b.csv"
}

@test "creds: a credential_process that hangs (or leaves a child holding its output) is killed with what it started after DDB_CREDENTIAL_PROCESS_TIMEOUT: exit 75, said" {
	cat >"$T/hang" <<-'EOF'
	#!/bin/sh
	# a child that keeps stdout open, its pid in $1, then a hang
	sleep 300 & echo $! >"$1"
	exec sleep 300
	EOF
	chmod +x "$T/hang"
	printf '[profile p-hang]\ncredential_process = %s %s\n' "$T/hang" "$T/child" | config
	SECONDS=0
	DDB_CREDENTIAL_PROCESS_TIMEOUT=1.5 put_says 75 "s3-put: profile p-hang: credential_process $T/hang gave no answer in 1.5 s: killed$NK" \
		-p p-hang -u http://127.0.0.1:9 "s3://$B/proc/c.csv"
	[ "$SECONDS" -lt 10 ]
	! kill -0 "$(cat "$T/child")" 2>/dev/null
	# the answer given, the process does not exit: the same
	cat >"$T/linger" <<-'EOF'
	#!/bin/sh
	printf '{"Version": 1, "AccessKeyId": "test:tester", "SecretAccessKey": "testing"}\n'
	exec sleep 300 >/dev/null
	EOF
	chmod +x "$T/linger"
	printf '[profile p-linger]\ncredential_process = %s\n' "$T/linger" | config
	DDB_CREDENTIAL_PROCESS_TIMEOUT=1 put_says 75 "s3-put: profile p-linger: credential_process $T/linger gave no answer in 1 s: killed$NK" \
		-p p-linger -u http://127.0.0.1:9 "s3://$B/proc/c.csv"
}

# --- SSO ------------------------------------------------------------------

# sso_cache KEY TOKEN EXPIRES: the file `aws sso login` writes
sso_cache() {
	local f
	mkdir -p "$HOME/.aws/sso/cache"
	f=$HOME/.aws/sso/cache/$(printf '%s' "$1" | sha1sum | cut -d' ' -f1).json
	printf '{"startUrl": "https://my-org.awsapps.com/start", "region": "eu-west-1", "accessToken": "%s", "expiresAt": "%s"}\n' \
		"$2" "$3" >"$f"
}

# in_an_hour: the time an hour from now, as sso_cache wants it
in_an_hour() {
	date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ
}

# sso_dev [LINE...]: add the profile dev (the role DataLoader of account
# 123456789012 through the sso-session my-sso) and that session, each LINE
# in the session
sso_dev() {
	config <<-'EOF'
	[profile dev]
	sso_session = my-sso
	sso_account_id = 123456789012
	sso_role_name = DataLoader
	[sso-session my-sso]
	sso_start_url = https://my-org.awsapps.com/start
	sso_region = eu-west-1
	EOF
	[ $# -eq 0 ] || printf '%s\n' "$@" | config
}

@test "creds: sso_session profile: the cached token (sha1 of the session name), GetRoleCredentials unsigned, the store takes the role's credentials" {
	sso_start -a sso-bearer-1
	sso_dev 'sso_registration_scopes = sso:account:access'
	sso_cache my-sso sso-bearer-1 "$(in_an_hour)"
	fault_proxy_start pass
	run -0 --separate-stderr s3-put -v -p dev -u "$FAULT_URL" "s3://$B/sso/a.csv" <"$T/small.csv"
	[[ $stderr == *"s3-put: > GET $SSO_URL/federation/credentials?account_id=123456789012&role_name=DataLoader"* ]]
	[[ $stderr == *"s3-put: > x-amz-sso_bearer_token: [redacted]"* ]]
	[[ $stderr == *"credentials from SSO;"* ]]
	[[ $stderr != *sso-bearer-1* && $stderr != *sso1-* ]]
	[ "$(jq -c '[.status,.account,.role]' "$SSO_DIR/log")" = '[200,"123456789012","DataLoader"]' ]
	run -0 tokens_valid "$SSO_DIR"
	[ "$output" = "1 1" ]
	back sso/a.csv "$T/small.csv"
}

@test "creds: legacy SSO profile: the token cached under the sha1 of the start URL" {
	sso_start
	config <<-'EOF'
	[profile old]
	sso_start_url = https://my-org.awsapps.com/start
	sso_region = eu-west-1
	sso_account_id = 123456789012
	sso_role_name = DataLoader
	EOF
	sso_cache https://my-org.awsapps.com/start sso-access-token "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SUTC)"
	run -0 s3-put -p old "s3://$B/sso/old.csv" <"$T/small.csv"
	[ "$(jq -c '[.status,.role]' "$SSO_DIR/log")" = '[200,"DataLoader"]' ]
}

@test "creds: SSO refusals say to run aws sso login --profile NAME" {
	sso_start
	sso_dev
	config <<-'EOF'
	[profile denied]
	sso_session = my-sso
	sso_account_id = 123456789012
	sso_role_name = denied-role
	[profile half]
	sso_session = my-sso
	sso_role_name = DataLoader
	[profile nosess]
	sso_session = other
	sso_account_id = 123456789012
	sso_role_name = DataLoader
	EOF
	f=$HOME/.aws/sso/cache/$(printf my-sso | sha1sum | cut -d' ' -f1).json
	put_says 4 "s3-put: profile dev: SSO: no token cached ($f: No such file or directory): run aws sso login --profile dev$NK" -p dev "s3://$B/x"
	sso_cache my-sso sso-access-token 2020-01-01T00:00:00Z
	put_says 4 "s3-put: profile dev: SSO: the token expired at 2020-01-01T00:00:00Z: run aws sso login --profile dev$NK" -p dev "s3://$B/x"
	sso_cache my-sso revoked-token "$(in_an_hour)"
	put_says 4 "s3-put: profile dev: SSO portal: HTTP 401: the token is not valid: run aws sso login --profile dev$NK" -p dev "s3://$B/x"
	sso_cache my-sso sso-access-token "$(in_an_hour)"
	put_says 4 "s3-put: profile denied: SSO portal: HTTP 403 for account 123456789012, role denied-role$NK" -p denied "s3://$B/x"
	put_says 4 "s3-put: profile half: SSO: missing sso_account_id$NK" -p half "s3://$B/x"
	put_says 4 "s3-put: profile nosess: sso_session other: no [sso-session other] in the config file$NK" -p nosess "s3://$B/x"
	echo '{"accessToken": "x"}' >"$f"
	put_says 4 "s3-put: profile dev: SSO: $f holds no token and expiry: run aws sso login --profile dev$NK" -p dev "s3://$B/x"
}

@test "creds: the SSO portal's 429 and 5xx are retried" {
	sso_start -e '429,500'
	sso_dev
	sso_cache my-sso sso-access-token "$(in_an_hour)"
	run -0 s3-put -p dev "s3://$B/sso/retry.csv" <"$T/small.csv"
	[ "$(jq -r .status "$SSO_DIR/log" | tr '\n' ' ')" = "429 500 200 " ]
}

@test "creds: an SSO profile as a role's source_profile" {
	sso_start
	sts_start -i "$SSO_DIR/issued"
	config <<-'EOF'
	[profile prod]
	role_arn = arn:aws:iam::210987654321:role/loader
	source_profile = dev
	EOF
	sso_dev
	sso_cache my-sso sso-access-token "$(in_an_hour)"
	run -0 s3-put -p prod "s3://$B/sso/prod.csv" <"$T/small.csv"
	sso_tok=$(jq -r .issued "$SSO_DIR/log")
	[ "$(sts_log -r .caller)" = "$sso_tok" ]
}

# --- the default endpoint -------------------------------------------------

@test "creds: STS's default endpoint is the region's (sts.REGION.amazonaws.com)" {
	role r1 reader 'source_profile = base' 'region = eu-central-1'
	unset AWS_DEFAULT_REGION
	run ! --separate-stderr timeout 60 s3-put -v -a 1 -p r1 "s3://$B/x" <"$T/small.csv"
	[[ $stderr == *"s3-put: > POST https://sts.eu-central-1.amazonaws.com/"* ]]
}

# --- renewal --------------------------------------------------------------

@test "creds: credentials that expire during a multipart upload are renewed before the next part, and the upload completes" {
	# role credentials live 4 s and are renewed at half that; the proxy
	# stalls every other request for 2 s, so the upload outlives several.
	# No -W 1: a stall ends when the proxy closes, and a 1 s stall timeout
	# would also end STS calls that a loaded machine answers slowly
	sts_start -x 4
	role r1 reader 'source_profile = base'
	head -c $((5 * 1024 * 1024 * 4 + 1000)) /dev/urandom >"$T/big"
	fault_proxy_start 'pass*2,stall:2,pass,stall:2,pass,stall:2,pass,stall:2'
	SECONDS=0
	run -0 --separate-stderr s3-put -v -g 0.01 -P 5M -p r1 -u "$FAULT_URL" "s3://$B/renew/big" <"$T/big"
	echo "# upload took ${SECONDS}s; $(wc -l <"$STS_DIR/log") AssumeRole calls" >&3
	[ "$(grep -c 'credentials from assumed role renewed' <<<"$stderr")" -ge 2 ]
	[ "$(jq -r .status "$STS_DIR/log" | sort -u)" = 200 ]
	[ "$(wc -l <"$STS_DIR/log")" -ge 3 ]
	run -0 tokens_valid "$STS_DIR"
	echo "# tokens used, S3 requests: $output" >&3
	[ "${output% *}" -ge 3 ]
	back renew/big "$T/big"
}

@test "creds: a renewal that fails after the credentials expired ends the upload; nothing is signed with them (they were judged valid at its start)" {
	# credentials live 4 s and are renewed at half that; STS stops
	# answering once s3-put has them (SIGSTOP), so the renewal when part 1
	# is sent again, after a 2.5 s stall, is still timing out (3 times 1 s)
	# when they expire. The abort that follows tries once more.
	sts_start -x 4
	role r1 reader 'source_profile = base'
	head -c $((5 * 1024 * 1024 * 2 + 1000)) /dev/urandom >"$T/big"
	fault_proxy_start 'pass*2,stall:2.5'
	pid=$(cat "$STS_DIR/pid")
	( for i in $(seq 1000); do
		[ "$(cat "$FAULT_DIR/count")" -eq 0 ] || { kill -STOP "$pid"; break; }
		sleep 0.02
	  done ) 3>&- &
	run --separate-stderr s3-put -W 1 -a 3 -g 0.01 -P 5M -p r1 -u "$FAULT_URL" "s3://$B/renew/fail" <"$T/big"
	wait
	kill -CONT "$pid"
	[ "$status" -eq 75 ]
	m='s3-put: profile r1: assume role arn:aws:iam::123456789012:role/reader: Operation too slow. Less than 1024 bytes/sec transferred the last 1 seconds (after 3 attempts)'
	[ "$stderr" = "$m"$'\n'"$m$NK" ]
	# without the fix part 1 went again, signed with the expired token
	run -0 tokens_valid "$STS_DIR"
	[ "${output% *}" = 1 ]
}

@test "creds: ddb-stream renews role credentials before they expire: no request is refused as expired" {
	# credentials live 2 s; the stand-in answers every GetRecords after 1 s
	# and takes only tokens STS issued, unexpired
	sts_start -x 2
	role r1 reader 'source_profile = base'
	recs=$(for i in 1 2 3 4 5 6 7 8; do printf '%s{"dynamodb":{"Keys":{"id":{"S":"k%d"}},"NewImage":{"id":{"S":"k%d"}}}}' "${i#1}" "$i" "$i"; done | sed 's/}}}}\([0-9]\)/}}}},/g')
	cat >"$T/s.json" <<-EOF
	{"streams": [{"table": "student", "shards": [
	  {"id": "shardId-00000000000000000001-aaaaaaaa", "closed": true,
	   "pages": [2, 2, 2, 2], "records": [$recs]}]}],
	 "faults": [{"op": "GetRecords", "call": 1, "times": 5, "delay": 1}]}
	EOF
	streams_start "$T/s.json" -I "$STS_DIR/issued"
	SECONDS=0
	run -0 --separate-stderr ddb-stream -p r1 -u "$STREAMS_URL" --state "$T/st" student \
		sh -c 'cat >>"$0"' "$T/out"
	echo "# ddb-stream ran ${SECONDS}s; $(wc -l <"$STS_DIR/log") AssumeRole calls" >&3
	[ "$(jq -r .dynamodb.Keys.id.S "$T/out" | tr -d '\n')" = k1k2k3k4k5k6k7k8 ]
	! jq -e 'select(.error != null)' "$STREAMS_DIR/log"
	[ "$(wc -l <"$STS_DIR/log")" -ge 3 ]
}
