package main

import (
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/internal/pathquote"
)

// expand writes the template with e's values in place of git's
// placeholders. What strata does not know (%T, %G?, %N, paddings) stays
// as written, as git leaves a placeholder it does not know; colours
// print only with colour on (--color), as git's.
func (h commitHeader) expand(b *strings.Builder, e logEntry) {
	t := h.pretty.template
	msg := &message{}
	for len(t) > 0 {
		i := strings.IndexByte(t, '%')
		if i < 0 || i == len(t)-1 {
			b.WriteString(t)
			return
		}
		b.WriteString(t[:i])
		t = t[i+1:]
		// git's modifiers: %+x puts a newline before a non-empty value,
		// % x a space, and %-x removes the newlines before an empty one.
		mod := byte(0)
		if t[0] == '+' || t[0] == '-' || t[0] == ' ' {
			if len(t) == 1 { // "%+" at the end: as written
				b.WriteString("%" + t)
				return
			}
			mod, t = t[0], t[1:]
		}
		value, n := h.placeholder(t, e, msg)
		if n == 0 {
			b.WriteByte('%')
			if mod != 0 {
				b.WriteByte(mod)
			}
			continue
		}
		t = t[n:]
		switch {
		case mod == '+' && value != "":
			value = "\n" + value
		case mod == ' ' && value != "":
			value = " " + value
		case mod == '-' && value == "":
			trimmed := strings.TrimRight(b.String(), "\n")
			b.Reset()
			b.WriteString(trimmed)
		}
		b.WriteString(value)
	}
}

// placeholder reads the placeholder at the start of t (after its %) and
// returns its value and length; 0 if git has no such placeholder or
// strata cannot fill it.
func (h commitHeader) placeholder(t string, e logEntry, msg *message) (string, int) {
	switch t[0] {
	case '%':
		return "%", 1
	case 'n':
		return "\n", 1
	case 'H':
		return digest.Digest(e.ID).Encoded(), 1
	case 'h':
		return e.Short, 1
	case 'P', 'p':
		ids := make([]string, len(e.Parents))
		for i, p := range e.Parents {
			if ids[i] = digest.Digest(p).Encoded(); t[0] == 'p' {
				ids[i] = shortID(digest.Digest(p))
			}
		}
		return strings.Join(ids, " "), 1
	case 's':
		subject, _ := msg.split(e.Message)
		return pathquote.Text(subject), 1
	case 'f':
		subject, _ := msg.split(e.Message)
		return sanitizedSubject(subject), 1
	case 'b':
		_, body := msg.split(e.Message)
		return pathquote.Text(body), 1
	case 'B':
		return pathquote.Text(strings.TrimRight(e.Message, "\n") + "\n"), 1
	case 'd', 'D':
		if len(e.Refs) == 0 {
			return "", 1
		}
		if t[0] == 'd' {
			return h.decoration(e.Refs), 1
		}
		return pathquote.Name(strings.Join(e.Refs, ", ")), 1
	case 'e':
		return "", 1 // no encoding header: messages are UTF-8
	case 'm':
		return e.mark(), 1
	case 'g':
		// log -g's move: %gd (HEAD@{0}), %gs (its message), %gn and
		// %ge (who made it); empty without -g, as git's.
		if len(t) < 2 || strings.IndexByte("dsne", t[1]) < 0 {
			return "", 0
		}
		if e.Reflog == nil {
			return "", 2
		}
		name, email := splitAuthor(e.Reflog.Who)
		v := map[byte]string{'d': e.Reflog.Selector, 's': e.Reflog.Message, 'n': name, 'e': email}[t[1]]
		return pathquote.Text(v), 2
	case 'a', 'c':
		// One person and one date a commit: committer is author.
		if len(t) < 2 {
			return "", 0
		}
		v, ok := h.person(t[1], e)
		if !ok {
			return "", 0
		}
		return v, 2
	case 'x':
		if len(t) >= 3 {
			if c, err := strconv.ParseUint(t[1:3], 16, 8); err == nil {
				return string([]byte{byte(c)}), 3
			}
		}
	case 'C':
		n := colourLength(t)
		if !h.color || n == 0 {
			return "", n
		}
		return h.colour(t[:n]), n
	}
	return "", 0
}

