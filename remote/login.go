package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryKey is the key docker's config.json uses for a registry
// (host[:port]).
func registryKey(registry string) string {
	if registry == name.DefaultRegistry {
		return authn.DefaultAuthKey
	}
	return registry
}

// LoginResult says where Login stored the credentials.
type LoginResult struct {
	// File is the config.json they were written to, in clear (base64);
	// "" when a credential helper keeps them.
	File string
	// Tightened: File was readable by others; Login made it 0600.
	Tightened bool
}

// Login checks user and password against registry (a host[:port]) and
// stores them where docker does: ~/.docker/config.json ($DOCKER_CONFIG),
// or the credential helper it names. They are never written elsewhere.
// A config.json that others may read is made 0600 once it holds them
// (docker keeps its mode); one that is a symbolic link is written
// through and left as it is, as docker does.
func Login(ctx context.Context, registry, user, password string, o Options) (LoginResult, error) {
	var res LoginResult
	registry, err := RegistryHost(registry)
	if err != nil {
		return res, err
	}
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return res, err
	}
	if plainHTTPAllowed(reg.RegistryStr(), o.Insecure) {
		if reg, err = name.NewRegistry(registry, name.Insecure); err != nil {
			return res, err
		}
	}
	inner, err := o.transport(reg.RegistryStr())
	if err != nil {
		return res, err
	}
	rt := newPolicyTransport(inner, reg.RegistryStr(), o.Insecure)
	basic := &authn.Basic{Username: user, Password: password}
	t, err := transport.NewWithContext(ctx, reg, basic, rt, nil)
	if err != nil {
		return res, loginError(err, password)
	}
	// https: the transport switches the registry's own requests to the
	// scheme its ping found, which is http only where the policy allows.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+reg.RegistryStr()+"/v2/", nil)
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return res, loginError(err, password)
	}
	err = transport.CheckError(resp, http.StatusOK)
	resp.Body.Close()
	if err != nil {
		return res, loginError(err, password)
	}
	cf, err := config.Load(dockerConfigDir())
	if err != nil {
		return res, err
	}
	key := registryKey(reg.RegistryStr())
	auth := types.AuthConfig{ServerAddress: key, Username: user, Password: password}
	store := cf.GetCredentialsStore(key)
	if reflect.TypeOf(store) != reflect.TypeOf(credentials.NewFileStore(cf)) {
		if err := store.Store(auth); err != nil {
			return res, fmt.Errorf("store credentials: %w", helperError(err, helperName(cf, key)))
		}
		return res, cf.Save()
	}
	// The file itself, not docker's file store: that prints a four-line
	// warning on os.Stderr; the caller says it in one line.
	cf.AuthConfigs[key] = auth
	if err := cf.Save(); err != nil {
		return res, fmt.Errorf("store credentials: %w", err)
	}
	res.File = cf.Filename
	res.Tightened, err = privateFile(cf.Filename)
	return res, err
}

// loginError words what login's requests met: a refusal as a wrong user
// name or password; any other answer (a web server that is no registry,
// a token server's failure) in one short line, registryError's, where it
// was ggcr's text with the whole body and both schemes' failures; a
// registry out of reach as networkError. The password is never in it.
func loginError(err error, password string) error {
	var terr *transport.Error
	if !errors.As(err, &terr) || isCertificateErr(err) {
		return scrub(unreachable(err), password)
	}
	if c := terr.StatusCode; c == http.StatusUnauthorized || c == http.StatusForbidden {
		return fmt.Errorf("%d %s: check the user name and password", c, http.StatusText(c))
	}
	return scrub(&registryError{terr: terr}, password)
}

// privateFile makes a regular file that others may read 0600, and says
// whether it had to; a symbolic link (docker writes through it) is left.
func privateFile(path string) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
		return false, nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return false, fmt.Errorf("%s holds credentials and others may read it: %w", path, err)
	}
	return true, nil
}

// Logout forgets the credentials of registry.
func Logout(registry string) error {
	registry, err := RegistryHost(registry)
	if err != nil {
		return err
	}
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return err
	}
	cf, err := config.Load(dockerConfigDir())
	if err != nil {
		return err
	}
	key := registryKey(reg.RegistryStr())
	if _, ok := cf.AuthConfigs[key]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		if f := podmanAuthFile(); f != "" {
			if pf, err := loadAuthFile(f); err == nil {
				if _, ok := pf.AuthConfigs[key]; ok {
					return fmt.Errorf("not logged in to %s by strata or docker: the credentials strata reads for it are podman's, in %s: run 'podman logout %s'", key, f, key)
				}
			}
		}
		return fmt.Errorf("not logged in to %s", key)
	}
	if err := cf.GetCredentialsStore(key).Erase(key); err != nil {
		return fmt.Errorf("erase credentials: %w", helperError(err, helperName(cf, key)))
	}
	return cf.Save()
}

