// Package changeset writes the layer that turns one tree into another:
// the entries that differ, copied whole from the layers that hold them
// (header, xattrs, content, hardlinks kept), and whiteouts for what the
// second tree lacks. Merges, rebases and stashes write their results with
// it, and the fold package writes the one layer that replaces a run of
// layers.
package changeset
