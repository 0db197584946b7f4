package build

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// text is the instruction as it runs, after expansion: the commit message,
// history created_by and part of the cache key.
func (b *builder) text(s *state, c instructions.Command) (string, error) {
	switch c := c.(type) {
	case *instructions.RunCommand:
		if len(c.Files) > 0 {
			return "RUN " + withHeredocs(c), nil // the documents are the command
		}
		return "RUN " + cmdLineText(c.ShellDependantCmdLine), nil
	case *instructions.CmdCommand:
		return "CMD " + cmdLineText(c.ShellDependantCmdLine), nil
	case *instructions.EntrypointCommand:
		return "ENTRYPOINT " + cmdLineText(c.ShellDependantCmdLine), nil
	case *instructions.CopyCommand:
		return "COPY " + flagsText(map[string]string{"from": c.From, "chown": c.Chown, "chmod": c.Chmod}) + sdText(c.SourcesAndDest), nil
	case *instructions.AddCommand:
		return "ADD " + flagsText(map[string]string{"chown": c.Chown, "chmod": c.Chmod}) + sdText(c.SourcesAndDest), nil
	case *instructions.EnvCommand:
		return "ENV " + kvText(c.Env), nil
	case *instructions.LabelCommand:
		return "LABEL " + kvText(c.Labels), nil
	case *instructions.WorkdirCommand:
		return "WORKDIR " + c.Path, nil
	case *instructions.UserCommand:
		return "USER " + c.User, nil
	case *instructions.ExposeCommand:
		return "EXPOSE " + strings.Join(c.Ports, " "), nil
	case *instructions.VolumeCommand:
		return "VOLUME " + jsonText(c.Volumes), nil
	case *instructions.StopSignalCommand:
		return "STOPSIGNAL " + c.Signal, nil
	case *instructions.ShellCommand:
		return "SHELL " + jsonText(c.Shell), nil
	case *instructions.HealthCheckCommand:
		return strings.TrimSpace(c.String()), nil
	}
	return "", fmt.Errorf("%s is not supported", strings.ToUpper(c.Name()))
}

func cmdLineText(c instructions.ShellDependantCmdLine) string {
	if c.PrependShell {
		return strings.Join(c.CmdLine, " ")
	}
	return jsonText(c.CmdLine)
}

func sdText(sd instructions.SourcesAndDest) string {
	return strings.Join(append(append([]string(nil), sd.SourcePaths...), sd.DestPath), " ")
}

func flagsText(f map[string]string) string {
	var out []string
	for _, k := range []string{"from", "chown", "chmod"} {
		if v := f[k]; v != "" {
			out = append(out, "--"+k+"="+v+" ")
		}
	}
	return strings.Join(out, "")
}

func kvText(kvs instructions.KeyValuePairs) string {
	var out []string
	for _, kv := range kvs {
		out = append(out, kv.Key+"="+quoteIfNeeded(kv.Value))
	}
	return strings.Join(out, " ")
}

func quoteIfNeeded(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"'\\$") {
		return fmt.Sprintf("%q", v)
	}
	return v
}
