package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hop/admin"
	"hop/admin/adminserver"
	"hop/agent"
	"hop/krb5/keytab"
)

// DefaultKeytab is where a joined host keeps its keys (MIT's default).
const DefaultKeytab = "/etc/krb5.keytab"

// maxHostKeyFile bounds an SSH public key file read at join.
const maxHostKeyFile = 64 << 10

func hostCommand() *command {
	return &command{
		name:    "host",
		summary: "join hosts to the domain",
		subs: []*command{
			{name: "join", summary: "join this host: create its computer account, write its keytab, register its SSH host keys",
				usage: "host join --name FQDN [--server URL | --dir DIR] [--token TOKEN | --token-file FILE] [--keytab FILE] [--ssh-key FILE]... [--agent-config FILE] [--json]",
				help: `Run on the host that joins. It creates the computer account NAME$ for
FQDN (b.example.test → b$, with the SPNs host/b.example.test and host/b) or,
if the host joined before, gives the account new keys ("re-join"), and writes
them to the keytab (default /etc/krb5.keytab, mode 0600; the previous keys are
kept there too, so that tickets issued before stay usable). The host's SSH
public keys (default /etc/ssh/ssh_host_*_key.pub) are registered in the
directory, where hop's remoting client and hop known-hosts find them. With
--agent-config /etc/hop/agent.toml, the host name, the keytab path and the
SSH host key are the hop agent's (its key is made now if it has none), so
that the agent can start right after the join.

Who may join: a Domain Admin or the account's managers with their Kerberos
ticket, or anyone holding a one-time join token (hop host token create), which
needs no ticket. Keys travel only over TLS or loopback.`,
				run: runHostJoin},
			{name: "token", summary: "one-time join tokens", subs: []*command{
				{name: "create", summary: "create a one-time token that lets a host join once",
					usage: "host token create FQDN [--ttl DURATION] [--server URL | --dir DIR] [--json]",
					help: `Prints a token for host FQDN, valid for --ttl (default 1h, at most 7 days),
to pass to hop host join --token on that host. Its creator becomes the
manager of the computer account. Domain Admins may create tokens, and the
managers of an existing computer account for a re-join.`,
					run: runHostTokenCreate},
			}},
		},
	}
}

func knownHostsCommand() *command {
	return &command{
		name:    "known-hosts",
		summary: "print an OpenSSH known_hosts file from the SSH host keys in the directory",
		usage:   "known-hosts [FQDN]... [--server URL | --dir DIR]",
		help: `Prints one known_hosts line per registered SSH host key, naming the host by
its DNS name and its first label. Without FQDN, every joined computer; a
joined computer may be named by its first label (b). Use
with: hop known-hosts > ~/.ssh/known_hosts_hop, and in ~/.ssh/config:
UserKnownHostsFile ~/.ssh/known_hosts_hop, StrictHostKeyChecking yes — then
OpenSSH trusts exactly the keys the hosts registered when they joined.`,
		run: runKnownHosts,
	}
}

func runHostTokenCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	ttl := fs.Duration("ttl", time.Hour, "how long the token stays valid")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(e, fs, c, args, 1, 1)
	if err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	tok, err := svc.CreateJoinToken(ctx, admin.JoinTokenRequest{Host: pos[0], TTL: admin.Duration(*ttl)})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, tok)
	}
	fmt.Fprintf(e.stdout, "%s\n", tok.Token)
	fmt.Fprintf(e.stderr, "One-time join token for %s, valid until %s. On that host run:\n  hop host join --name %s --token-file FILE --server ADMIN_URL (FILE holding the token; --server may be left out where krb5.conf names admin_url)\n",
		tok.Host, tok.Expires.Local().Format(time.RFC3339), tok.Host)
	return nil
}

