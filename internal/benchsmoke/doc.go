// Package benchsmoke holds no code: its test runs make bench's scripts
// (scripts/bench.sh, every executable bench/*.sh it runs, and the
// helpers they call) once each on a small busybox tree, so that make
// test fails when a bench no longer reads strata's output: a reworded
// line or a report moved to another stream empties a figure, and the
// bench stops there (bench/figure.sh) instead of twenty minutes into
// make bench.
package benchsmoke