// podmanAuthFile is podman's auth file where podman looks for it
// ($REGISTRY_AUTH_FILE, else containers/auth.json under $XDG_RUNTIME_DIR,
// else under $XDG_CONFIG_HOME or ~/.config), which strata reads for a
// registry docker's config has no credentials for (podmanFallback); ""
// when there is none.
func podmanAuthFile() string {
	home, herr := os.UserHomeDir()
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" && fileExists(f) {
		return f
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && fileExists(filepath.Join(d, "containers/auth.json")) {
		return filepath.Join(d, "containers/auth.json")
	}
	d := os.Getenv("XDG_CONFIG_HOME")
	if d == "" && herr == nil {
		d = filepath.Join(home, ".config")
	}
	if f := filepath.Join(d, "containers/auth.json"); d != "" && fileExists(f) {
		return f
	}
	return ""
}

func loadAuthFile(path string) (*configfile.ConfigFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return config.LoadFromReader(f)
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// unreachable words a failure to reach the registry login names without
// naming the registry again (networkError).
func unreachable(err error) error {
	err = wrapNetworkErr(err)
	if ne, ok := err.(*networkError); ok {
		ne.host = ""
	}
	return err
}

// scrub keeps a password out of an error message.
func scrub(err error, secret string) error {
	if secret == "" || err == nil {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(msg, secret, "***"))
}

// dockerConfigDir is $DOCKER_CONFIG, else ~/.docker, read on every call:
// docker/cli's own config.Dir reads the variable once per process.
func dockerConfigDir() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	return config.Dir()
}

// helperMissing is how docker's credential helper client words a helper
// that is not installed: it keeps only the text of exec's error.
var helperMissing = regexp.MustCompile(`exec: "(docker-credential-[^"]*)": executable file not found in \$PATH`)

// helperName is the credential helper config.json names for key, ""
// for none.
func helperName(cf *configfile.ConfigFile, key string) string {
	if h := cf.CredentialHelpers[key]; h != "" {
		return h
	}
	return cf.CredentialsStore
}

// helperError words a missing credential helper as what to do about it
// ("error getting credentials - err: exec: ..., out: “" said it in
// docker's words), and names helper (docker-credential-HELPER) in any
// other error, which was docker's words alone (or a JSON decoder's, for
// a helper whose answer is not JSON: "invalid character 'h' in literal
// true").
func helperError(err error, helper string) error {
	if err == nil {
		return nil
	}
	if m := helperMissing.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("credential helper %s is not installed: install it, or remove it from credsStore or credHelpers in %s", m[1], filepath.Join(dockerConfigDir(), config.ConfigFileName))
	}
	if helper == "" {
		return err
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		err = fmt.Errorf("its answer is not JSON: %w", err)
	}
	return fmt.Errorf("credential helper docker-credential-%s: %w", helper, err)
}

// helperKeychain is a keychain whose credential helper's errors are
// worded by helperError.
type helperKeychain struct{ kc authn.Keychain }

// podmanFallback resolves a registry's credentials through kc (docker's
// config.json and credential helpers) and, when that has none for it,
// through podman's auth file, registry by registry as podman and skopeo
// look in both: go-containerregistry's keychain reads podman's file only
// while there is no docker config.json at all, so the first docker or
// strata login hid every podman login.
type podmanFallback struct{ kc authn.Keychain }

func (k podmanFallback) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.kc.Resolve(r)
	if err != nil || a != authn.Anonymous {
		return a, err
	}
	f := podmanAuthFile()
	if f == "" {
		return a, nil
	}
	cf, err := loadAuthFile(f)
	if err != nil {
		return nil, fmt.Errorf("podman's credentials, %s: %w", f, err)
	}
	ac, ok := cf.AuthConfigs[registryKey(r.RegistryStr())]
	if !ok {
		return a, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
}

func (k helperKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k helperKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	a, err := authn.Resolve(ctx, k.kc, r)
	if err == nil {
		return a, nil
	}
	helper := ""
	if cf, lerr := config.Load(dockerConfigDir()); lerr == nil {
		helper = helperName(cf, registryKey(r.RegistryStr()))
	}
	return a, helperError(err, helper)
}
