package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/docker/go-units"
	"github.com/opencontainers/go-digest"
)

// shortID is how commit ids are shown: 12 hex digits.
func shortID(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		return e[:12]
	}
	return e
}

// writeJSON prints v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "Name <email>" reads as written
	return enc.Encode(v)
}

// formatFlag validates --format: "text" (default) or "json".
func checkFormat(format string) error {
	switch format {
	case "", "text", "json":
		return nil
	}
	return usagef("--format %s: must be text or json", format)
}

// binaryUnits are go-units' own (unexported) binary abbreviations.
var binaryUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// humanSize prints a byte count as docker does (go-units' BytesSize: four
// significant digits, binary units), with a space: "882 B", "1.5 MiB".
func humanSize(n int64) string {
	return units.CustomSize("%.4g %s", float64(n), 1024, binaryUnits)
}

// plural counts a noun as git does: "1 commit", "2 commits".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
