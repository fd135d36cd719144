#!/usr/bin/env bash
# Fail when C sources use calls this project bans (STYLE.md): unbounded copies
# and formats, strtok's hidden state, atoi's silent failures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\('
if found=$(git ls-files -- '*.c' '*.h' | xargs grep -nE "$pattern" | grep -vE '\b(snprintf|vsnprintf)\b' | grep -vE '_(v)?sprintf\('); then
	echo "banned calls found (use snprintf, memcpy, strtol, bounded helpers):" >&2
	echo "$found" >&2
	exit 1
fi
echo "no banned calls"
