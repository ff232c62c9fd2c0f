# ddb-to-s3: DynamoDB Streams records to CSV objects on S3
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
O ?= build
# the suite's one version: every tool's --version (-DDDB_VERSION) and, through
# ddb-flatten --version, the scripts'
VERSION = 0.1.0

override CPPFLAGS += -D_GNU_SOURCE -DDDB_VERSION='"$(VERSION)"' -Icommon -Iaws
override CFLAGS += -std=c11 -Wall -Wextra -Wshadow -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags libcurl zlib expat)

TOOLS = ddb-flatten ddb-expand csv-emit parquet-emit s3-put ddb-esm ddb-stream ddb-scan
BIN = $(TOOLS:%=$(O)/bin/%)
COMMON = $(O)/common/util.o $(O)/common/reader.o $(O)/common/reader-fast.o \
	$(O)/common/reader-map.o $(O)/common/reader-split.o $(O)/common/pyrepr.o \
	$(O)/common/json.o $(O)/common/gz.o
# what any AWS client needs: signer, credentials, HTTP, the JSON 1.0 client
AWS = $(O)/aws/sigv4.o $(O)/aws/creds.o $(O)/aws/http.o $(O)/aws/awsjson.o \
	$(O)/aws/profile.o $(O)/aws/sts.o $(O)/aws/sso.o $(O)/aws/process.o \
	$(O)/aws/xml.o
# what a tool with a state directory and a consumer needs (ddb-stream, ddb-scan)
STATEDIR = $(O)/common/statedir.o

all: $(BIN)

$(O)/bin/ddb-flatten: $(O)/ddb-flatten/ddb-flatten.o $(O)/ddb-flatten/formats.o \
	$(O)/ddb-flatten/output.o $(COMMON)
$(O)/bin/ddb-expand: $(O)/ddb-expand/ddb-expand.o $(COMMON)
$(O)/bin/csv-emit: $(O)/csv-emit/csv-emit.o $(O)/csv-emit/names.o \
	$(O)/csv-emit/spool.o $(O)/csv-emit/jsonl.o $(COMMON)
# csv-emit's code compiled in (parquet-emit.c includes csv-emit.c)
$(O)/bin/parquet-emit: $(O)/parquet-emit/parquet-emit.o \
	$(O)/parquet-emit/parquet.o $(O)/csv-emit/names.o $(O)/csv-emit/spool.o \
	$(O)/csv-emit/jsonl.o \
	$(COMMON)
# libsnappy (C++, libstdc++) is opened only for -z snappy: not linked
$(O)/bin/parquet-emit: LDLIBS += $(shell $(PKG_CONFIG) --libs libzstd) -lm -lpthread
$(O)/bin/s3-put: $(O)/s3-put/s3-put.o $(O)/s3-put/s3.o $(O)/s3-put/body.o \
	$(O)/s3-put/upload.o $(AWS) $(COMMON)
$(O)/bin/ddb-esm: $(O)/ddb-esm/ddb-esm.o $(COMMON)
# bootstrap's Runtime API loop: libcurl's easy interface, one handle, no
# process per invocation; for the Lambda package (scripts/lambda-zip,
# which links a libcurl of HTTP alone: LAMBDA_CURL_PKG), built by all,
# never installed
LAMBDA = $(O)/bin/ddb-lambda
LAMBDA_CURL_PKG = libcurl
all: $(LAMBDA)
$(LAMBDA): $(O)/ddb-lambda/ddb-lambda.o $(O)/common/util.o $(O)/common/json.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs $(LAMBDA_CURL_PKG))

# ddb-esm prices its bills from the table BENCHMARKS.md uses, read at build
# time: PRICE_key for each row, PRICE_DATE the latest look-up
$(O)/ddb-esm/prices.h: ddb-esm/prices.tsv
	@mkdir -p $(@D)
	awk -F '\t' '!/^#/ && $$1 != "key" { \
		if ($$2 !~ /^[0-9]+(\.[0-9]+)?$$/) { print FILENAME ": " $$1 ": bad price" > "/dev/stderr"; exit 1 } \
		printf "#define PRICE_%s %s\n", $$1, $$2; if ($$5 > d) d = $$5 } \
		END { printf "#define PRICE_DATE \"%s\"\n", d }' $< > $@.tmp
	mv $@.tmp $@
$(O)/ddb-esm/ddb-esm.o: $(O)/ddb-esm/prices.h
$(O)/ddb-esm/ddb-esm.o: override CPPFLAGS += -I$(O)/ddb-esm
$(O)/bin/ddb-esm: LDLIBS += -lm
$(O)/bin/ddb-stream: $(O)/ddb-stream/ddb-stream.o $(O)/ddb-stream/state.o \
	$(STATEDIR) $(AWS) $(COMMON)
$(O)/bin/ddb-scan: $(O)/ddb-scan/ddb-scan.o $(O)/ddb-scan/state.o \
	$(STATEDIR) $(AWS) $(COMMON)

# unit test of the SigV4 signer, run by tests/s3-put.bats
$(O)/tests/sigv4-test: $(O)/tests/sigv4-test.o $(O)/aws/sigv4.o $(O)/common/json.o \
	$(O)/common/util.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libcrypto)

# csv-emit's row paths against each other, run by tests/csv-emit.bats
$(O)/tests/rowpath-test: $(O)/tests/rowpath-test.o $(O)/csv-emit/names.o \
	$(O)/csv-emit/spool.o $(O)/csv-emit/jsonl.o $(COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs zlib)

