# The machine's own dead-man's switch (trainingjob-operator, ec2). cloud-init's bootcmd writes this
# file into its state directory and runs "guard.sh arm" on every boot, before the operator ever
# connects. It powers the machine off (launched with shutdown behaviour terminate, it is then gone):
#   - when the operator has not checked in for TIMEOUT seconds: each probe touches job/heartbeat;
#     without one, the time counts from the first boot (armed-at), so a reboot resets nothing;
#   - when the clock passes job/ceiling (epoch seconds the driver writes once, for maxRuntimeSeconds).
# It decides the moment itself and then runs COMMAND ($1 = why): nothing is scheduled, since
# "shutdown +N" refuses logins for its last five minutes and is forgotten by a reboot.
# Usage: guard.sh arm|run|check TIMEOUT INTERVAL COMMAND
#   arm    make the state directory and start "run" (a systemd unit, restarted if it dies)
#   run    check every INTERVAL seconds; asks again only after 5 minutes still up
#   check  once (and powers off if it is time)
# job/ is the SSH user's (mode 1777: that user does not exist yet when bootcmd first runs). The test
# hook TRAININGJOB_GUARD_ROOT, set where a test plays the machine, keeps systemd out of it.
set -u
mode=$1 timeout=$2 interval=$3 off=$4
d=$(cd "$(dirname "$0")" && pwd) || exit 1
started=$(date +%s)
log() { echo "$(date -u +%FT%TZ) $*" >> "$d/guard.log"; }

# prints why it is time to power off; nothing while it is not
due() {
  now=$(date +%s)
  c=$(tr -cd 0-9 2>/dev/null < "$d/job/ceiling" | head -c 12)
  if [ -n "$c" ] && [ "$now" -ge "$c" ]; then echo "the ceiling $c passed"; return; fi
  if last=$(stat -c %Y "$d/job/heartbeat" 2>/dev/null); then
    since="the last at $last"
  else
    last=$(tr -cd 0-9 2>/dev/null < "$d/armed-at" | head -c 12)
    since="none since the first boot at ${last:=$started}"
  fi
  if [ $((now - last)) -ge "$timeout" ]; then echo "no heartbeat for $((now - last))s ($since)"; fi
}

power_off() {
  log "powering off: $1"
  sh -c "$off" trainingjob-guard "$1" >> "$d/guard.log" 2>&1 || log "the power-off command failed with $?"
}

case $mode in
  arm)
    mkdir -p "$d/job" && chmod 755 "$d" && chmod 1777 "$d/job" || exit 1
    [ -s "$d/armed-at" ] || date +%s > "$d/armed-at"
    log "armed: off ${timeout}s after the last heartbeat, or at the ceiling"
    # cloud-init runs before sysinit.target: queue the unit (--no-block) and let it start now, not after the boot
    if [ -z "${TRAININGJOB_GUARD_ROOT:-}" ] && [ -d /run/systemd/system ] && systemd-run --unit=trainingjob-guard --no-block \
      -p DefaultDependencies=no -p Restart=always /bin/sh "$d/guard.sh" run "$timeout" "$interval" "$off"; then
      exit 0
    fi
    nohup sh "$d/guard.sh" run "$timeout" "$interval" "$off" < /dev/null >> "$d/guard.log" 2>&1 &
    ;;
  run)
    echo $$ > "$d/guard.pid"
    s='' asked=0
    trap 'kill $s 2>/dev/null; exit 0' TERM INT HUP
    while :; do
      why=$(due)
      if [ -n "$why" ] && [ $(($(date +%s) - asked)) -ge 300 ]; then
        asked=$(date +%s)
        power_off "$why"
      fi
      # written whole, then renamed: whoever reads it never sees an empty file
      date +%s > "$d/checked-at.new" && mv -f "$d/checked-at.new" "$d/checked-at"
      sleep "$interval" & s=$!
      wait $s
    done
    ;;
  check)
    why=$(due)
    if [ -n "$why" ]; then power_off "$why"; fi
    ;;
esac
