//go:build !strata_front

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// writeManTree writes a man page for cmd and each of its available
// subcommands with write, by name (strata.1, strata-run.1, ...). It writes roff
// itself: cobra's doc package renders markdown through blackfriday, whose
// package initialisation (with yaml's, for cobra's YAML docs) slowed down
// every strata command.
func writeManTree(cmd *cobra.Command, write func(name string, page []byte) error, source string) error {
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := writeManTree(c, write, source); err != nil {
			return err
		}
	}
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	return write(name+".1", []byte(manPage(cmd, source)))
}

func manPage(cmd *cobra.Command, source string) string {
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultHelpFlag()
	name := strings.ReplaceAll(cmd.CommandPath(), " ", "-")
	var b strings.Builder
	date := time.Now().Format("Jan 2006")
	// Each page's own title, as git-switch(1)'s is GIT-SWITCH.
	fmt.Fprintf(&b, ".nh\n.TH %q \"1\" %q %q \"strata manual\"\n", strings.ToUpper(name), date, source)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffText(name), roffText(cmd.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP\n", roffText(cmd.UseLine()))
	long := cmd.Long
	if long == "" {
		long = cmd.Short
	}
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(roffParagraphs(long))
	if f := cmd.NonInheritedFlags(); f.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS\n")
		manFlags(&b, f)
	}
	if f := cmd.InheritedFlags(); f.HasAvailableFlags() {
		b.WriteString(".SH OPTIONS INHERITED FROM PARENT COMMANDS\n")
		manFlags(&b, f)
	}
	if cmd.Example != "" {
		b.WriteString(".SH EXAMPLE\n.nf\n" + roffLines(cmd.Example) + ".fi\n")
	}
	var see []string
	if cmd.HasParent() {
		see = append(see, "\\fB"+roffText(strings.ReplaceAll(cmd.Parent().CommandPath(), " ", "-"))+"(1)\\fP")
	}
	children := cmd.Commands()
	sort.Slice(children, func(i, j int) bool { return children[i].Name() < children[j].Name() })
	for _, c := range children {
		if c.IsAvailableCommand() && !c.IsAdditionalHelpTopicCommand() {
			see = append(see, "\\fB"+roffText(name+"-"+c.Name())+"(1)\\fP")
		}
	}
	if len(see) > 0 {
		b.WriteString(".SH SEE ALSO\n" + strings.Join(see, ", ") + "\n")
	}
	return b.String()
}

func manFlags(b *strings.Builder, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" || f.Hidden {
			return
		}
		b.WriteString(".TP\n")
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			fmt.Fprintf(b, "\\fB\\-%s\\fP, ", roffText(f.Shorthand))
		}
		def := f.DefValue
		if f.Value.Type() == "string" {
			def = fmt.Sprintf("%q", def)
		}
		name, usage := pflag.UnquoteUsage(f) // the `NAME` quotes of --help
		if _, own := f.Annotations[ownDefault]; own {
			def = "=" + name // the usage says the default in words
		} else if f.NoOptDefVal != "" {
			def = "[=" + def + "]"
		} else {
			def = "=" + def
		}
		fmt.Fprintf(b, "\\fB\\-\\-%s\\fP%s\n%s\n", roffText(f.Name), roffText(def), roffText(usage))
	})
}

// roffParagraphs turns help text into roff: blank lines separate
// paragraphs, indented lines (examples) are kept as they are.
func roffParagraphs(s string) string {
	var b strings.Builder
	for i, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		if strings.HasPrefix(para, " ") || strings.HasPrefix(para, "\t") {
			b.WriteString(".nf\n" + roffLines(para) + ".fi\n")
			continue
		}
		b.WriteString(roffLines(para))
	}
	return b.String()
}

// roffLines escapes each line of s, so that none reads as a request.
func roffLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		l = roffText(l)
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = "\\&" + l
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

func roffText(s string) string { return strings.ReplaceAll(s, "\\", "\\e") }
