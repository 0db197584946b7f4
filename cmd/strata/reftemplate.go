package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/strata-sh/strata/internal/gitdate"
	"github.com/strata-sh/strata/internal/pathquote"
	"github.com/strata-sh/strata/objects"
	"github.com/strata-sh/strata/refs"
	"github.com/strata-sh/strata/repo"
)

// refTemplate is a --format of branch and tag that is neither text nor
// json: git's for-each-ref format, %(FIELD) per ref, %% and %NN (a byte
// in hex), other text as written. A field strata does not know is a
// usage error before anything is listed, as git's "unknown field name".
type refTemplate []refPart

// refPart is literal text, or a field: its name and its modifier (after
// the first colon).
type refPart struct {
	text, field, mod string
}

// parseRefTemplate reads s as git's for-each-ref format.
func parseRefTemplate(s string) (refTemplate, error) {
	var t refTemplate
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c != '%' || i == len(s)-1:
			lit.WriteByte(c)
		case s[i+1] == '%':
			lit.WriteByte('%')
			i++
		case s[i+1] == '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				return nil, fmt.Errorf("--format %s: %%( without its )", s)
			}
			name := s[i+2 : i+end]
			field, mod, _ := strings.Cut(name, ":")
			if field == "contents" && (mod == "subject" || mod == "body") {
				field, mod = mod, ""
			}
			p := refPart{field: field, mod: mod}
			if _, ok := p.value(refValues{}); !ok {
				return nil, fmt.Errorf("--format: unknown field %%(%s) (--help lists those strata knows)", name)
			}
			if lit.Len() > 0 {
				t = append(t, refPart{text: lit.String()})
				lit.Reset()
			}
			t = append(t, p)
			i += end
		case i+2 < len(s) && isHex(s[i+1:i+3]):
			b, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			lit.WriteByte(byte(b))
			i += 2
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t = append(t, refPart{text: lit.String()})
	}
	return t, nil
}

func isHex(s string) bool {
	_, err := strconv.ParseUint(s, 16, 8)
	return err == nil
}

// refValues is what a ref template reads of one ref.
type refValues struct {
	ref            string // full name: refs/heads/main
	id             digest.Digest
	commit         objects.Summary // its commit's, if it reads
	current        bool
	upstream       string    // full name of a branch's upstream, or ""
	track          *tracking // how it stands against it, if the template reads that
	push           string    // full name of where a push of the branch goes (@{push}), or ""
	pushTrk        *tracking // how it stands against that, if the template reads that
	upstreamRemote string    // branch.NAME.remote, for %(upstream:remotename)
	upstreamMerge  string    // branch.NAME.merge, for %(upstream:remoteref)
	pushRemote     string    // the push remote a key names, for %(push:remotename)
	now            time.Time
}

// expand is the template's line for ref, without its newline; commit is
// its commit's summary, if it reads.
func (t refTemplate) expand(r *repo.Repo, ref refs.Ref, commit objects.Summary, current bool) string {
	v := refValues{ref: ref.Name, id: ref.Target, commit: commit, current: current, now: time.Now()}
	if t.has("upstream") && strings.HasPrefix(ref.Name, refs.Heads) {
		v.upstream = upstreamOf(r, ref.Name)
		if v.upstream != "" && t.readsTrack("upstream") {
			// A count that cannot be made is left blank, as a field of
			// a commit that cannot be read.
			v.track, _ = trackingOf(r, ref.Name, ref.Target)
		}
		if v.upstream != "" {
			v.upstreamRemote, v.upstreamMerge = upstreamConfig(r, ref.Name)
		}
	}
	if t.has("push") && strings.HasPrefix(ref.Name, refs.Heads) {
		v.pushRemote = pushRemoteOf(r, ref.Name)
		v.push = pushOf(r, ref.Name)
		if v.push != "" && t.readsTrack("push") {
			v.pushTrk, _ = trackingTo(r, v.push, ref.Target)
		}
	}
	var b strings.Builder
	for _, p := range t {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		s, _ := p.value(v)
		b.WriteString(s)
	}
	return b.String()
}

