// Package depcheck holds only a test: it enforces strata's package map,
// in which dependencies point one way (cmd uses everything; checkout and
// remote use objects and refs; exec uses none of them).
package depcheck
