#!/usr/bin/env bash
# Checks that every LAMINA_API function of include/lamina/lamina.h is documented in docs/api.md (as
# `name`) and wrapped in include/lamina/lamina.hpp. Also checks every enum value and struct type.
# Usage: tests/check_api_docs.sh [repo root]; exit status 1 lists what is missing.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
header="$root/include/lamina/lamina.h"
doc="$root/docs/api.md"
hpp="$root/include/lamina/lamina.hpp"
for f in "$header" "$doc" "$hpp"; do
  [ -f "$f" ] || { echo "missing file: $f"; exit 1; }
done

# Function names: the identifier before '(' on each LAMINA_API declaration (skips the macro's own lines).
funcs=$(grep -E '^LAMINA_API ' "$header" | sed -E 's/^.*[ *](lamina[A-Za-z0-9_]+)\(.*$/\1/' | sort -u)
# Enum constants (LAMINA_X = n), typedef names (laminaX_t) and the LAMINA_* macros users see.
consts=$(grep -oE '\bLAMINA_[A-Z0-9_]+ = ' "$header" | sed -E 's/ = $//' | sort -u)
types=$(grep -oE '\b(lamina[A-Za-z0-9]+_t)\b' "$header" | sort -u)
macros="LAMINA_VERSION LAMINA_DIM_MAX"

missing=0
nf=0
for f in $funcs; do
  nf=$((nf + 1))
  grep -q "\`$f\`\|\`$f(" "$doc" || { echo "docs/api.md does not document $f"; missing=1; }
  grep -q "\b$f\b" "$hpp" || { echo "lamina.hpp does not wrap $f"; missing=1; }
done
for c in $consts $types $macros; do
  grep -q "\b$c\b" "$doc" || { echo "docs/api.md does not mention $c"; missing=1; }
done
[ "$nf" -gt 100 ] || { echo "found only $nf LAMINA_API functions: is the header parsed right?"; missing=1; }
[ $missing -eq 0 ] && echo "check_api_docs: $nf functions, $(echo $consts | wc -w) enum values, $(echo $types | wc -w) types: all documented"
exit $missing
