# . bench/figure.sh (sourced, not executable: bench.sh runs every
# executable bench/*.sh). figure WHAT VALUE prints VALUE if it is a
# number and otherwise stops the script, naming WHAT: a bench that no
# longer reads strata's output (a line reworded, a report moved to
# stderr) must fail, not print an empty cell. Use it in an assignment,
# x=$(figure ...), so that set -e stops the script.
#
# BENCH_SMOKE=1 (scripts/bench.sh) asks each bench for one round on a
# small input: smoke is true then.
figure() {
	if ! printf '%s\n' "$2" | grep -Eqx -- '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'; then
		echo "$0: $1: not a number: '$2'" >&2
		exit 1
	fi
	printf '%s\n' "$2"
}
smoke() { [ "${BENCH_SMOKE:-}" = 1 ]; }
