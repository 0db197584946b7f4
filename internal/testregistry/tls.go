package testregistry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// TLS is what a registry started WithTLS serves with, as files: its own
// CA (not trusted by the system), and a client certificate that CA
// signed, which the registry requires when started WithTLS(true).
type TLS struct {
	CA, ClientCert, ClientKey string
}

// WithTLS serves https with a certificate for 127.0.0.1 signed by a CA
// made for the registry (Registry.TLS); with clientAuth, only clients
// that present a certificate the CA signed are served.
func WithTLS(clientAuth bool) Option {
	return func(o *options) { o.tls, o.clientAuth = true, clientAuth }
}

// makeTLS writes a CA, a server certificate for 127.0.0.1 and a client
// certificate into dir, and returns the registry config's tls section.
func makeTLS(dir string, clientAuth bool) (*TLS, string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strata test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", err
	}
	ca, _ := x509.ParseCertificate(caDER)
	t := &TLS{CA: filepath.Join(dir, "ca.crt"), ClientCert: filepath.Join(dir, "client.cert"), ClientKey: filepath.Join(dir, "client.key")}
	if err := writePEM(t.CA, "CERTIFICATE", caDER); err != nil {
		return nil, "", err
	}
	leaf := func(serial int64, usage x509.ExtKeyUsage, certPath, keyPath string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
			return err
		}
		return writePEM(keyPath, "EC PRIVATE KEY", kb)
	}
	server, serverKey := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := leaf(2, x509.ExtKeyUsageServerAuth, server, serverKey); err != nil {
		return nil, "", err
	}
	if err := leaf(3, x509.ExtKeyUsageClientAuth, t.ClientCert, t.ClientKey); err != nil {
		return nil, "", err
	}
	cfg := fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", server, serverKey)
	if clientAuth {
		cfg += fmt.Sprintf("    clientcas:\n      - %s\n", t.CA)
	}
	return t, cfg, nil
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

// probeClient is what the readiness probe asks with: plain HTTP, or
// https trusting the registry's CA and offering its client certificate.
func probeClient(t *TLS) (*http.Client, string, error) {
	if t == nil {
		return http.DefaultClient, "http", nil
	}
	b, err := os.ReadFile(t.CA)
	if err != nil {
		return nil, "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	pair, err := tls.LoadX509KeyPair(t.ClientCert, t.ClientKey)
	if err != nil {
		return nil, "", err
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}
	return &http.Client{Transport: tr}, "https", nil
}
