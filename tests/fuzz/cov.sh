#!/bin/sh
# cov.sh -- line coverage of the daemon sources by a fuzz corpus:
#	tests/fuzz/cov.sh [CORPUSDIR]
#
# Builds the targets again with clang's source-based coverage (no
# sanitizers) into build/fuzzcov/, runs every input of
# CORPUSDIR/TARGET (default build/fuzz/fuzz/corpus, what `make fuzz`
# left; the seeds too) once, and prints llvm-cov's per-file report for
# server/ and lib/.  Run from the top of the tree.  Needs llvm-14.

set -eu
corpus=${1:-build/fuzz/fuzz/corpus}
seeds=$(dirname "$corpus")/seeds
out=build/fuzzcov
cc=${FUZZ_CC:-clang-14}
v=${cc#clang}

prof='-fprofile-instr-generate'
make --no-print-directory BUILD=$out CC="$cc" STATIC_TIRPC=0 \
    LDFLAGS="$prof" \
    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $prof -fcoverage-mapping" \
    fuzz-bins >/dev/null
rm -f "$out"/*.profraw
objs=
for t in named lockd filed svcx; do
	dirs=
	for d in "$corpus/$t" "$seeds/$t"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	# shellcheck disable=SC2086
	LLVM_PROFILE_FILE="$out/$t.profraw" "$out/fuzz/fuzz_$t" -runs=0 \
	    $dirs >"$out/$t.log" 2>&1 || {
		echo "cov.sh: $t failed on its corpus; see $out/$t.log" >&2
		exit 1
	}
	objs="$objs -object $out/fuzz/fuzz_$t"
done
"llvm-profdata$v" merge -o "$out/all.profdata" "$out"/*.profraw
# shellcheck disable=SC2086
"llvm-cov$v" report -instr-profile="$out/all.profdata" ${objs# -object } \
    server/name server/lock server/file lib
