package remote

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// networkError is a registry that could not be reached, in one line: its
// host and why ("127.0.0.1:5199: connection refused (is the registry
// running?)"), not net/http's `Get "https://127.0.0.1:5199/v2/": dial tcp
// 127.0.0.1:5199: connect: connection refused`, twice for a registry tried
// over https and then http. The error it wraps stays reachable.
type networkError struct {
	host, why string // host "": a message that names it already
	err       error
}

func (e *networkError) Error() string {
	if e.host == "" {
		return e.why
	}
	return e.host + ": " + e.why
}
func (e *networkError) Unwrap() error { return e.err }

// wrapNetworkErr words a failure to reach a registry (its TLS
// certificate refused included) as a networkError; any other error is
// returned as it is.
func wrapNetworkErr(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	host := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		host = u.Host
	}
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var badCert *tls.CertificateVerificationError
	why := ""
	switch {
	case errors.As(err, &unknownCA):
		why = "TLS certificate signed by an unknown authority (trust the CA that signed it: as ca.crt in /etc/docker/certs.d/" + host + "/ for this registry, as docker and podman do, or for every host: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)"
	case clientCertRefused(err) != "":
		why = "the registry wants a client certificate it accepts (" + clientCertRefused(err) + "): put client.cert and client.key in /etc/docker/certs.d/" + host + "/, as for docker and podman"
	case errors.As(err, &badCert):
		why = "TLS certificate refused: " + badCert.Err.Error()
	case errors.Is(err, http.ErrSchemeMismatch):
		why = "the registry speaks plain HTTP, not https (allow it with --insecure, or remote.NAME.insecure = true for a remote)"
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused (is the registry running?)"
	case errors.As(err, &dns) && dns.IsNotFound:
		why = "no such host"
	case errors.As(err, &dns):
		why = "cannot look up the host: " + dns.Err
	case errors.Is(err, syscall.EHOSTUNREACH):
		why = "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		why = "network is unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		why = "the registry closed the connection without answering"
	case errors.Is(err, syscall.ECONNRESET):
		why = "connection reset by the registry"
	case ue.Timeout():
		why = "timed out (the registry does not answer)"
	default:
		return err
	}
	return &networkError{host: host, why: why, err: err}
}

// isCertificateErr reports whether err holds a registry's TLS
// certificate that failed verification. For a registry that may be
// spoken to in plain HTTP too (loopback, --insecure), that is the https
// attempt's failure; the http attempt's answer beside it (a TLS server's
// "400 Client sent an HTTP request to an HTTPS server") is not the news.
func isCertificateErr(err error) bool {
	var badCert *tls.CertificateVerificationError
	return errors.As(err, &badCert) || clientCertRefused(err) != ""
}

// clientCertRefused is the TLS alert of a registry that wants a client
// certificate and got none, or refused the one offered; "" for any other
// error. (Go has no type for an alert received, only its text.)
func clientCertRefused(err error) string {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return ""
	}
	switch alert := op.Err.Error(); alert {
	case "tls: certificate required", "tls: bad certificate", "tls: unknown certificate authority",
		"tls: certificate expired", "tls: unsupported certificate", "tls: certificate revoked":
		return alert
	}
	return ""
}
