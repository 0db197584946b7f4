package exec

import "testing"

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
