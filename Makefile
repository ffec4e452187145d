# dfs -- one non-recursive Makefile.  Everything built lands in $(BUILD)/;
# rpcgen output in $(BUILD)/gen/ (never committed).  Local overrides go in
# config.mak (CC, CFLAGS, PREFIX, ...).

BUILD	?= build
GEN	 = $(BUILD)/gen
BIN	 = $(BUILD)/bin
PREFIX	?= /usr/local
DESTDIR	?=
RPCGEN	?= rpcgen
CC	?= cc
CFLAGS	?= -O2 -g

VERSION	 = 0.1.0

TIRPC_CFLAGS := $(shell pkg-config --cflags libtirpc 2>/dev/null)
TIRPC_LIBS   := $(shell pkg-config --libs libtirpc 2>/dev/null)

WERROR	 = -Werror
ifdef NO_WERROR
WERROR	 =
endif
DFS_WARN   = -Wall -Wextra $(WERROR) -Wshadow -Wpointer-arith \
	     -Wstrict-prototypes -Wmissing-prototypes
DFS_CFLAGS = -std=c11 -D_GNU_SOURCE -DDFS_VERSION='"$(VERSION)"' \
	     -I$(GEN) -Ilib -Iclient $(TIRPC_CFLAGS) -MMD -MP -fPIC
# rpcgen's output trips exactly these under gcc 12; ours must not.
GEN_CFLAGS = -std=c11 -D_GNU_SOURCE -I$(GEN) $(TIRPC_CFLAGS) -MMD -MP -fPIC \
	     -Wall -Wextra $(WERROR) -Wno-unused-variable \
	     -Wno-cast-function-type -Wno-unused-parameter
LDLIBS	 = $(TIRPC_LIBS) -lgdbm -lxxhash -linih
# The command-line tools link libtirpc.so like everything else, so that
# RPCSEC_GSS (Kerberos) stays possible in them.  STATIC_TIRPC=1 (opt-in)
# links them with libtirpc.a, when its archive is there, and a GSS-API
# that has no mechanism (client/gssnull/gss_null.c): no Kerberos
# libraries to load, so each tool starts a little sooner
# (docs/BENCHMARKS.md, "Static libtirpc in the tools").
STATIC_TIRPC ?= 0
TIRPC_A	 := $(wildcard $(shell $(CC) -print-file-name=libtirpc.a))
ifeq ($(STATIC_TIRPC)$(if $(TIRPC_A),y),1y)
GSSNULL_OBJ = $(BUILD)/client/gssnull/gss_null.o
TOOL_LDLIBS = $(GSSNULL_OBJ) $(TIRPC_A) -lpthread -lxxhash -linih
else
GSSNULL_OBJ =
TOOL_LDLIBS = $(LDLIBS)
endif
CUNIT_LIBS = -lcunit

PROTOS	 = dfs_types name lock file
PROGS	 = name lock file
GEN_H	 = $(PROTOS:%=$(GEN)/%.h)
PROTO_SRCS = $(PROTOS:%=$(GEN)/%_xdr.c) $(PROGS:%=$(GEN)/%_clnt.c)
PROTO_OBJS = $(PROTO_SRCS:.c=.o)

