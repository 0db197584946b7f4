// Package merge computes 3-way merges of revisions from their file
// indexes, without unpacking a layer: per path, what each side changed
// since the merge base, whether the two sides conflict and how
// (Classify), and the 3-way merge of the image config (MergeConfig).
//
// It decides; it writes nothing. The work tree package turns a Result
// into a layer or into files with conflict markers, and package
// merge/textmerge merges the content of text files both sides changed.
package merge
