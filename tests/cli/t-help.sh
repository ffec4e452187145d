#!/bin/sh
# t-help.sh -- every tool: --help prints the usage on stdout and exits 0,
# --version prints "TOOL (dfs) VERSION" and exits 0, a bad option or a
# missing operand prints the usage on stderr and exits 1.  Needs no
# cluster; the usage must match the man page's SYNOPSIS.
. "$(dirname "$0")/lib.sh"

for tool in cp cat ls mkdir rm mv stat; do
	t=dfs-$tool
	say "$t"
	[ -x "$BIN/$t" ] || fail "$BIN/$t not built"
	ok $t --help
	grep -q "^usage: $t " "$TMP/out" || fail "$t --help: $(cat "$TMP/out")"
	[ ! -s "$TMP/err" ] || fail "$t --help wrote to stderr"
	ok $t --version
	grep -q "^$t (dfs) [0-9]" "$TMP/out" ||
	    fail "$t --version: $(cat "$TMP/out")"

	run $t --bogus
	[ $RC -eq 1 ] || fail "$t --bogus exited $RC"
	grep -q "^$t: unrecognized option '--bogus'$" "$TMP/err" ||
	    fail "$t --bogus: $(cat "$TMP/err")"
	grep -q "^usage: $t " "$TMP/err" || fail "$t --bogus: no usage"
	run $t -Z
	[ $RC -eq 1 ] || fail "$t -Z exited $RC"
	grep -q "^$t: invalid option -- 'Z'$" "$TMP/err" ||
	    fail "$t -Z: $(cat "$TMP/err")"
	run $t -s
	[ $RC -eq 1 ] || fail "$t -s exited $RC"
	grep -q "^$t: option requires an argument -- 's'$" "$TMP/err" ||
	    fail "$t -s: $(cat "$TMP/err")"

	# the usage is the man page's SYNOPSIS
	man=$top/man/$t.1
	[ -f "$man" ] || fail "no $man"
	syn=$(groff -mandoc -Tascii -rLL=200n -P-c -P-b -P-u "$man" 2>/dev/null |
	    sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//; s/  */ /g')
	ok $t --help
	use=$(sed 's/^usage: //' "$TMP/out" | tr -s ' \n' '  ' | sed 's/ $//')
	[ "$syn" = "$use" ] || fail "$t: SYNOPSIS '$syn' != usage '$use'"
done

say "operands are required"
for t in dfs-cp dfs-cat dfs-mkdir dfs-mv dfs-stat; do
	run $t
	[ $RC -eq 1 ] || fail "$t without operands exited $RC"
	grep -q "^usage: $t " "$TMP/err" || fail "$t: no usage on stderr"
done
exit 0
