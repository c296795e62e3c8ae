#!/bin/sh
# banned.sh: the functions slopewatch never calls (STYLE.md, "Everything from
# outside is bounded"). Fails listing each use in lib/, agent/, include/.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1
pattern='(^|[^_[:alnum:].>])(system|popen|sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atoll|gets)[[:space:]]*\('
hits=$(grep -nE "$pattern" lib/*.c agent/*.c include/slopewatch/*.h contrib/demo/*.c 2>/dev/null | grep -v 'banned-ok')
if [ -n "$hits" ]; then
	echo "banned functions used (see STYLE.md):"
	echo "$hits"
	echo "1 checks, 1 failed"
	exit 1
fi
echo "ok - no banned function in lib/ agent/ include/ contrib/demo/"
exit 0
