package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
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
		usage:   "client-config [--dir DIR] [--kdc HOST:PORT]... [--kpasswd HOST:PORT] [--admin-url URL] [--admin-address ADDR|off] [--agent-address FQDN=ADDR:PORT]...",
		help: `Prints a krb5.conf naming this realm and its KDCs. Without --kdc, the
addresses a running "hop kdc" on this directory listens on are used, else
127.0.0.1:88; so are its kpasswd address and its admin API's URL, with the
pin of the admin server's TLS key in a [hop] section (hop's commands read it;
MIT and Heimdal ignore it). When the admin URL names a host (hop kdc
--admin-name), the [hop] section also maps that name to the address the admin
API listens on (admin_address), so that the URL works where the name is not
in DNS; --admin-address ADDR gives another address, off leaves it out.
Use it with: hop client-config > krb5.conf; export KRB5_CONFIG=$PWD/krb5.conf`,
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
	adminAddr := fs.String("admin-address", "", "the `ADDR` (no port) clients connect to for the admin URL's host name, or off (default: the address the running hop kdc's admin API listens on)")
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
		if *adminAddr == "" {
			*adminAddr = listenHost(st.AdminAddr)
		}
	}
	adminHost, err := adminNameToMap(*adminURL, *adminAddr)
	if err != nil {
		return usagef("%s: %v", c.path, err)
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
		if adminHost != "" {
			fmt.Fprintf(&b, "\t# where to connect for %s, whose name need not resolve\n\tadmin_address = {\n\t\t%s = %s\n\t}\n", adminHost, adminHost, *adminAddr)
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

// listenHost is the host of a listening address ADDR:PORT, "" when it
// listens on every address (which says nothing about where clients reach
// it).
func listenHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || ip.IsUnspecified() {
		return ""
	}
	return host
}

// adminNameToMap returns the host name of adminURL that krb5.conf's
// admin_address maps to addr: "" when there is nothing to map (no address,
// off, or a URL that names an address).
func adminNameToMap(adminURL, addr string) (string, error) {
	if addr == "" || addr == "off" || adminURL == "" {
		return "", nil
	}
	if _, _, err := net.SplitHostPort(addr); err == nil || net.ParseIP(addr) == nil {
		return "", fmt.Errorf("--admin-address %q: want an IP address without a port, e.g. 127.0.0.1 (the port is the admin URL's)", addr)
	}
	u, err := url.Parse(adminURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("--admin-url %q: want https://HOST:PORT", adminURL)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return "", nil
	}
	return strings.ToLower(u.Hostname()), nil
}
