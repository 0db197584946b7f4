package exec

import (
	"os"
	"testing"
)

func TestResolvConf(t *testing.T) {
	host := []byte("# from the host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\ndomain corp\nsearch corp lab\noptions edns0\n")
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{}, string(host)},
		{Spec{DNS: []string{"1.1.1.1"}}, "# from the host\ndomain corp\nsearch corp lab\noptions edns0\nnameserver 1.1.1.1\n"},
		{Spec{DNSSearch: []string{"example.com"}}, "# from the host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\noptions edns0\nsearch example.com\n"},
		{Spec{DNSOptions: []string{"ndots:2", "timeout:1"}}, "# from the host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\ndomain corp\nsearch corp lab\noptions ndots:2 timeout:1\n"},
	} {
		if got := string(resolvConf(host, &c.spec)); got != c.want {
			t.Errorf("resolvConf(%+v):\n%s\nwant\n%s", c.spec, got, c.want)
		}
	}
}

// A private network gets the nameservers it can reach, as docker's bridge:
// systemd-resolved's upstream servers for its stub, no loopback or IPv6
// server, and docker's public ones when nothing is left.
func TestPrivateResolvConf(t *testing.T) {
	upstream := func() ([]byte, error) { return []byte("nameserver 192.0.2.53\nsearch lan\n"), nil }
	none := func() ([]byte, error) { return nil, os.ErrNotExist }
	for _, c := range []struct {
		host     string
		upstream func() ([]byte, error)
		want     string
	}{
		{"nameserver 10.0.0.1\nsearch corp\n", none, "nameserver 10.0.0.1\nsearch corp\n"},
		{"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n", upstream, "nameserver 192.0.2.53\nsearch lan\n"},
		{"nameserver 127.0.0.53\nsearch lan\n", none, "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"nameserver 127.0.0.1\nnameserver 10.0.0.1\n", upstream, "nameserver 10.0.0.1\n"},
		{"nameserver ::1\nnameserver fd00::53\nnameserver fe80::1%eth0\n", none, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"# no servers\n", none, "# no servers\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
	} {
		if got := string(privateResolvConf([]byte(c.host), c.upstream)); got != c.want {
			t.Errorf("privateResolvConf(%q):\n%s\nwant\n%s", c.host, got, c.want)
		}
	}
}
