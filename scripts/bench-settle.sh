#!/bin/sh
# bench-settle.sh: wait, at most 150 s, until the 1-minute load average is
# below 1 (the steps before a timed bench load two cores themselves, and
# that load decays over about a minute); print the seconds waited. A
# smoke run (BENCH_SMOKE=1) times nothing, and waits for nothing.
if [ "${BENCH_SMOKE:-}" = 1 ]; then echo 0; exit 0; fi
waited=0
while [ "$waited" -lt 150 ] && awk '{exit !($1 >= 1)}' /proc/loadavg; do
	sleep 5
	waited=$((waited + 5))
done
echo "$waited"
