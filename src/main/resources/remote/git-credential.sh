#!/usr/bin/env bash
# git's credential helper for the job's clone (see gitcredentials(7)), which driver.sh names with
# -c credential.helper. It answers "get" with the token of spec.script.git.credentialsSecret from
# config/git_token (and config/git_username), for the clone URL's own host and over https only, so
# a redirect elsewhere gets nothing; "store" and "erase" are ignored, so nothing keeps the token.
# The token goes from its file to git through this script's output, never through a command line.
set -euo pipefail
[ "${1:-}" = get ] || exit 0
CFG=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/config
protocol=""
host=""
while IFS= read -r line && [ -n "$line" ]; do
  case "$line" in
    protocol=*) protocol=${line#protocol=} ;;
    host=*) host=${line#host=} ;;
  esac
done
[ -s "$CFG/git_token" ] || exit 0
url=$(cat "$CFG/git_url")
rest=${url#*://}
want=${rest%%/*}
if [ "$protocol" != https ] || [ "${host,,}" != "${want,,}" ]; then
  exit 0
fi
user=x-access-token
if [ -s "$CFG/git_username" ]; then user=$(cat "$CFG/git_username"); fi
printf 'username=%s\npassword=%s\n' "$user" "$(cat "$CFG/git_token")"
