package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/dc"
	"hop/domain"
)

func clientConfigCommand() *command {
	return &command{
		name:    "client-config",
		summary: "print a krb5.conf for clients of this realm (MIT and Heimdal)",
		usage:   "client-config [--dir DIR] [--kdc HOST:PORT]... [--kpasswd HOST:PORT] [--admin-url URL] [--agent-address FQDN=ADDR:PORT]...",
		help: `Prints a krb5.conf naming this realm and its KDCs. Without --kdc, the
addresses a running "hop kdc" on this directory listens on are used, else
127.0.0.1:88; so are its kpasswd address and its admin API's URL, with the
pin of the admin server's TLS key in a [hop] section (hop's commands read it;
MIT and Heimdal ignore it). Use it with: hop client-config > krb5.conf; export KRB5_CONFIG=$PWD/krb5.conf`,
		run: runClientConfig,
	}
}

func runClientConfig(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	var kdcs stringList
	fs.Var(&kdcs, "kdc", "a KDC address `HOST:PORT` (repeatable)")
	adminURL := fs.String("admin-url", "", "the admin server's `URL` (default: the running hop kdc's)")
	kpasswdAddr := fs.String("kpasswd", "", "the kpasswd server `HOST:PORT` (default: the running hop kdc's)")
	var agentAddrs stringList
	fs.Var(&agentAddrs, "agent-address", "where hop exec connects for a host, `FQDN=ADDR:PORT` (repeatable; for hosts whose names do not resolve)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	_, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	var st dc.State
	if s, err := dc.ReadState(domain.Folder(*dir).State()); err == nil {
		st = *s
	}
	if len(kdcs) == 0 {
		kdcs = st.Listen
	}
	if *adminURL == "" {
		*adminURL = st.AdminURL
	}
	if *kpasswdAddr == "" {
		*kpasswdAddr = st.Kpasswd
	}
	pin := st.AdminPin
	if pin == "" && strings.HasPrefix(*adminURL, "https:") {
		cert, key := domain.Folder(*dir).AdminCert()
		if c, _, err := adminserver.LoadOrCreateCert(cert, key, nil, time.Now()); err == nil {
			pin = admin.Pin(c.Leaf)
		}
	}
	if len(kdcs) == 0 {
		kdcs = stringList{"127.0.0.1:88"}
	}
	realm := string(dom.Realm)
	lower := strings.ToLower(realm)
	var b strings.Builder
	fmt.Fprintf(&b, "# krb5.conf for realm %s, written by hop client-config\n", realm)
	fmt.Fprintf(&b, "[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n\trdns = false\n\tdns_canonicalize_hostname = false\n\tforwardable = true\n\n", realm)
	fmt.Fprintf(&b, "[realms]\n\t%s = {\n", realm)
	for _, k := range kdcs {
		fmt.Fprintf(&b, "\t\tkdc = %s\n", k)
	}
	if *kpasswdAddr != "" {
		// MIT tries TCP then UDP; Heimdal needs tcp/ for TCP.
		fmt.Fprintf(&b, "\t\tkpasswd_server = %s\n\t\tkpasswd_server = tcp/%s\n", *kpasswdAddr, *kpasswdAddr)
	}
	fmt.Fprintf(&b, "\t}\n\n[domain_realm]\n\t.%s = %s\n\t%s = %s\n", lower, realm, lower, realm)
	for _, a := range agentAddrs {
		host, addr, ok := strings.Cut(a, "=")
		if _, _, err := net.SplitHostPort(addr); !ok || host == "" || err != nil {
			return usagef("%s: --agent-address %q: want FQDN=ADDR:PORT, e.g. b.example.test=127.0.0.2:2222", c.path, a)
		}
	}
	if *adminURL != "" || len(agentAddrs) > 0 {
		fmt.Fprintf(&b, "\n# hop's own settings; MIT and Heimdal ignore this section.\n[hop]\n")
		if *adminURL != "" {
			fmt.Fprintf(&b, "\tadmin_url = %s\n", *adminURL)
		}
		if pin != "" {
			fmt.Fprintf(&b, "\tadmin_tls_pin = %s\n", pin)
		}
		if len(agentAddrs) > 0 {
			fmt.Fprintf(&b, "\tagent_address = {\n")
			for _, a := range agentAddrs {
				host, addr, _ := strings.Cut(a, "=")
				fmt.Fprintf(&b, "\t\t%s = %s\n", strings.ToLower(host), addr)
			}
			fmt.Fprintf(&b, "\t}\n")
		}
	}
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}
