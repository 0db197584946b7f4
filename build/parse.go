package build

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// supported lists the instructions strata builds; any other is refused
// with its line (MAINTAINER, ONBUILD, and whatever Dockerfile grows).
var supported = map[string]bool{
	"from": true, "run": true, "copy": true, "add": true, "env": true, "arg": true,
	"workdir": true, "user": true, "cmd": true, "entrypoint": true, "expose": true,
	"label": true, "volume": true, "stopsignal": true, "healthcheck": true, "shell": true,
}

// step is one instruction of a stage after its FROM.
type step struct {
	n    int // 1-based over the whole file, as STEP n/N prints it
	line int
	cmd  instructions.Command
	text string // the instruction as it ran (for errors)
}

type stage struct {
	from  *instructions.Stage
	steps []step // the instructions after FROM
	first int    // step number of its FROM
}

// recipe is a parsed Dockerfile.
type recipe struct {
	name     string // the file's name, for errors
	escape   rune
	metaArgs []instructions.ArgCommand
	stages   []stage
	total    int
}

// lineError is an error at a line of the Dockerfile.
func lineError(file string, line int, err error) error {
	return fmt.Errorf("%s:%d: %w", file, line, err)
}

// parse reads a Dockerfile with buildkit's parser and refuses what strata
// does not build, naming the line and the instruction.
func parse(name string, src []byte) (*recipe, error) {
	if n := longLine(src); n > 0 {
		return nil, lineError(name, n, fmt.Errorf("line longer than %d bytes", maxLine-1))
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, parseError(name, err)
	}
	stageNames := map[string]bool{}
	r := &recipe{name: name, escape: res.EscapeToken}
	for _, node := range res.AST.Children {
		if !supported[strings.ToLower(node.Value)] {
			return nil, lineError(name, node.StartLine, fmt.Errorf("%s is not supported", quoteWord(strings.ToUpper(node.Value))))
		}
		v, err := instructions.ParseInstruction(node)
		if err != nil {
			return nil, lineError(name, node.StartLine, cleanErr(err))
		}
		if err := refuseFlags(v); err != nil {
			return nil, lineError(name, node.StartLine, err)
		}
		r.total++
		switch c := v.(type) {
		case *instructions.Stage:
			if n := strings.ToLower(c.Name); n != "" {
				if stageNames[n] {
					return nil, lineError(name, node.StartLine, fmt.Errorf("duplicate stage name %s", quoteWord(c.Name)))
				}
				stageNames[n] = true
			}
			r.stages = append(r.stages, stage{from: c, first: r.total})
		case *instructions.ArgCommand:
			if len(r.stages) == 0 {
				r.metaArgs = append(r.metaArgs, *c)
				r.total--
				continue
			}
			r.add(node.StartLine, c)
		case instructions.Command:
			if len(r.stages) == 0 {
				return nil, lineError(name, node.StartLine, errors.New("the first instruction must be FROM (or ARG)"))
			}
			r.add(node.StartLine, c)
		}
	}
	if len(r.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM instruction", name)
	}
	return r, nil
}

// parseError is buildkit's parse error at its line; a file without
// instructions has no line at fault (the parser says 0 for an empty one,
// its last line otherwise).
func parseError(name string, err error) error {
	var le *parser.LocationError
	if !errors.As(err, &le) || len(le.Locations) == 0 || len(le.Locations[0]) == 0 {
		return fmt.Errorf("%s: %w", name, cleanErr(err))
	}
	if msg := cleanErr(err); msg.Error() == "file with no instructions" {
		return fmt.Errorf("%s: %w", name, msg)
	}
	return lineError(name, le.Locations[0][0].Start.Line, cleanErr(err))
}

// maxLine is the parser's scanner's buffer (bufio.MaxScanTokenSize): a
// line must leave room in it for its newline, even the last.
const maxLine = 64 << 10

// longLine is the number of the first line the parser cannot read, 0 if
// none. The parser itself names the line before it, or says "file with
// no instructions" when it is the first.
func longLine(src []byte) int {
	for n := 1; len(src) > 0; n++ {
		line, rest, _ := bytes.Cut(src, []byte{'\n'})
		if len(line) >= maxLine {
			return n
		}
		src = rest
	}
	return 0
}

