package main

import (
	"encoding/json"
	"fmt"
	"io"

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

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func digestOrEmpty(s string) digest.Digest { return digest.Digest(s) }
