package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"hop/admin"
	"hop/remote"
	"hop/remote/remotetest"
)

// freePort returns a port on 127.0.0.1 where nothing listens.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// withHopSettings points KRB5_CONFIG at a copy of the current krb5.conf
// whose [hop] section is replaced by hop.
func withHopSettings(t *testing.T, hop string) {
	t.Helper()
	conf, err := os.ReadFile(os.Getenv("KRB5_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := strings.Cut(string(conf), "\n[hop]")
	path := t.TempDir() + "/krb5.conf"
	if err := os.WriteFile(path, []byte(base+"\n[hop]\n"+hop), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KRB5_CONFIG", path)
}

// TestExplicitPortWins: a port the user types (HOST:PORT or --port) wins
// over the port of krb5.conf's agent_address, whose address is kept; a
// failure names the port and where it came from, and never reaches the
// agent agent_address names.
func TestExplicitPortWins(t *testing.T) {
	l := startExecLab(t, remotetest.Config{Host: "b.example.test"})
	s := l.servers["b.example.test"]
	free := strconv.Itoa(freePort(t))
	for _, tc := range []struct {
		name string
		args []string
		from string
	}{
		{"HOST:PORT", []string{"exec", "b.example.test:" + free}, "port from b.example.test:" + free},
		{"--port", []string{"exec", "b.example.test", "--port", free}, "port from --port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--known-hosts", l.known, "--", "echo", "connected")
			out, errOut, code := hopStatus(t, "", args...)
			want := "nothing listens on 127.0.0.1:" + free + ": is hop agent running there, on that port? (address from agent_address for b.example.test in krb5.conf's [hop] section, " + tc.from + ")"
			if code != 1 || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, out, errOut, want)
			}
		})
	}
	for _, e := range s.Events() {
		if strings.HasPrefix(e, "exec") {
			t.Errorf("the agent of agent_address ran %q", e)
		}
	}

	// The other way round: agent_address names a port where nothing
	// listens, and the port typed reaches the agent.
	withHopSettings(t, "\tagent_address = {\n\t\tb.example.test = 127.0.0.1:"+free+"\n\t}\n\tagent_port = "+free+"\n")
	port := strconv.Itoa(s.Port)
	for _, args := range [][]string{
		{"exec", "b.example.test:" + port, "--known-hosts", l.known, "--", "echo", "connected"},
		{"exec", "b.example.test", "--port", port, "--known-hosts", l.known, "--", "echo", "connected"},
	} {
		if out, errOut, code := hopStatus(t, "", args...); code != 0 || out != "connected\n" {
			t.Errorf("hop %s: exit %d, stdout %q, stderr %q; want connected", strings.Join(args, " "), code, out, errOut)
		}
	}
	// Without a port typed, agent_address's port wins over agent_port,
	// and the failure says agent_address set it.
	_, errOut, code := hopStatus(t, "", "exec", "b.example.test", "--known-hosts", l.known, "--", "true")
	if want := "nothing listens on 127.0.0.1:" + free + ": is hop agent running there, on that port? (address from agent_address for b.example.test in krb5.conf's [hop] section)"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("agent_address's own port: exit %d, stderr %q; want %q", code, errOut, want)
	}
	// agent_address without a port takes agent_port.
	withHopSettings(t, "\tagent_address = {\n\t\tb.example.test = 127.0.0.1\n\t}\n\tagent_port = "+free+"\n")
	_, errOut, code = hopStatus(t, "", "exec", "b.example.test", "--known-hosts", l.known, "--", "true")
	if want := "nothing listens on 127.0.0.1:" + free + ": is hop agent running there, on that port? (address from agent_address for b.example.test in krb5.conf's [hop] section, port from agent_port in krb5.conf's [hop] section)"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("agent_address without a port: exit %d, stderr %q; want %q", code, errOut, want)
	}
}

// TestAdminUnreachable: only a server that cannot be reached or cannot
// answer lets the kept host keys serve; its answers, a missing ticket
// for it and a TLS key other than the pinned one are errors as they are.
func TestAdminUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	get := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://kdc.example.test:8749/v1/hosts/b$", Err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", get(refused), true},
		{"connection dropped", get(io.EOF), true},
		{"DNS", get(&net.DNSError{Err: "no such host", Name: "kdc.example.test"}), true},
		{"503", &admin.Error{Status: 503, Kind: admin.KindInternal, Message: "unavailable"}, true},
		{"403", &admin.Error{Status: 403, Kind: admin.KindForbidden, Message: "no"}, false},
		{"no ticket", get(fmt.Errorf("spnego: ticket for HTTP/kdc.example.test: %w", &adminTicketError{refused})), false},
		{"TLS pin", get(errors.New("admin: the server's TLS key is not the pinned one")), false},
	} {
		err := adminHostKeys{url: "https://kdc.example.test:8749"}.unreachable(tc.err)
		var ue *remote.UnreachableError
		if got := errors.As(err, &ue); got != tc.want {
			t.Errorf("%s: %v is unreachable: %v, want %v", tc.name, err, got, tc.want)
		}
	}
}
