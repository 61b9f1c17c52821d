#!/bin/sh
# Replaces the machine's ed25519 SSH host key with one made here, on the machine: its private half never
# leaves it. The operator runs it as root (sudo -n) once it has verified the key the instance's user data
# carried, so that key, which anyone allowed ec2:DescribeInstanceAttribute can read, is worthless from then on.
#
#   replace-host-key.sh stage             makes the next key (once: asked again, the same key) and prints its
#                                         public line; nothing is served yet
#   replace-host-key.sh install PUBLIC    puts the staged key PUBLIC in sshd's place and has sshd present it to
#                                         every new connection (connections already open keep theirs)
#
# Between the two the operator records PUBLIC in the job's Secret, so an operator that dies at any line
# finds the key it expects on the machine. Install is idempotent: the key in place already is reloaded again.
# Exit status: 0 done; 2 bad input; 3 the key is in place but no sshd was found to reload; 4 the key named is
# neither staged nor in place (the staged one was lost: stage again); anything else a command that failed
# (its message on stderr).
#
# Only the ed25519 key is replaced: it is the one the user data carried and the one the operator asks for.
# Keys of other types the image may generate at boot never left the machine.
#
# Test hook: TRAININGJOB_SSHD_ROOT, set only where a test plays the machine (the fake EC2's instances), is
# put in front of /etc/ssh, and sshd is not reloaded: the fake's SSH server reads the key file when it
# changes. Never set on a machine (sudo would drop it anyway).
set -eu

mode=${1:?usage: replace-host-key.sh stage | install PUBLIC-KEY-LINE}
root=${TRAININGJOB_SSHD_ROOT:-}
dir=$root/etc/ssh
key=$dir/ssh_host_ed25519_key
staged=$dir/.trainingjob_next_host_ed25519_key

umask 077
mkdir -p "$dir"

# "type base64" of a public key line, the comment dropped
words() { cut -d' ' -f1-2; }

case $mode in
  stage)
    if [ ! -s "$staged.pub" ] || ! ssh-keygen -y -f "$staged" >/dev/null 2>&1; then
      rm -f "$staged" "$staged.pub"
      ssh-keygen -q -t ed25519 -N '' -C trainingjob-host -f "$staged" </dev/null >/dev/null
    fi
    words < "$staged.pub"
    exit 0
    ;;
  install)
    public=${2:?usage: replace-host-key.sh install PUBLIC-KEY-LINE}
    case $public in
      ssh-ed25519\ *) ;;
      *) echo "replace-host-key.sh: not an ed25519 public key: $public" >&2; exit 2 ;;
    esac
    want=$(printf '%s\n' "$public" | words)
    if [ -s "$staged.pub" ] && [ "$(words < "$staged.pub")" = "$want" ]; then
      # a key sshd can load, whose public half is the one the operator expects from now on
      if [ "$(ssh-keygen -y -f "$staged" | words)" != "$want" ]; then
        echo "replace-host-key.sh: the staged key does not match its public half" >&2
        exit 2
      fi
      chmod 600 "$staged"
      chmod 644 "$staged.pub"
      # each rename is atomic: sshd never reads half a key
      mv -f "$staged.pub" "$key.pub"
      mv -f "$staged" "$key"
      if command -v restorecon >/dev/null 2>&1; then
        restorecon "$key" "$key.pub" || true # SELinux images label /etc/ssh; a key made elsewhere and moved keeps the wrong label
      fi
    elif [ -s "$key.pub" ] && [ "$(words < "$key.pub")" = "$want" ]; then
      : # in place already (an operator that died after installing it, or sshd still reloading): reload again
    else
      echo "replace-host-key.sh: the key $want is neither staged nor in place on this machine" >&2
      exit 4
    fi
    ;;
  *)
    echo "replace-host-key.sh: unknown mode $mode (stage or install)" >&2
    exit 2
    ;;
esac

[ -z "$root" ] || exit 0

# a configuration sshd refuses would lock everyone out at the reload: check it first
sshd=$(command -v sshd || echo /usr/sbin/sshd)
"$sshd" -t
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for unit in ssh.service sshd.service; do
    if systemctl is-active --quiet "$unit"; then
      systemctl reload "$unit"
      exit 0
    fi
  done
fi
for pidfile in /run/sshd.pid /var/run/sshd.pid; do
  if [ -s "$pidfile" ]; then
    kill -HUP "$(cat "$pidfile")"
    exit 0
  fi
done
echo "replace-host-key.sh: the new host key is in place, but no running sshd was found to reload" >&2
exit 3
