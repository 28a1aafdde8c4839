package cli

import (
	"context"
	"flag"
	"net"
	"strings"

	"hop/agent"
)

func agentCommand() *command {
	return &command{
		name:    "agent",
		summary: "run the hop agent: remote sessions over SSH with Kerberos (hop exec/shell, OpenSSH with GSSAPI)",
		usage:   "agent --config FILE [--log-level LEVEL] [--log-format text|json]",
		help: `Serves SSH on the configuration's listen addresses. Users authenticate
with Kerberos only (gssapi-with-mic: a ticket for host/<host> from kinit or
hop login); members of logon_groups or admin_groups may log on. Sessions
run as the user's mapped local account (as the agent's own account when it
is not root), or as an endpoint's account (runas), or run only the commands
a JEA endpoint allows. Every session and JEA command is audited.

Join the host first with hop host join --agent-config FILE: it writes the
keytab, makes the SSH host key (ed25519) if there is none and registers its
.pub in the directory, where clients check it. A key the agent makes itself
on a first start without a join must be registered too: hop host join
--agent-config FILE again, or hop host join --ssh-key FILE.pub.

Its log goes to standard error: one line per event for people (time, level,
message, KEY=VALUE), or JSON lines with --log-format json; the line "hop
agent ready" names the addresses it listens on.

Configuration (TOML; unknown keys are errors):

  host = "b.example.test"          # the SPN is host/<host>; keys from keytab
  listen = ["0.0.0.0:22"]
  keytab = "/etc/krb5.keytab"
  host_key = "/etc/hop/ssh_host_ed25519_key"
  state_dir = "/var/lib/hop-agent"
  audit_log = "/var/log/hop/agent-audit.log"
  transcript_dir = "/var/log/hop/transcripts"
  runtime_dir = "/run/hop-agent"   # a folder per default session: its KCM socket
  logon_groups = ["b-remote-users"]  # names (resolved with the admin API) or SIDs
  admin_groups = ["b-admins"]
  idle_timeout = "30m"
  max_sessions = 64
  [user_map]
  "carol@EXAMPLE.TEST" = "cjones"
  [endpoints.backup]
  type = "runas"
  run_as = "svc-backup"
  keytab = "/etc/hop/svc-backup.keytab"
  groups = ["backup-operators"]

Also: realm, path, clock_skew, max_connections, max_auth_tries,
max_startups (connections not yet authenticated, default 32) and
max_startups_per_source (per source address, default 10),
refuse_service_asserted (refuse logons with tickets a service obtained by
protocol transition, S-1-18-2; default false, as Windows), krb5_conf,
admin_url; JEA endpoints (type = "jea", run_as, [[endpoints.NAME.roles]]).
Stop it with Ctrl-C or SIGTERM: it closes its listeners and ends every
session's processes.`,
		run: runAgent,
	}
}

func runAgent(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	confPath := fs.String("config", "/etc/hop/agent.toml", "the agent configuration `FILE` (TOML)")
	logs := addLogFlags(fs)
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	logger, err := logs.logger(c, e.stderr)
	if err != nil {
		return err
	}
	cfg, err := agent.LoadConfig(*confPath)
	if err != nil {
		return err
	}
	a, err := agent.New(ctx, cfg, agent.Options{Logger: logger})
	if err != nil {
		return err
	}
	err = a.Run(ctx, func(addrs []net.Addr) {
		var s []string
		for _, a := range addrs {
			s = append(s, a.String())
		}
		logger.Info("hop agent ready", "host", cfg.Host, "listen", strings.Join(s, ","))
	})
	if err != nil {
		return err
	}
	logger.Info("hop agent stopped")
	return nil
}
