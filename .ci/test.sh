#!/usr/bin/env bash
# The test command for a fresh machine: install what the tests need from Debian when it is
# missing (GNU screen, OpenSSH's sshd, kubectl), then run every test with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v screen >/dev/null 2>&1 || missing+=(screen)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# venv bootstrap tests run the system python3 over OpenSSH; Debian ships venv support separately
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -n"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec mvn -B verify "$@"