# the reader's fast paths give what its plain path gives (tests/reader-diff.c),
# run by tests/reader.bats
$(O)/tests/reader-diff: $(O)/tests/reader-diff.o $(COMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs zlib)

# unit test of the XML reader on captured and documented answers, run by
# tests/s3-put.bats
$(O)/tests/xml-test: $(O)/tests/xml-test.o $(O)/aws/xml.o $(O)/common/util.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs expat)

$(BIN):
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# common/gz.c inflates gzip input (DynamoDB's exports) with zlib
$(BIN): LDLIBS += $(shell $(PKG_CONFIG) --libs zlib)
# no tool links json-c: it clamps integers beyond 64 bits (README)
$(O)/bin/s3-put $(O)/bin/ddb-stream $(O)/bin/ddb-scan: LDLIBS += \
	$(shell $(PKG_CONFIG) --libs libcurl libcrypto expat)
$(O)/bin/ddb-scan: LDLIBS += -lpthread -lm
$(O)/bin/ddb-stream: LDLIBS += -lpthread
$(O)/bin/ddb-flatten: LDLIBS += $(shell $(PKG_CONFIG) --libs libcrypto)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# the bats suite runs the tools from $(O)/bin, JOBS test files at a time
# (GNU parallel; each file's tests in order): the longest first, so that no
# long one is left running alone at the end (lambda-zip builds libcurl four
# times and every package in a fresh clone; the crash matrix), then the
# rest largest first; JOBS=1 runs them one after another. Three on two
# processors: a third of the time the suite waits (servers, sleeps,
# timeouts) with a processor idle. Under valgrind (VALGRIND_JOBS) nothing
# waits for long and two are enough.
JOBS ?= 3
VALGRIND_JOBS ?= 2
LONG_TESTS = tests/lambda-zip.bats tests/crash-matrix.bats
TESTS = $(LONG_TESTS) $(filter-out $(LONG_TESTS),$(shell ls -S tests/*.bats))
bats_jobs = bats $(if $(filter-out 1,$(1)),--jobs $(1) --no-parallelize-within-files)
BATS = $(call bats_jobs,$(JOBS))
# the tests of the packages build them with their own flags into build/
# (lambda-zip: -O2, every library linked in; deb: Debian's) and run what
# they built, never $(O)/bin's tools: the same in every pass, so
# check-sanitize and valgrind, whose point is $(O)/bin under a checker,
# leave them to check
PACKAGE_TESTS = tests/lambda-zip.bats tests/deb.bats
CHECK_TESTS = $(TESTS)
check: all lint $(O)/tests/sigv4-test $(O)/tests/xml-test $(O)/tests/rowpath-test $(O)/tests/reader-diff
	PATH="$(abspath $(O))/bin:$(CURDIR)/scripts:$$PATH" $(BATS) $(CHECK_TESTS)

lint:
	mandoc -Tlint -W warning man/*.[1-9]

SANFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
check-sanitize:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) O=build-san CFLAGS="$(SANFLAGS)" LDFLAGS="$(SANFLAGS)" \
		CHECK_TESTS="$(filter-out $(PACKAGE_TESTS),$(TESTS))" check

# make bench: the tools against jq, jq + Miller and a pandas handler
# (bench/run, BENCH_* settings there); never part of check
$(O)/bench/gen: $(O)/bench/gen.o $(O)/common/util.o
	$(CC) $(LDFLAGS) -o $@ $^
bench: $(O)/bin/ddb-flatten $(O)/bin/ddb-expand $(O)/bin/csv-emit $(O)/bin/parquet-emit $(O)/bin/ddb-esm \
	$(O)/bin/s3-put $(LAMBDA) $(O)/bench/gen
	O=$(O) sh bench/run

# libFuzzer + ASan + UBSan harnesses (tests/fuzz): fuzz runs each for
# FUZZ_SECONDS and keeps growing build-fuzz/corpus; fuzz-ci (CI) runs each a
# fixed number of inputs with a fixed seed from the seed corpus alone.
# valgrind: the bats suite with every tool under valgrind memcheck
FUZZ_SECONDS ?= 60
fuzz: $(O)/bench/gen
	O=$(O) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run
fuzz-ci: $(O)/bench/gen
	O=$(O) sh tests/fuzz/run -c
valgrind: all $(O)/tests/sigv4-test $(O)/tests/xml-test $(O)/tests/rowpath-test $(O)/tests/reader-diff
	O=$(O) BATS="$(call bats_jobs,$(VALGRIND_JOBS))" sh tests/valgrind $(filter-out $(PACKAGE_TESTS),$(TESTS))

# a deployment package for Lambda's provided.al2023 on ARCH (x86_64, or
# arm64 cross-compiled), bootstrap at its root, its tools built in
# $(O)/lambda-ARCH with every library but glibc linked in; fails if any
# file in it needs a glibc newer than 2.34 (scripts/deps cross first)
ARCH ?= x86_64
lambda-zip:
	sh scripts/lambda-zip $(ARCH) $(O)/ddb-to-s3-lambda-$(ARCH).zip \
		$(O)/lambda-$(ARCH)
.PHONY: lambda-zip

# the Debian package (debian/, debhelper), built from a copy of the
# checkout in $(O)/deb; lintian must say no error or warning
# (scripts/deps deb installs debhelper and lintian)
deb:
	sh scripts/deb $(O)/deb
.PHONY: deb

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(BIN) scripts/ddb-to-s3 $(DESTDIR)$(BINDIR)
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check lint check-sanitize install clean bench fuzz fuzz-ci valgrind
