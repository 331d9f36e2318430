#!/usr/bin/env bash
# `flowpath --help` gives every command a description and an example, and
# `flowpath COMMAND --help` says what COMMAND takes, prints and returns.
# Usage: tests/cli/help_test.sh PATH/TO/flowpath
set -euo pipefail
fp=${1:?usage: help_test.sh FLOWPATH}
fail() { echo "FAIL: $*"; exit 1; }
top=$("$fp" --help) || fail "flowpath --help exited non-zero"
cmds=$(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$top")
[[ $(wc -w <<<"$cmds") -ge 7 ]] || fail "flowpath --help lists too few commands: $cmds"
for c in $cmds; do
  line=$(grep -E "^  $c +[a-z]" <<<"$top") || fail "$c has no description"
  [[ $(wc -w <<<"$line") -ge 4 ]] || fail "$c: description too short: $line"
  grep -A1 -E "^  $c " <<<"$top" | grep -q "e.g. flowpath $c" || fail "$c has no example"
  out=$("$fp" "$c" --help) || fail "flowpath $c --help exited non-zero"
  grep -q "^usage: flowpath $c" <<<"$out" || fail "flowpath $c --help has no usage line"
  grep -q "^prints:" <<<"$out" || fail "flowpath $c --help does not say what it prints"
  grep -q "^exit:" <<<"$out" || fail "flowpath $c --help does not give the exit status"
  [[ $("$fp" help "$c") == "$out" ]] || fail "flowpath help $c differs from $c --help"
done
"$fp" no-such-command >/dev/null 2>&1 && fail "an unknown command succeeded"
"$fp" >/dev/null 2>&1 && fail "no command succeeded"
echo "help: ok ($(wc -w <<<"$cmds") commands)"
