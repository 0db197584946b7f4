//go:build !strata_front

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/strata-sh/strata/remote"
)

func init() {
	register("login", newLoginCommand)
	register("logout", newLogoutCommand)
}

func newLoginCommand(g *globals) *cobra.Command {
	var user, password string
	var passwordStdin, insecure bool
	cmd := &cobra.Command{
		Use:   "login [-u USER] [--password-stdin | -p PASSWORD] REGISTRY",
		Short: "Store credentials for a registry",
		Long: `Check USER and PASSWORD against REGISTRY (host[:port]; as with docker, an
http:// or https:// prefix and a path are dropped) and store them as
docker does: in ~/.docker/config.json ($DOCKER_CONFIG), or in the
credential helper it names. strata reads them from there (and from any
credential helper docker is configured with); they are never printed,
logged or written to the repository. Stored in config.json itself (no
helper), they are only base64-encoded: login says so in one line on
stderr, and makes a config.json that others may read 0600 (docker keeps
its mode; a symbolic link is written through and left as it is).

  echo "$TOKEN" | strata login -u ci --password-stdin registry.example.com

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return usagef("login: name the registry, host[:port]")
			}
			if passwordStdin {
				if password != "" {
					return usagef("login: give --password-stdin or -p, not both")
				}
				line, err := bufio.NewReader(g.stdinFor(cmd.Context())).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("login: read the password: %w", err)
				}
				// Nothing, or an empty line: the same mistake.
				if password = strings.TrimRight(line, "\r\n"); password == "" {
					return errors.New("login: no password on standard input")
				}
			}
			if user == "" || password == "" {
				return usagef("login: give -u USER and a password (--password-stdin)")
			}
			if !passwordStdin {
				// As docker's: the command line is in ps and the history.
				fmt.Fprintln(g.stderr, "strata: warning: login: a password given with -p is visible to other users in ps and kept in shell history; use --password-stdin")
			}
			res, err := remote.Login(cmd.Context(), args[0], user, password, remote.Options{Insecure: insecure})
			if err != nil {
				return fmt.Errorf("login %s: %w", remote.Redact(args[0]), err)
			}
			if res.File != "" {
				// One line where docker prints four, on every login.
				mode := ""
				if res.Tightened {
					mode = ", which others could read: now 0600"
				}
				fmt.Fprintf(g.stderr, "strata: login: credentials stored unencrypted in %s%s (a credential helper encrypts them: credsStore in that file)\n", res.File, mode)
			}
			fmt.Fprintln(g.stdout, "Login Succeeded") // docker's words
			return nil
		},
	}
	cmd.Flags().StringVarP(&user, "username", "u", "", "user `NAME`")
	cmd.Flags().StringVarP(&password, "password", "p", "", "password (visible to other users in ps: prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "allow plain HTTP to the registry (loopback always may), and any TLS certificate from it")
	return cmd
}

func newLogoutCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout REGISTRY",
		Short: "Forget the credentials of a registry",
		Long: `Remove REGISTRY's credentials (host[:port]; an http:// or https://
prefix and a path are dropped, as docker does) from where login stored them.
Without a docker config.json, strata reads podman's auth file
($REGISTRY_AUTH_FILE, containers/auth.json); logout leaves that to
'podman logout', and says so.

Exit status: 0 on success, 1 on errors, 2 on usage errors.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return usagef("logout: name the registry, host[:port]")
			}
			if err := remote.Logout(args[0]); err != nil {
				return fmt.Errorf("logout %s: %w", remote.Redact(args[0]), err)
			}
			host, _ := remote.RegistryHost(args[0])
			fmt.Fprintf(g.stdout, "Removed login credentials for %s\n", host)
			return nil
		},
	}
}
