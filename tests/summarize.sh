#!/bin/sh
# summarize.sh BUILDDIR...: counts every test that ran under automake's
# harness in the given build dirs and prints one line "N passed, N failed"
# (", N skipped" when any). cmocka programs count each case; shell tests
# count each "ok -"/"not ok -" check; anything else counts once by its
# .trs result. Exits 1 when anything failed.
pass=0 fail=0 skip=0
for dir in "$@"; do
	for trs in $(find "$dir" -name '*.trs' 2>/dev/null | sort); do
		log=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		p=0 f=0
		if [ -f "$log" ] && grep -q '^\[==========\]' "$log"; then
			p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
			f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		elif [ -f "$log" ] && grep -qE '^(not )?ok - ' "$log"; then
			p=$(grep -c '^ok - ' "$log")
			f=$(grep -c '^not ok - ' "$log")
		fi
		case $res in
		PASS|XFAIL) [ "$p" -eq 0 ] && p=1 ;;
		SKIP) skip=$((skip + 1)); p=0; f=0 ;;
		*) [ "$f" -eq 0 ] && f=1 ;;
		esac
		pass=$((pass + p))
		fail=$((fail + f))
	done
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
