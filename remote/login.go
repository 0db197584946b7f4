package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryKey is the key docker's config.json uses for a registry.
func registryKey(reg name.Registry) string {
	if reg.RegistryStr() == name.DefaultRegistry {
		return authn.DefaultAuthKey
	}
	return reg.RegistryStr()
}

// Login checks user and password against registry (a host[:port]) and
// stores them where docker does: ~/.docker/config.json ($DOCKER_CONFIG),
// or the credential helper it names. They are never written elsewhere.
func Login(ctx context.Context, registry, user, password string, o Options) error {
	registry, err := RegistryHost(registry)
	if err != nil {
		return err
	}
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return err
	}
	if plainHTTPAllowed(reg.RegistryStr(), o.Insecure) {
		if reg, err = name.NewRegistry(registry, name.Insecure); err != nil {
			return err
		}
	}
	rt := newPolicyTransport(o.transport(), reg.RegistryStr(), o.Insecure)
	basic := &authn.Basic{Username: user, Password: password}
	t, err := transport.NewWithContext(ctx, reg, basic, rt, nil)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", reg.RegistryStr(), scrub(err, password))
	}
	// https: the transport switches the registry's own requests to the
	// scheme its ping found, which is http only where the policy allows.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+reg.RegistryStr()+"/v2/", nil)
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", reg.RegistryStr(), scrub(err, password))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("log in to %s: %s: check the user name and password", reg.RegistryStr(), resp.Status)
	}
	cf, err := config.Load(dockerConfigDir())
	if err != nil {
		return err
	}
	key := registryKey(reg)
	if err := cf.GetCredentialsStore(key).Store(types.AuthConfig{ServerAddress: key, Username: user, Password: password}); err != nil {
		return fmt.Errorf("store credentials: %w", err)
	}
	return cf.Save()
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
	key := registryKey(reg)
	if _, ok := cf.AuthConfigs[key]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		return fmt.Errorf("not logged in to %s", key)
	}
	if err := cf.GetCredentialsStore(key).Erase(key); err != nil {
		return fmt.Errorf("erase credentials: %w", err)
	}
	return cf.Save()
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