// stageIndex is the stage named name (as --target names it: by name,
// in any case, as docker matches it).
func (r *recipe) stageIndex(name string) (int, error) {
	for i, st := range r.stages {
		if st.from.Name != "" && strings.EqualFold(st.from.Name, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("--target %s: %s has no stage of that name (FROM ... AS %s)", quoteWord(name), r.name, quoteWord(name))
}

// lastStep is the number of stage i's last step.
func (r *recipe) lastStep(i int) int {
	st := r.stages[i]
	if len(st.steps) == 0 {
		return st.first
	}
	return st.steps[len(st.steps)-1].n
}

func (r *recipe) add(line int, c instructions.Command) {
	s := &r.stages[len(r.stages)-1]
	s.steps = append(s.steps, step{n: r.total, line: line, cmd: c})
}

// refuseFlags refuses the options strata does not carry out, rather than
// building something other than what the recipe says.
func refuseFlags(v any) error {
	switch c := v.(type) {
	case *instructions.RunCommand:
		if len(c.CmdLine) == 0 || c.PrependShell && strings.TrimSpace(strings.Join(c.CmdLine, " ")) == "" {
			return errors.New("RUN needs a command")
		}
		if len(c.FlagsUsed) > 0 {
			return fmt.Errorf("RUN --%s is not supported", c.FlagsUsed[0])
		}
		if len(c.Files) > 0 && (len(c.CmdLine) != 1 || !c.PrependShell) {
			return errors.New("RUN with a here-document needs the shell form")
		}
		if len(c.Files) > 0 && parser.MustParseHeredoc(c.CmdLine[0]) != nil && strings.HasPrefix(heredocScript(c.Files[0]), "#!") {
			// buildkit runs it as a file of its own, mounted for the RUN.
			return errors.New("RUN with a #! here-document is not supported (RUN <<EOF with a shell script is)")
		}
	case *instructions.CopyCommand:
		if len(c.SourceContents) > 0 {
			return errors.New("COPY with a here-document is not supported")
		}
		if c.Parents || len(c.ExcludePatterns) > 0 {
			return errors.New("COPY --parents and --exclude are not supported")
		}
		for _, s := range c.SourcePaths {
			if isURL(s) {
				return fmt.Errorf("COPY %s: a URL is no source for COPY, as in docker", s)
			}
		}
	case *instructions.AddCommand:
		if len(c.SourceContents) > 0 {
			return errors.New("ADD with a here-document is not supported")
		}
		if c.Checksum != "" || c.KeepGitDir != nil || c.Unpack != nil || len(c.ExcludePatterns) > 0 {
			return errors.New("ADD --checksum, --keep-git-dir, --unpack and --exclude are not supported")
		}
		for _, s := range c.SourcePaths {
			if isURL(s) {
				return fmt.Errorf("ADD %s: remote sources are not supported (fetch it with RUN, or into the context)", s)
			}
		}
	case *instructions.CmdCommand:
		if len(c.Files) > 0 {
			return errors.New("CMD with a here-document is not supported")
		}
	case *instructions.EntrypointCommand:
		if len(c.Files) > 0 {
			return errors.New("ENTRYPOINT with a here-document is not supported")
		}
	}
	return nil
}

// runCmdLine is a RUN's command line with its here-documents, as
// buildkit runs them: a lone <<EOF is the script the shell runs; any
// other line goes to the shell with its documents after it, as written,
// for the shell to read (cat <<EOF > /f).
func runCmdLine(c *instructions.RunCommand) instructions.ShellDependantCmdLine {
	if len(c.Files) == 0 {
		return c.ShellDependantCmdLine
	}
	if parser.MustParseHeredoc(c.CmdLine[0]) != nil {
		return instructions.ShellDependantCmdLine{CmdLine: []string{heredocScript(c.Files[0])}, PrependShell: true}
	}
	return instructions.ShellDependantCmdLine{CmdLine: []string{withHeredocs(c)}, PrependShell: true}
}

// withHeredocs is the RUN's line followed by its documents, as written.
func withHeredocs(c *instructions.RunCommand) string {
	var b strings.Builder
	b.WriteString(strings.Join(c.CmdLine, " "))
	for _, f := range c.Files {
		b.WriteByte('\n')
		b.WriteString(f.Data)
		b.WriteString(f.Name)
	}
	return b.String()
}

// heredocScript is a document's text, without its leading tabs for <<-.
func heredocScript(f instructions.ShellInlineFile) string {
	if f.Chomp {
		return parser.ChompHeredocContent(f.Data)
	}
	return f.Data
}

// isURL: s names a remote source, as buildkit tells one (an http(s)
// URL, a git repository by git://, ssh:// or git@host:).
func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://", "ssh://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// cleanErr keeps buildkit's message and drops its wrapping (stack
// traces, "dockerfile parse error on line N:" which we say ourselves).
func cleanErr(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); strings.HasPrefix(msg, "dockerfile parse error") && i >= 0 {
		msg = msg[i+2:]
	}
	return errors.New(quoteText(msg))
}