LIB_SRCS = $(wildcard lib/*.c)
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
COMMON_A = $(BUILD)/libdfscommon.a

# Each daemon: main.o + an archive of its other modules (the dispatcher is
# lib/dispatch.c, not rpcgen's -m output, which leaks on decode errors),
# which unit tests link too (only the objects a test references come in).
srv_objs   = $(patsubst %.c,$(BUILD)/%.o,$(filter-out server/$(1)/main.c,\
	     $(wildcard server/$(1)/*.c)))
NAMED_A	   = $(BUILD)/libnamed.a
LOCKD_A	   = $(BUILD)/liblockd.a
FILED_A	   = $(BUILD)/libfiled.a
DAEMONS	 = $(BIN)/dfs-named $(BIN)/dfs-lockd $(BIN)/dfs-filed

# client/: libdfs; client/cmd/: the tools that use it, one dfs-*.c main
# each.
CLIENT_TOOL_SRCS = $(wildcard client/cmd/dfs-*.c)
CLIENT_LIB_SRCS	 = $(wildcard client/*.c)
CLIENT_LIB_OBJS	 = $(CLIENT_LIB_SRCS:%.c=$(BUILD)/%.o)
# the parts of lib/ a client needs (no GDBM, no daemon code)
CLIENT_LIB_OBJS	+= $(BUILD)/lib/status.o $(BUILD)/lib/path.o $(BUILD)/lib/rpcc.o \
		   $(BUILD)/lib/retry.o \
		   $(BUILD)/lib/fh.o
LIBDFS_A	 = $(BUILD)/libdfs.a
LIBDFS_SO	 = $(BUILD)/libdfs.so
TOOLS		 = $(CLIENT_TOOL_SRCS:client/cmd/%.c=$(BIN)/%)
# client/cmd/'s other files: what the tools share (tool.c) and the parts
# of one tool (cp_*.c); an archive, so a tool links only what it uses.
TOOL_OBJS	 = $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(CLIENT_TOOL_SRCS),\
		   $(wildcard client/cmd/*.c)))
TOOL_A		 = $(BUILD)/libdfstool.a

UNIT_SRCS = $(wildcard tests/unit/t_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
IT_SRCS	  = $(wildcard tests/it/it_*.c)
IT_BINS	  = $(IT_SRCS:tests/it/%.c=$(BUILD)/tests/%)
IT_HARNESS = $(BUILD)/tests/it/harness.o
CUTEST	  = $(BUILD)/tests/cutest.o
EXAMPLE_SRCS = $(wildcard examples/*.c)
EXAMPLE_BINS = $(EXAMPLE_SRCS:examples/%.c=$(BIN)/%)
# bench/*.c: benchmark drivers (libdfs programs), built by `make bench`
# and by `make bench-smoke` (which runs them on small sizes).
BENCH_SRCS = $(wildcard bench/*.c)
BENCH_BINS = $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

MANS	 = $(wildcard man/*.[0-9])

.PHONY: all deps check unit it cli sanitize valgrind man-lint install \
	uninstall clean cluster-start cluster-stop bench bench-deps bench-smoke

all: $(DAEMONS) $(TOOLS) $(EXAMPLE_BINS) $(LIBDFS_SO) $(BUILD)/dfs.pc

# --- generated code ---------------------------------------------------

$(GEN)/%.h: proto/%.x
	@mkdir -p $(GEN)
	cp $< $(GEN)/$*.x
	cd $(GEN) && rm -f $*.h && $(RPCGEN) -M -h -o $*.h $*.x
$(GEN)/%_xdr.c: proto/%.x $(GEN_H)
	cd $(GEN) && rm -f $*_xdr.c && $(RPCGEN) -M -c -o $*_xdr.c $*.x
$(GEN)/%_clnt.c: proto/%.x $(GEN_H)
	cd $(GEN) && rm -f $*_clnt.c && $(RPCGEN) -M -l -o $*_clnt.c $*.x
$(GEN)/%.o: $(GEN)/%.c $(GEN_H)
	$(CC) $(GEN_CFLAGS) $(CFLAGS) -c -o $@ $<
.PRECIOUS: $(GEN)/%.c $(GEN)/%.h
# keep objects make would delete as intermediates (and rebuild next time)
.SECONDARY:

# --- our code ---------------------------------------------------------

$(BUILD)/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(DFS_CFLAGS) $(DFS_WARN) $(CFLAGS) -c -o $@ $<

$(COMMON_A): $(LIB_OBJS) $(PROTO_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(NAMED_A): $(call srv_objs,name)
	rm -f $@ && $(AR) rcs $@ $^
$(LOCKD_A): $(call srv_objs,lock)
	rm -f $@ && $(AR) rcs $@ $^
$(FILED_A): $(call srv_objs,file)
	rm -f $@ && $(AR) rcs $@ $^

$(BIN)/dfs-named: $(BUILD)/server/name/main.o $(NAMED_A) \
    $(COMMON_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/dfs-lockd: $(BUILD)/server/lock/main.o $(LOCKD_A) \
    $(COMMON_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/dfs-filed: $(BUILD)/server/file/main.o $(FILED_A) \
    $(COMMON_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIBDFS_A): $(CLIENT_LIB_OBJS) $(PROTO_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
$(LIBDFS_SO): $(CLIENT_LIB_OBJS) $(PROTO_OBJS) client/libdfs.map
	$(CC) -shared $(CFLAGS) $(LDFLAGS) -Wl,-soname,libdfs.so.0 \
	    -Wl,--version-script=client/libdfs.map -o $@ \
	    $(CLIENT_LIB_OBJS) $(PROTO_OBJS) $(TIRPC_LIBS) -linih -lxxhash
$(TOOL_A): $(TOOL_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
$(BIN)/dfs-%: $(BUILD)/client/cmd/dfs-%.o $(TOOL_A) $(LIBDFS_A) $(GSSNULL_OBJ)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter-out $(GSSNULL_OBJ),$^) \
	    $(TOOL_LDLIBS)
$(BIN)/%: $(BUILD)/examples/%.o $(LIBDFS_A)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBDFS_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(BUILD)/dfs.pc: client/dfs.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< >$@

# --- tests ------------------------------------------------------------

# A unit test links its module through the archives: only the objects it
# references come in.
# t_named_*, t_lockd_*, t_filed_* test a daemon's modules; any other t_*
# tests lib/ and client/.
$(BUILD)/tests/t_named_%: $(BUILD)/tests/unit/t_named_%.o $(CUTEST) \
    $(NAMED_A) $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CUNIT_LIBS)
$(BUILD)/tests/t_lockd_%: $(BUILD)/tests/unit/t_lockd_%.o $(CUTEST) \
    $(LOCKD_A) $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CUNIT_LIBS)
$(BUILD)/tests/t_filed_%: $(BUILD)/tests/unit/t_filed_%.o $(CUTEST) \
    $(FILED_A) $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CUNIT_LIBS)
$(BUILD)/tests/t_%: $(BUILD)/tests/unit/t_%.o $(CUTEST) $(LIBDFS_A) \
    $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CUNIT_LIBS)
$(BUILD)/tests/it_%: $(BUILD)/tests/it/it_%.o $(IT_HARNESS) $(CUTEST) \
    $(LIBDFS_A) $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CUNIT_LIBS)

unit: $(UNIT_BINS)
	@tests/run.sh unit $(UNIT_BINS)

it: all $(IT_BINS)
	@DFS_BIN=$(abspath $(BIN)) tests/with-rpcbind.sh \
	    tests/run.sh it $(IT_BINS)

cli: all
	@DFS_BIN=$(abspath $(BIN)) tests/with-rpcbind.sh \
	    tests/run.sh cli $(wildcard tests/cli/t-*.sh)

# The product only: the benchmark harness has its own smoke (bench-smoke).
check: all $(UNIT_BINS) $(IT_BINS) man-lint
	@DFS_BIN=$(abspath $(BIN)) tests/with-rpcbind.sh tests/run.sh all \
	    $(UNIT_BINS) $(IT_BINS) $(wildcard tests/cli/t-*.sh)

# ASan+UBSan build of everything, running the same tests.  The tools
# take libtirpc.so there even when config.mak sets STATIC_TIRPC=1: ASan
# intercepts the xdr functions and calls the originals through the
# dynamic linker, which finds no static copy.
sanitize: export LSAN_OPTIONS = suppressions=$(abspath tests/lsan.supp):fast_unwind_on_malloc=0
sanitize:
	$(MAKE) BUILD=build-san STATIC_TIRPC=0 \
	    CFLAGS='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	    LDFLAGS='-fsanitize=address,undefined' check

# --- fuzzing (tests/fuzz/, docs/FUZZING.md) ---------------------------

# libFuzzer targets, one per program and one for svcx's record reader,
# built with clang into $(BUILD)/fuzz/ (ASan+UBSan, every object
# instrumented).  `make fuzz` runs each target FUZZ_SECONDS, FUZZ_JOBS
# at once (by default all four for an hour: an hour of wall time);
# `make fuzz-smoke` FUZZ_SMOKE_SECONDS each, one after the other.  Both
# replay tests/fuzz/regress/ first; `make check` runs the smoke when
# $(FUZZ_CC) is installed.
FUZZ_CC		?= clang-14
FUZZ_SECONDS	?= 3600
FUZZ_JOBS	?= 4
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS	 = named lockd filed svcx
FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	 = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link
FUZZ_CHECK	:= $(if $(shell command -v $(FUZZ_CC) 2>/dev/null),fuzz-smoke)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-bins
check: $(FUZZ_CHECK)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o \
    $(BUILD)/tests/fuzz/fuzz.o $(BUILD)/lib%.a $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
# svcx's record reader (lib/svcx_io.c), fed whole client streams
$(BUILD)/fuzz/fuzz_svcx: $(BUILD)/tests/fuzz/fuzz_svcx.o \
    $(BUILD)/tests/fuzz/fuzz.o $(COMMON_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
fuzz-bins: $(FUZZ_BINS)
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=$(FUZZ_CC) \
	    STATIC_TIRPC=0 LDFLAGS='$(FUZZ_SAN)' \
	    CFLAGS='$(FUZZ_CFLAGS) $(FUZZ_SAN)' fuzz-bins
fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(BUILD)/fuzz/fuzz \
	    $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-smoke: fuzz-build
	@FUZZ_JOBS=1 tests/fuzz/run.sh $(BUILD)/fuzz/fuzz \
	    $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# The unit and integration tests under valgrind's memcheck, the daemons
# they start included.
valgrind: $(UNIT_BINS) all $(IT_BINS)
	@DFS_BIN=$(abspath $(BIN)) DFS_TESTS=$(abspath tests) DFS_VALGRIND=1 \
	    tests/with-rpcbind.sh \
	    tests/run.sh valgrind $(UNIT_BINS) $(IT_BINS)

# groff exits 0 on warnings, so any output fails the target.
man-lint:
	@out=$$(groff -mandoc -ww -z $(MANS) </dev/null 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "man-lint: $(words $(MANS)) pages clean"

# --- benchmarks -------------------------------------------------------

# Debian packages of the peers dfs is measured against (bench/run.sh).
BENCH_PKGS = nfs-ganesha nfs-ganesha-vfs libnfs-utils rsync iperf3
bench-deps: deps
	@$(MAKE) --no-print-directory deps DEB_PKGS='$(BENCH_PKGS)'

# Every workload for dfs and its peers, interleaved, several runs each;
# prints medians and ratios (docs/BENCHMARKS.md).  BENCH_ARGS passes
# options to bench/run.sh (see its --help).
bench: bench-deps all $(BENCH_BINS)
	DFS_BIN=$(abspath $(BIN)) DFS_BENCH_BIN=$(abspath $(BUILD)/bench) \
	    bench/run.sh $(BENCH_ARGS)

# The harness does not rot: bench/run.sh --smoke (one round on small
# sizes, the peers that are installed) must fill every dfs row of its
# table and leave nothing behind (bench/smoke.sh).  Speed is not judged.
bench-smoke: all $(BENCH_BINS)
	@DFS_BIN=$(abspath $(BIN)) DFS_BENCH_BIN=$(abspath $(BUILD)/bench) \
	    tests/with-rpcbind.sh tests/run.sh bench-smoke bench/smoke.sh

# --- install and run --------------------------------------------------

# Debian packages the build, the tests and the local cluster need.
DEB_PKGS = build-essential pkg-config libtirpc-dev rpcsvc-proto rpcbind \
	   libgdbm-dev libcunit1-dev libxxhash-dev libinih-dev libkrb5-dev \
	   groff-base \
	   iproute2 \
	   procps valgrind time \
	   clang-14 libclang-rt-14-dev llvm-14
deps:
	@missing=; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q '^install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi

install: all $(LIBDFS_A) $(LIBDFS_SO)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/dfs \
	    $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man3 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/etc
	install -m 755 $(DAEMONS) $(DESTDIR)$(PREFIX)/sbin
	$(if $(TOOLS),install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin)
	install -m 644 $(LIBDFS_A) $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(LIBDFS_SO) $(DESTDIR)$(PREFIX)/lib/libdfs.so.0
	ln -sf libdfs.so.0 $(DESTDIR)$(PREFIX)/lib/libdfs.so
	install -m 644 $(GEN_H) client/dfs.h $(DESTDIR)$(PREFIX)/include/dfs
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/dfs.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig
	for m in $(MANS); do s=$${m##*.}; \
	    install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s; done
	install -m 644 proto/rpc.dfs $(DESTDIR)$(PREFIX)/etc/rpc.dfs
	@if [ -z "$(DESTDIR)" ] && [ -w /etc/rpc ] && \
	    ! grep -q '^dfs_name' /etc/rpc; then \
	    cat proto/rpc.dfs >> /etc/rpc; echo "added dfs programs to /etc/rpc"; fi

uninstall:
	rm -f $(DAEMONS:$(BIN)/%=$(DESTDIR)$(PREFIX)/sbin/%) \
	    $(TOOLS:$(BIN)/%=$(DESTDIR)$(PREFIX)/bin/%) \
	    $(DESTDIR)$(PREFIX)/lib/libdfs.a $(DESTDIR)$(PREFIX)/lib/libdfs.so* \
	    $(DESTDIR)$(PREFIX)/etc/rpc.dfs
	rm -rf $(DESTDIR)$(PREFIX)/include/dfs

# A local cluster under ./run: rpcbind, dfs-named, dfs-lockd, two
# dfs-filed, run as root as the system user dfs (made when missing; -u),
# through tools/dfs-cluster.sh.  Left running; cluster-stop stops what
# cluster-start started.
cluster-start: deps all
	@tools/cluster.sh start
cluster-stop:
	@tools/cluster.sh stop

clean:
	rm -rf $(BUILD) build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include config.mak
