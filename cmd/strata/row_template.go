package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// rowTemplate is docker's --format TEMPLATE of a listing (ps, stats): a
// Go template run for each row; "table TEMPLATE" adds a header row (the
// template run on the column titles) and aligns the columns.
type rowTemplate struct {
	what  string // "ps --format": what its errors say
	t     *template.Template
	table bool
}

// maxPad is the most spaces pad puts on a side.
const maxPad = 1024

// templateFuncs are docker's template functions.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"pad": func(s string, left, right int) (string, error) {
		// Bounded: pad .Name 0 50000000000 ran the machine out of memory.
		if min(left, right) < 0 || max(left, right) > maxPad {
			return "", fmt.Errorf("pad takes 0 to %d spaces a side", maxPad)
		}
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", right), nil
	},
	"truncate": func(s string, n int) (string, error) {
		if n < 0 {
			return "", errors.New("truncate takes a length of 0 or more")
		}
		if r := []rune(s); len(r) > n {
			return string(r[:n]), nil
		}
		return s, nil
	},
	"println": fmt.Sprintln,
}

// parseRowTemplate reads the --format TEMPLATE of the command what
// ("ps"), and runs it once on empty, an empty row, so that a field
// docker has not is a usage error before anything prints.
func parseRowTemplate(what, format string, empty any) (*rowTemplate, error) {
	p := &rowTemplate{what: what + " --format"}
	text := format
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ') {
		// "table" alone is the command's own table, taken before this.
		p.table, text = true, rest
	}
	// As docker's: \t and \n typed in the shell's quotes are a tab and
	// a newline.
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(strings.Trim(text, " "))
	t, err := template.New("").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, usagef("%s: %v", p.what, err)
	}
	if err := t.Execute(io.Discard, empty); err != nil {
		return nil, usagef("%s: %v", p.what, err)
	}
	p.t = t
	return p, nil
}

// printRows writes rows through the template p; a table's rows, after
// header, are aligned by the tabwriter newTable makes.
func printRows[V any](w io.Writer, p *rowTemplate, header V, rows []V, newTable func(io.Writer) *tabwriter.Writer) error {
	out := w
	var tw *tabwriter.Writer
	if p.table {
		tw = newTable(w)
		out = tw
		if err := p.line(out, header); err != nil {
			return err
		}
	}
	for _, v := range rows {
		if err := p.line(out, v); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func (p *rowTemplate) line(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := p.t.Execute(&b, v); err != nil {
		return fmt.Errorf("%s: %w", p.what, err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
