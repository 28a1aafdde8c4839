package interop

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hop/internal/thirdparty"
)

// loginRun runs hop with env and fails the test if it fails.
func loginRun(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := thirdparty.Run(t, env, stdin, hopBin, args...)
	if err != nil {
		t.Fatalf("hop %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// loginTool runs a third-party tool with env and fails the test if it fails.
func loginTool(t *testing.T, env []string, stdin, tool string, args ...string) string {
	t.Helper()
	out, errOut, err := thirdparty.Run(t, env, stdin, tool, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(tool), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// loginTicket is one ticket as a lister shows it.
type loginTicket struct{ server, flags, skey, tkt string }

// loginKlistRE matches a ticket of MIT's klist -f -e: the line that ends
// with the service, then the flags and etypes (on two lines when the ticket
// is renewable).
var loginKlistRE = regexp.MustCompile(`(?m)^\S+ \S+\s+\S+ \S+\s+(\S+)\n\t(?:renew until \S+ \S+, )?Flags: (\S*)(?:, |\n\t)Etype \(skey, tkt\): (\S+), (\S+)`)

func loginMITTickets(out string) []loginTicket {
	var ts []loginTicket
	for _, m := range loginKlistRE.FindAllStringSubmatch(out, -1) {
		ts = append(ts, loginTicket{m[1], m[2], m[3], m[4]})
	}
	return ts
}

func loginHopTickets(t *testing.T, env []string) ([]loginTicket, loginTicketsJSON) {
	t.Helper()
	var j loginTicketsJSON
	if err := json.Unmarshal([]byte(loginRun(t, env, "", "tickets", "--json")), &j); err != nil {
		t.Fatal(err)
	}
	var ts []loginTicket
	for _, tk := range j.Tickets {
		ts = append(ts, loginTicket{tk.Server, tk.FlagLetters, tk.SessionKeyEType, tk.TicketEType})
	}
	return ts, j
}

type loginTicketsJSON struct {
	Cache            string `json:"cache"`
	DefaultPrincipal string `json:"default_principal"`
	Tickets          []struct {
		Server          string   `json:"server"`
		Flags           []string `json:"flags"`
		FlagLetters     string   `json:"flag_letters"`
		SessionKeyEType string   `json:"session_key_etype"`
		TicketEType     string   `json:"ticket_etype"`
		Expired         bool     `json:"expired"`
	} `json:"tickets"`
	Config []struct {
		Key string `json:"key"`
	} `json:"config"`
}

// loginSame checks that hop tickets and MIT's klist -f -e see the same
// tickets with the same flags and encryption types.
func loginSame(t *testing.T, env []string, klist string, wantServers ...string) {
	t.Helper()
	out := loginTool(t, env, "", klist, "-f", "-e")
	mit := loginMITTickets(out)
	ours, _ := loginHopTickets(t, env)
	if len(mit) != len(wantServers) || len(ours) != len(mit) {
		t.Fatalf("klist shows %v, hop tickets %v; want the servers %v\n%s", mit, ours, wantServers, out)
	}
	for i := range mit {
		if mit[i] != ours[i] || mit[i].server != wantServers[i] {
			t.Errorf("ticket %d: klist %+v, hop tickets %+v (want server %s)", i, mit[i], ours[i], wantServers[i])
		}
	}
}

// loginThenMIT runs hop login alice, MIT's klist and kvno on the cache it
// wrote (cache, named as klist names it), then hop logout.
func loginThenMIT(t *testing.T, env []string, cache, klist, kvno string) {
	t.Helper()
	tgt := "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"
	if out := loginRun(t, env, alicePW+"\n", "login", "alice"); out != "" {
		t.Errorf("hop login printed %q", out)
	}
	out := loginTool(t, env, "", klist, "-f", "-e", "-C")
	mustContain(t, "klist", out, "Ticket cache: "+cache+"\n", "Default principal: alice@EXAMPLE.TEST", tgt,
		"config: pa_type("+tgt+") = 2",
		// client-config's krb5.conf asks for forwardable, renewable tickets.
		"Flags: FRIA")
	loginTool(t, env, "", klist, "-s")
	mustContain(t, "kvno", loginTool(t, env, "", kvno, "HTTP/web.example.test"), "HTTP/web.example.test@EXAMPLE.TEST: kvno = 1")
	// kvno added its ticket to hop's cache; both listers agree on it.
	loginSame(t, env, klist, tgt, "HTTP/web.example.test@EXAMPLE.TEST")

	loginRun(t, env, "", "logout")
	if _, _, err := thirdparty.Run(t, env, "", klist, "-s"); err == nil {
		t.Error("klist -s succeeds after hop logout")
	}
}

func TestLoginInterop(t *testing.T) {
	kinit := thirdparty.Require(t, "kinit")
	klist := thirdparty.Require(t, "klist")
	kvno := thirdparty.Require(t, "kvno")
	r := newRealm(t, "")
	tgt := "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST"

	t.Run("hop login, then MIT klist and kvno", func(t *testing.T) {
		env, cc := r.env(t)
		loginThenMIT(t, env, "FILE:"+cc, klist, kvno)
	})

	t.Run("MIT kinit and kvno, then hop tickets", func(t *testing.T) {
		env, cc := r.env(t)
		loginTool(t, env, alicePW+"\n", kinit, "alice")
		loginTool(t, env, "", kvno, "host/b.example.test")
		loginSame(t, env, klist, tgt, "host/b.example.test@EXAMPLE.TEST")
		_, j := loginHopTickets(t, env)
		if j.Cache != "FILE:"+cc || j.DefaultPrincipal != "alice@EXAMPLE.TEST" || j.Tickets[0].Expired {
			t.Errorf("hop tickets --json: %+v", j)
		}
		// MIT's configuration entries: hidden by default, shown with
		// --show-config, as klist and klist -C do.
		mitConfig := strings.Count(loginTool(t, env, "", klist, "-C"), "config: ")
		if n := strings.Count(loginRun(t, env, "", "tickets", "--show-config"), "config: "); n != mitConfig || len(j.Config) != mitConfig {
			t.Errorf("hop shows %d configuration entries (json %d), klist -C %d", n, len(j.Config), mitConfig)
		}
		if strings.Contains(loginRun(t, env, "", "tickets"), "config: ") {
			t.Error("hop tickets shows configuration entries without --show-config")
		}
		loginRun(t, env, "", "tickets", "--check")
	})

	t.Run("hop login --keytab from hop keytab export", func(t *testing.T) {
		env, _ := r.env(t)
		kt := filepath.Join(t.TempDir(), "b.keytab")
		hop(t, "", "keytab", "export", "b$", "-o", kt, "--dir", r.dir)
		loginRun(t, env, "", "login", "--keytab", kt)
		mustContain(t, "klist", loginTool(t, env, "", klist), "Default principal: b$@EXAMPLE.TEST", tgt)
		loginRun(t, env, "", "login", "host/b.example.test", "--keytab", kt)
		mustContain(t, "klist", loginTool(t, env, "", klist), "Default principal: host/b.example.test@EXAMPLE.TEST")
		mustContain(t, "kvno", loginTool(t, env, "", kvno, "HTTP/web.example.test"), "kvno = 1")
	})

	t.Run("errors", func(t *testing.T) {
		env, _ := r.env(t)
		_, errOut, err := thirdparty.Run(t, env, "wrong\n", hopBin, "login", "alice")
		if err == nil || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("wrong password: %v %q", err, errOut)
		}
		mustContain(t, "wrong password", errOut, "the password for alice@EXAMPLE.TEST is wrong")
		_, errOut, _ = thirdparty.Run(t, env, "x\n", hopBin, "login", "nobody")
		mustContain(t, "unknown principal", errOut, "knows no principal nobody@EXAMPLE.TEST")
	})

	t.Run("Heimdal klist reads hop's cache", func(t *testing.T) {
		h := thirdparty.RequireHeimdal(t)
		env, _ := r.env(t)
		loginRun(t, env, alicePW+"\n", "login", "alice")
		out := loginTool(t, append(env, h.Env...), "", h.Klist, "-v")
		mustContain(t, "Heimdal klist -v", out, "alice@EXAMPLE.TEST", tgt, "aes256-cts-hmac-sha384-192")
		if strings.Contains(out, "Expired") {
			t.Errorf("Heimdal sees an expired ticket:\n%s", out)
		}
		if _, _, err := thirdparty.Run(t, append(env, h.Env...), "", h.Klist, "-t"); err != nil {
			t.Errorf("Heimdal klist -t: no valid ticket in hop's cache: %v", err)
		}
	})
}
