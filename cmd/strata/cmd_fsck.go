package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register("fsck", newFsckCommand) }

func newFsckCommand(g *globals) *cobra.Command {
	var format string
	return withFormat(&cobra.Command{
		Use:   "fsck",
		Short: "Verify every blob and ref",
		Long: `Rehash every blob in the store, and check that every branch, tag and
HEAD points at a complete commit with a complete history.
Exit status: 0 when clean, 1 when anything is damaged.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			r, err := g.openRepo()
			if err != nil {
				return err
			}
			res, err := r.Fsck(cmd.Context())
			if err != nil {
				return fmt.Errorf("fsck: %w", err)
			}
			if format == "json" {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				for _, p := range res.Problems {
					fmt.Fprintln(g.stdout, p)
				}
				fmt.Fprintf(g.stdout, "checked %s, %s, %s: %s\n",
					plural(res.Blobs, "blob"), plural(res.Refs, "ref"), plural(res.Commits, "commit"), plural(len(res.Problems), "problem"))
			}
			if len(res.Problems) > 0 {
				return exitCodeError{code: exitError, err: fmt.Errorf("fsck: %s found", plural(len(res.Problems), "problem"))}
			}
			return nil
		},
	}, &format)
}

// withFormat adds --format text|json to cmd.
func withFormat(cmd *cobra.Command, format *string) *cobra.Command {
	cmd.Flags().StringVar(format, "format", "text", "output format: text or json")
	return cmd
}