func runHostJoin(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	name := fs.String("name", "", "this host's DNS name, e.g. b.example.test (required)")
	token := fs.String("token", "", "a join token (visible to other users in the process list: prefer --token-file)")
	tokenFile := fs.String("token-file", "", "read the join token from `FILE` (- for standard input)")
	ktPath := fs.String("keytab", DefaultKeytab, "the keytab `FILE` to write")
	var sshKeys stringList
	fs.Var(&sshKeys, "ssh-key", "an SSH public key `FILE` to register (repeatable; default /etc/ssh/ssh_host_*_key.pub)")
	agentConfig := fs.String("agent-config", "", "the hop agent's configuration `FILE`: join as its host, write its keytab, and register its SSH host key (made now if missing)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	if *agentConfig != "" {
		cfg, err := agent.LoadConfig(*agentConfig)
		if err != nil {
			return err
		}
		given := givenFlags(fs)
		if *name == "" {
			*name = cfg.Host
		}
		if !given["keytab"] {
			*ktPath = cfg.Keytab
		}
		if _, err := agent.LoadOrCreateHostKey(cfg.HostKey, nil); err != nil {
			return err
		}
		sshKeys = append(sshKeys, cfg.HostKey+".pub")
	}
	if *name == "" {
		return usagef("%s: give this host's DNS name with --name (e.g. --name b.example.test)", c.path)
	}
	if *token != "" && *tokenFile != "" {
		return usagef("%s: give either --token or --token-file, not both", c.path)
	}
	if *tokenFile != "" {
		t, err := e.readSecretLine(*tokenFile, "join token")
		if err != nil {
			return err
		}
		*token = t
	}
	if len(sshKeys) == 0 {
		found, _ := filepath.Glob("/etc/ssh/ssh_host_*_key.pub")
		sshKeys = found
	}
	var lines []string
	for _, f := range sshKeys {
		b, err := readBounded(f, maxHostKeyFile)
		if err != nil {
			return fmt.Errorf("reading the SSH host key %s: %w", f, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	var (
		svc  admin.Service
		done func()
		err  error
	)
	if *token != "" && !tgt.given("dir") {
		svc, done, err = e.anonymous(ctx, tgt)
	} else {
		svc, done, err = e.service(ctx, tgt)
	}
	if err != nil {
		return err
	}
	defer done()
	j, err := svc.Join(ctx, admin.JoinRequest{Host: *name, SSHHostKeys: lines, Token: *token})
	if err != nil {
		return err
	}
	kt, err := keytabOf(&j.Keys, false, time.Now())
	if err != nil {
		return err
	}
	kept, err := mergeKeytab(*ktPath, kt)
	if err != nil {
		return err
	}
	if err := kt.Save(*ktPath); err != nil {
		return fmt.Errorf("the host joined (account %s, kvno %d) but its keytab could not be written: %w; join again to get new keys", j.Account.Name, j.Keys.KVNO, err)
	}
	if *asJSON {
		return printJSON(e.stdout, j.Account)
	}
	fmt.Fprintf(e.stdout, "Joined %s to %s as %s (kvno %d); wrote %d keys to %s", j.Account.DNSHostName, j.Realm, j.Account.Name, j.Keys.KVNO, len(kt.Entries)-kept, *ktPath)
	if kept > 0 {
		fmt.Fprintf(e.stdout, " (kept %d older ones)", kept)
	}
	fmt.Fprintf(e.stdout, ".\nRegistered %d SSH host key(s).\n", len(j.Account.SSHHostKeys))
	return nil
}

// mergeKeytab adds to kt the entries of the keytab at path that kt does
// not replace: other principals' keys, and the previous key version of
// kt's principals, so that tickets issued before a re-join still decrypt.
// It returns how many entries it kept. A missing file is no error.
func mergeKeytab(path string, kt *keytab.Keytab) (int, error) {
	old, err := keytab.Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("the keytab %s exists but does not read (%w); move it away and join again", path, err)
	}
	newest := map[string]uint32{}
	for _, en := range kt.Entries {
		newest[en.Principal.String()] = en.KVNO
	}
	// The newest older kvno of each of kt's principals.
	prev := map[string]uint32{}
	for _, en := range old.Entries {
		p := en.Principal.String()
		if n, ok := newest[p]; ok && en.KVNO != n && en.KVNO > prev[p] {
			prev[p] = en.KVNO
		}
	}
	kept := 0
	for _, en := range old.Entries {
		p := en.Principal.String()
		n, ours := newest[p]
		if !ours || (en.KVNO != n && en.KVNO == prev[p]) {
			kt.Entries = append(kt.Entries, en)
			kept++
		}
	}
	return kept, nil
}

// readBounded reads at most limit bytes of a file, refusing larger ones.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	return b, nil
}

// readSecretLine reads one line from file ("-" = standard input).
func (e *env) readSecretLine(file, what string) (string, error) {
	var line string
	if file == "-" {
		l, err := readLine(e.stdin)
		if err != nil {
			return "", fmt.Errorf("reading the %s from standard input: %w", what, err)
		}
		line = l
	} else {
		b, err := readBounded(file, 4096)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", what, err)
		}
		line, _, _ = strings.Cut(string(b), "\n")
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("the %s file is empty", what)
	}
	return line, nil
}

func runKnownHosts(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	tgt := e.targetFlags(fs)
	tgt.authentic = true // the keys it prints are trusted as they come
	hosts, err := parse(e, fs, c, args, 0, -1)
	if err != nil {
		return err
	}
	svc, done, err := e.service(ctx, tgt)
	if err != nil {
		return err
	}
	defer done()
	if len(hosts) == 0 {
		accts, err := svc.Accounts(ctx, "computer")
		if err != nil {
			return err
		}
		for _, a := range accts {
			if len(a.SSHHostKeys) > 0 && a.DNSHostName != "" && !a.Disabled {
				hosts = append(hosts, a.DNSHostName)
			}
		}
		sort.Strings(hosts)
	}
	for _, h := range hosts {
		if !strings.Contains(h, ".") {
			// A short name: the DNS name of its computer account, as
			// hop exec resolves it.
			if a, err := svc.Account(ctx, strings.ToLower(h)+"$"); err == nil && a.Kind == "computer" && a.DNSHostName != "" {
				h = a.DNSHostName
			}
		}
		keys, err := svc.HostKeys(ctx, h)
		if err != nil {
			return err
		}
		fqdn, short, err := adminserver.ComputerName(h)
		if err != nil {
			return err
		}
		names := fqdn
		if short != fqdn {
			names += "," + short
		}
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "%s %s\n", names, k)
		}
	}
	return nil
}
