package remote_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"hop/remote"
	"hop/remote/remotetest"
)

// TestHostPortWinsOverAddress: a port in Dial's host argument (what the
// user typed) wins over Options.Address's, whose address is kept; the
// failure names the port and Options.AddressFrom.
func TestHostPortWinsOverAddress(t *testing.T) {
	f := newFixture(t)
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	o := f.options(s)
	o.Address = "127.0.0.1:" + free
	c, err := remote.Dial(context.Background(), host+":"+strconv.Itoa(s.Port), o)
	if err != nil {
		t.Fatalf("the port typed was not used: %v", err)
	}
	c.Close()

	o.Address, o.AddressFrom = s.Addr, "address from agent_address"
	_, err = remote.Dial(context.Background(), host+":"+free, o)
	want := "nothing listens on 127.0.0.1:" + free + ": is hop agent running there, on that port? (address from agent_address)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Dial to %s:%s with Address %s: %v; want %q", host, free, s.Addr, err, want)
	}
}
