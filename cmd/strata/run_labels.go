package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Labels are docker's: KEY=VALUE metadata on a run (run -l, --label-file),
// the image's Config.Labels under them, shown by inspect and ps and
// filtered on by ps -f label=. strata gives them no meaning of its own.

// readLabels is run's labels: the --label-files' lines, then -l's, a
// later setting of a KEY winning, as docker's. KEY alone is KEY with an
// empty value. nil when there are none.
func (o runOptions) readLabels() (map[string]string, error) {
	var kvs []string
	for _, name := range o.labelFiles {
		lines, err := readLabelFile(name)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, lines...)
	}
	for _, kv := range o.labels {
		if err := checkLabel(kv); err != nil {
			return nil, fmt.Errorf("--label %s: %w", kv, err)
		}
		kvs = append(kvs, kv)
	}
	if len(kvs) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, _ := strings.Cut(strings.TrimLeftFunc(kv, unicode.IsSpace), "=")
		labels[k] = v
	}
	return labels, nil
}

// checkLabel refuses what docker's ValidateLabel does: no KEY, or
// white space in it (leading white space is dropped).
func checkLabel(kv string) error {
	key, _, _ := strings.Cut(strings.TrimLeftFunc(kv, unicode.IsSpace), "=")
	switch {
	case key == "":
		return fmt.Errorf("no KEY (want KEY=VALUE or KEY)")
	case strings.ContainsFunc(key, unicode.IsSpace):
		return fmt.Errorf("KEY %q holds white space", key)
	}
	return nil
}

// readLabelFile reads docker's --label-file: a KEY=VALUE (or KEY) line a
// label, blank lines and lines starting with # skipped, as --env-file
// (a regular file only, read whole).
func readLabelFile(name string) ([]string, error) {
	var out []string
	err := readLineFile("--label-file", name, nil, func(n int, line string) error {
		if !utf8.ValidString(line) {
			return fmt.Errorf("line %d is not UTF-8", n)
		}
		if err := checkLabel(line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withImageLabels adds the image's labels that the run does not set, as
// docker's daemon merges them.
func withImageLabels(labels, image map[string]string) map[string]string {
	if len(image) == 0 {
		return labels
	}
	out := maps.Clone(image)
	maps.Copy(out, labels)
	return out
}

// labelList is docker ps's {{.Labels}}: KEY=VALUE, comma-separated, here
// in KEY order.
func labelList(labels map[string]string) string {
	var kvs []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		kvs = append(kvs, k+"="+labels[k])
	}
	return strings.Join(kvs, ",")
}
