//go:build !strata_init

package exec

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// natTable is strata's nftables table: the same rules for every private
// network, so it holds no per-container state and needs no cleanup when a
// run dies. It stays until reboot or `nft delete table ip strata`.
const natTable = "strata"

const ipForward = "/proc/sys/net/ipv4/ip_forward"

// ensureNAT makes sure the host forwards and masquerades private networks.
// When it has to turn IPv4 forwarding on, the table also drops forwarding
// between any two non-strata interfaces, so the host routes nothing it did
// not route before (docker sets its FORWARD policy to drop for the same
// reason).
func ensureNAT() error {
	// One netlink socket for every query and change below.
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	// Every run but the first after boot finds the table: no lock then.
	ready, _, err := natReady(c)
	if err != nil {
		return err
	}
	// Another firewall may have come since (docker, ufw): look every time.
	// One strata may not change (a table its owner locked) costs the
	// container the way out, not the run.
	if err := openForeignForward(c); err != nil {
		slog.Warn("containers on private networks may reach nothing beyond this host", "err", err)
	}
	if ready {
		return nil
	}
	lock, err := lockFile("/run/strata/network.lock")
	if err != nil {
		return err
	}
	defer lock.Close()
	ready, forwarding, err := natReady(c)
	if err != nil || ready {
		return err // another strata set it up meanwhile
	}
	if err := writeNATTable(c, !forwarding); err != nil {
		return err
	}
	if !forwarding {
		if err := os.WriteFile(ipForward, []byte("1\n"), 0); err != nil {
			return fmt.Errorf("enable IPv4 forwarding: %w", err)
		}
	}
	return nil
}

// natReady reports whether the table exists and the host forwards, and
// whether it forwards.
func natReady(c *nftables.Conn) (ready, forwarding bool, err error) {
	fwd, err := os.ReadFile(ipForward)
	if err != nil {
		return false, false, err
	}
	forwarding = bytes.HasPrefix(bytes.TrimSpace(fwd), []byte("1"))
	t, err := c.ListTableOfFamily(natTable, nftables.TableFamilyIPv4)
	return err == nil && t != nil && forwarding, forwarding, nil
}

// lockFile creates path's directory and holds an exclusive flock on it;
// closing the file releases it.
func lockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// writeNATTable replaces the table in one transaction:
//
//	table ip strata {
//	  chain postrouting { type nat hook postrouting priority srcnat
//	    ip saddr 10.89.0.0/16 oifname != "strata-*" masquerade }
//	  chain forward { type filter hook forward priority filter
//	    oifname "strata-*" ct state established,related accept
//	    oifname "strata-*" drop   # no new connection to a container: not
//	                              # from another one, not from the network
//	    iifname != "strata-*" oifname != "strata-*" drop  # with onlyOurs
//	  }
//	}
func writeNATTable(c *nftables.Conn, onlyOurs bool) error {
	t := &nftables.Table{Name: natTable, Family: nftables.TableFamilyIPv4}
	// Adding then deleting makes the delete safe when there is no table.
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	post := c.AddChain(&nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	fwd := c.AddChain(&nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})

	net := PrivateSubnet.Masked()
	mask := net.Addr().As4()
	bits := net.Bits()
	m := [4]byte{}
	for i := range bits {
		m[i/8] |= 0x80 >> (i % 8)
	}
	saddr := []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: m[:], Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: mask[:]},
	}
	rule := func(ch *nftables.Chain, e ...[]expr.Any) {
		var all []expr.Any
		for _, x := range e {
			all = append(all, x...)
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: all})
	}
	verdict := func(k expr.VerdictKind) []expr.Any { return []expr.Any{&expr.Verdict{Kind: k}} }
	established := []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: nativeUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
	}

	rule(post, saddr, ifname(expr.MetaKeyOIFNAME, false), []expr.Any{&expr.Masq{}})
	rule(fwd, ifname(expr.MetaKeyOIFNAME, true), established, verdict(expr.VerdictAccept))
	rule(fwd, ifname(expr.MetaKeyOIFNAME, true), verdict(expr.VerdictDrop))
	if onlyOurs {
		rule(fwd, ifname(expr.MetaKeyIIFNAME, false), ifname(expr.MetaKeyOIFNAME, false), verdict(expr.VerdictDrop))
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table %s: %w", natTable, err)
	}
	return nil
}

// ifname matches (or, with is false, does not match) an interface whose
// name starts with linkPrefix: comparing only the prefix's bytes is how
// nft compiles "strata-*".
func ifname(key expr.MetaKey, is bool) []expr.Any {
	op := expr.CmpOpEq
	if !is {
		op = expr.CmpOpNeq
	}
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: []byte(linkPrefix)},
	}
}

// nativeUint32 is v as nftables compares ct state: in host byte order.
func nativeUint32(v uint32) []byte { return binaryutil.NativeEndian.PutUint32(v) }
