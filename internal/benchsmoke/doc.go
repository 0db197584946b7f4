// Package benchsmoke holds no code: its tests run the scripts behind
// make bench and make demo, so that make test fails when one of them no
// longer works with strata as it is.
//
// TestBenchScripts runs make bench's scripts (scripts/bench.sh, every
// executable bench/*.sh it runs, and the helpers they call) once each on
// a small busybox tree: a reworded line or a report moved to another
// stream empties a figure, and the bench stops there (bench/figure.sh)
// instead of twenty minutes into make bench. TestDemoScript runs
// scripts/demo.sh, the README's first command, as make demo does.
package benchsmoke
