// Package depcheck holds only a test: it enforces strata's package map,
// in which dependencies point one way (cmd uses everything; worktree uses
// tree and snapshot; tree, snapshot and image stand on objects alone;
// remote on repo, refs, objects and image; exec uses none of them). See
// docs/architecture.md.
package depcheck