// value is a field's value for v; ok is false for a field, or a
// modifier of it, that strata does not know. Names and message text are
// escaped as listings escape them.
func (p refPart) value(v refValues) (value string, ok bool) {
	plain := func(s string) (string, bool) { return s, p.mod == "" }
	switch p.field {
	case "refname":
		return refNameValue(v.ref, p.mod)
	case "upstream":
		if s, ok := trackValue(v.track, p.mod); ok {
			return s, true
		}
		switch p.mod {
		case "remotename":
			return pathquote.Name(v.upstreamRemote), true
		case "remoteref":
			return pathquote.Name(v.upstreamMerge), true
		}
		return refNameValue(v.upstream, p.mod)
	case "push":
		if s, ok := trackValue(v.pushTrk, p.mod); ok {
			return s, true
		}
		switch p.mod {
		case "remotename":
			return pathquote.Name(v.pushRemote), true
		case "remoteref":
			// git's names the remote branch only through
			// remote.NAME.push, which strata has not.
			return "", true
		}
		return refNameValue(v.push, p.mod)
	case "objectname":
		switch {
		case p.mod != "" && p.mod != "short":
			return "", false
		case v.id == "":
			return "", true
		case p.mod == "short":
			return shortID(v.id), true
		}
		return v.id.Encoded(), true
	case "objecttype":
		return plain("commit")
	case "HEAD":
		if v.current {
			return plain("*")
		}
		return plain(" ")
	case "subject", "body":
		subject, body := splitMessage(v.commit.Message)
		if p.field == "subject" {
			return plain(pathquote.Text(subject))
		}
		return plain(pathquote.Text(body))
	case "contents": // as log's %B, with its newline
		return plain(pathquote.Text(strings.TrimRight(v.commit.Message, "\n") + "\n"))
	case "authorname", "committername":
		name, _ := splitAuthor(v.commit.Author)
		return plain(pathquote.Text(name))
	case "authoremail", "committeremail":
		_, email := splitAuthor(v.commit.Author)
		switch p.mod {
		case "":
			return pathquote.Text("<" + email + ">"), true
		case "trim":
			return pathquote.Text(email), true
		case "localpart":
			local, _, _ := strings.Cut(email, "@")
			return pathquote.Text(local), true
		}
	case "authordate", "committerdate", "creatordate":
		st := gitdate.Default
		if p.mod != "" {
			var err error
			if st, err = gitdate.ParseStyle(p.mod); err != nil {
				return "", false
			}
		}
		if v.commit.Date.IsZero() {
			return "", true
		}
		return gitdate.Show(v.commit.Date, st, v.now), true
	case "color": // colours print nothing, as in log's templates
		return "", true
	}
	return "", false
}

// refNameValue is a ref's full name as modifier mod gives it: "",
// "short", "lstrip=N" (or git's older "strip=N": without its first N
// components); "" for no ref.
func refNameValue(full, mod string) (string, bool) {
	switch {
	case mod == "":
		return pathquote.Name(full), true
	case mod == "short":
		return pathquote.Name(refs.ShortName(full)), true
	case strings.HasPrefix(mod, "lstrip=") || strings.HasPrefix(mod, "strip="):
		_, n, _ := strings.Cut(mod, "=")
		k, err := strconv.Atoi(n)
		if err != nil || k < 0 {
			return "", false
		}
		parts := strings.Split(full, "/")
		return pathquote.Name(strings.Join(parts[min(k, len(parts)):], "/")), true
	}
	return "", false
}

// refTemplateHelp is branch's and tag's help on templates.
const refTemplateHelp = `Any other --format is a template, as git for-each-ref's: one line per
ref, with %(refname) (:short, :lstrip=N), %(objectname) (:short),
%(objecttype), %(HEAD) (* for the current branch), %(subject), %(body),
%(contents), %(authorname), %(authoremail) (:trim, :localpart),
%(authordate) (:STYLE, a log --date style), the same for committer,
%(creatordate), %(upstream) (:short; :track, "[ahead 1, behind 2]" or
"[gone]", :track,nobracket without the brackets, :trackshort, <, >, <>
or =; :remotename, the remote as branch.NAME.remote names it, and
:remoteref, branch.NAME.merge, both empty without an upstream),
%(push) (where a push of the branch goes, BRANCH@{push}: the same
modifiers; :remotename is the push remote as configured,
branch.NAME.pushRemote, remote.pushDefault or branch.NAME.remote, empty
when none is; :remoteref is empty, as git's without remote.NAME.push);
%(color:...) prints nothing;
%% is a %, and %NN the byte of hex NN (%09: a tab). Other fields are
refused.`

