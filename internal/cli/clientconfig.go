package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func clientConfigCommand() *command {
	return &command{
		name:    "client-config",
		summary: "print a krb5.conf for clients of this realm (MIT and Heimdal)",
		usage:   "client-config [--dir DIR] [--kdc HOST:PORT]...",
		help: `Prints a krb5.conf naming this realm and its KDCs. Without --kdc, the
addresses a running "hop kdc" on this directory listens on are used, else
127.0.0.1:88. Use it with: hop client-config > krb5.conf; export KRB5_CONFIG=$PWD/krb5.conf`,
		run: runClientConfig,
	}
}

// kdcStateJSON is what a running hop kdc records in DIR/kdc.json.
type kdcStateJSON struct {
	PID    int      `json:"pid"`
	Realm  string   `json:"realm"`
	Listen []string `json:"listen"`
}

func runClientConfig(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	dir := fs.String("dir", e.defaultDir(), "the folder that holds the domain")
	var kdcs stringList
	fs.Var(&kdcs, "kdc", "a KDC address `HOST:PORT` (repeatable)")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	_, dom, done, err := openDomain(ctx, *dir)
	if err != nil {
		return err
	}
	defer done()
	if len(kdcs) == 0 {
		if b, err := os.ReadFile(filepath.Join(*dir, kdcState)); err == nil {
			var st kdcStateJSON
			if json.Unmarshal(b, &st) == nil {
				kdcs = st.Listen
			}
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
	fmt.Fprintf(&b, "\t}\n\n[domain_realm]\n\t.%s = %s\n\t%s = %s\n", lower, realm, lower, realm)
	_, err = fmt.Fprint(e.stdout, b.String())
	return err
}