// colour is the sequence of a colour placeholder (its text after %).
func (h commitHeader) colour(p string) string {
	switch p {
	case "Cred":
		return "\x1b[31m"
	case "Cgreen":
		return "\x1b[32m"
	case "Cblue":
		return "\x1b[34m"
	case "Creset":
		return ansiReset
	}
	return ansiColor(strings.TrimSuffix(strings.TrimPrefix(p, "C("), ")"))
}

// personDates are the date placeholders of a fixed style: %aD, %ar,
// %at, %ai, %aI, %as (and %c...).
var personDates = map[byte]gitdate.Style{'D': gitdate.RFC, 'r': gitdate.Relative, 't': gitdate.Unix,
	'i': gitdate.ISO, 'I': gitdate.ISOStrict, 's': gitdate.Short}

// person is %aX (and %cX): the author's name, email or date.
func (h commitHeader) person(c byte, e logEntry) (string, bool) {
	name, email := splitAuthor(e.Author)
	switch c {
	case 'n', 'N':
		return pathquote.Text(name), true
	case 'e', 'E':
		return pathquote.Text(email), true
	case 'l', 'L':
		local, _, _ := strings.Cut(email, "@")
		return pathquote.Text(local), true
	case 'd':
		return gitdate.Show(e.Date, h.date, h.now), true
	}
	date, ok := personDates[c]
	if !ok {
		return "", false
	}
	return gitdate.Show(e.Date, date, h.now), true
}

// colourLength is the length of a colour placeholder after its %: %Cred,
// %Cgreen, %Cblue, %Creset, %C(...); 0 if t holds none.
func colourLength(t string) int {
	for _, c := range []string{"Cred", "Cgreen", "Cblue", "Creset"} {
		if strings.HasPrefix(t, c) {
			return len(c)
		}
	}
	if strings.HasPrefix(t, "C(") {
		if end := strings.IndexByte(t, ')'); end > 0 {
			return end + 1
		}
	}
	return 0
}

// splitAuthor reads "Name <email>".
func splitAuthor(a string) (name, email string) {
	open, end := strings.LastIndexByte(a, '<'), strings.LastIndexByte(a, '>')
	if open < 0 || end < open {
		return a, ""
	}
	return strings.TrimSpace(a[:open]), a[open+1 : end]
}

// message is a commit message's subject and body, split once for all
// the placeholders of a template.
type message struct {
	done          bool
	subject, body string
}

func (m *message) split(msg string) (subject, body string) {
	if !m.done {
		m.subject, m.body = splitMessage(msg)
		m.done = true
	}
	return m.subject, m.body
}

// splitMessage is git's subject and body: the subject is the first
// paragraph, its lines joined by spaces; the body is what follows the
// blank line after it, with a final newline.
func splitMessage(msg string) (subject, body string) {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	var subj []string
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		subj = append(subj, strings.TrimSpace(lines[i]))
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if body = strings.Join(lines[i:], "\n"); body != "" {
		body += "\n"
	}
	return strings.Join(subj, " "), body
}

// sanitizedSubject is git's %f: the subject as a file name, runs of
// other characters than letters, digits, "." and "_" made one "-", no
// "." twice in a row, and no "." or "-" at the end.
func sanitizedSubject(subject string) string {
	var b strings.Builder
	sep := false
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
		if !ok {
			sep = b.Len() > 0
			continue
		}
		if c == '.' && strings.HasSuffix(b.String(), ".") {
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteByte(c)
	}
	return strings.TrimRight(b.String(), ".-")
}