// checkRefFormat validates branch's and tag's --format: text, json, or a
// template (returned; nil for text and json).
func checkRefFormat(format string) (refTemplate, error) {
	if err := checkFormat(format); err == nil {
		return nil, nil
	}
	t, err := parseRefTemplate(format)
	if err != nil {
		return nil, usageError{err}
	}
	return t, nil
}

// has says whether the template reads field.
func (t refTemplate) has(field string) bool {
	for _, p := range t {
		if p.field == field {
			return true
		}
	}
	return false
}

// readsTrack says whether the template reads how a branch stands
// against field, its upstream or its push destination
// (%(upstream:track), %(push:trackshort)).
func (t refTemplate) readsTrack(field string) bool {
	for _, p := range t {
		if _, ok := trackValue(&tracking{}, p.mod); ok && p.field == field {
			return true
		}
	}
	return false
}

// trackValue is %(upstream:track) ("[ahead 1, behind 2]", "[gone]"),
// :track,nobracket (the same without brackets) or :trackshort (<, >, <>,
// =; nothing when gone), as git's, for t (nil: no upstream, ""); ok is
// false for another modifier.
func trackValue(t *tracking, mod string) (string, bool) {
	switch mod {
	case "track", "track,nobracket":
		c := ""
		if t != nil {
			c = t.counts()
		}
		if c != "" && mod == "track" {
			c = "[" + c + "]"
		}
		return c, true
	case "trackshort":
		switch {
		case t == nil || t.Gone:
			return "", true
		case t.Ahead > 0 && t.Behind > 0:
			return "<>", true
		case t.Ahead > 0:
			return ">", true
		case t.Behind > 0:
			return "<", true
		}
		return "=", true
	}
	return "", false
}

// upstreamOf is branch's upstream (full name) as git's %(upstream)
// names it, though it be gone (trackingOf), or "" when its remote is not
// set or not configured, or no refspec maps its remote branch.
func upstreamOf(r *repo.Repo, branch string) string {
	name := refs.ShortName(branch)
	if _, ok := r.Config.Get("branch." + name + ".remote"); !ok {
		return ""
	}
	up, err := r.Upstream(name, false)
	if err != nil || up.NoRemote {
		return ""
	}
	return up.Ref
}

// upstreamConfig is what branch (full name) has in branch.NAME.remote
// and branch.NAME.merge, as git's %(upstream:remotename) and
// %(upstream:remoteref) print them for a branch with an upstream.
func upstreamConfig(r *repo.Repo, branch string) (remoteName, merge string) {
	name := refs.ShortName(branch)
	remoteName, _ = r.Config.Get("branch." + name + ".remote")
	merge, _ = r.Config.Get("branch." + name + ".merge")
	return remoteName, merge
}

// pushRemoteOf is git's %(push:remotename) of branch (full name): the
// remote a push of it goes to when a key names it
// (branch.NAME.pushRemote, remote.pushDefault, branch.NAME.remote; an
// empty value too), "" when it goes to origin by default.
func pushRemoteOf(r *repo.Repo, branch string) string {
	if v, key := r.PushRemoteFrom(refs.ShortName(branch)); key != "" {
		return v
	}
	return ""
}

// pushOf is where a push of branch (full name) goes, as git's %(push)
// names it: the remote-tracking ref of BRANCH@{push} as push.default
// has it, though it be gone; "" when there is none (no upstream under
// simple, a remote that is not configured, none of its refspecs maps
// it).
func pushOf(r *repo.Repo, branch string) string {
	t, err := r.Upstream(refs.ShortName(branch), true)
	if err != nil || t.NoRemote {
		return ""
	}
	return t.Ref
}
