package agent

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"

	"hop/audit"
	"hop/jea"
	"hop/remoting"
)

// jeaEndpoint is a JEA endpoint's compiled policy (package jea owns its
// schema, its checks and its load-time warnings).
type jeaEndpoint struct {
	policy   *jea.Policy
	warnings []jea.Warning
}

// decodeJEA decodes and compiles the [endpoints.NAME] table of a JEA
// endpoint.
func decodeJEA(md toml.MetaData, prim toml.Primitive, name string) (*jeaEndpoint, error) {
	var e jea.Endpoint
	if err := md.PrimitiveDecode(prim, &e); err != nil {
		return nil, err
	}
	e.Name = name
	p, warns, err := e.Compile()
	if err != nil {
		return nil, err
	}
	return &jeaEndpoint{policy: p, warnings: warns}, nil
}

func (j *jeaEndpoint) runAs() string { return j.policy.RunAs() }

// jeaGroups are the groups a JEA endpoint names (to resolve at start).
func (e *Endpoint) jeaGroups() []string {
	if e.jea == nil {
		return nil
	}
	return e.jea.policy.Groups()
}

// memberFunc answers jea's membership questions for id from its PAC.
func (a *Agent) memberFunc(id *identity) func(string) bool {
	return func(group string) bool { return a.member(id.SIDs, group) }
}

func (j *jeaEndpoint) mayUse(a *Agent, id *identity) bool { return j.policy.MayUse(a.memberFunc(id)) }

func (j *jeaEndpoint) help(a *Agent, id *identity) []string { return j.policy.Help(a.memberFunc(id)) }

// runJEA runs an "exec" on a JEA endpoint: the command line is split
// without any expansion, checked against the policy and, if allowed,
// executed directly (no shell) as run_as with a scrubbed environment.
// Every command, allowed or not, goes to the transcript and the audit log.
func (s *session) runJEA(e *Endpoint, kind, command string, mode remoting.Mode) {
	a := s.a
	id := s.c.id
	host := a.cfg.Host
	if kind == "shell" {
		s.refused(e, fmt.Sprintf("%s is a restricted endpoint: run one of its commands with hop exec %s --config %s -- COMMAND; `help` lists them", e.Name, host, e.Name))
		return
	}
	t, err := jea.OpenTranscriptWith(jea.TranscriptConfig{Dir: a.cfg.TranscriptDir, Session: s.id, User: id.Principal.String(), Endpoint: e.Name, RunAs: e.RunAs, Now: a.now})
	if err != nil {
		a.logger.Error("cannot open a JEA transcript; refusing the command", "err", err)
		s.refused(e, fmt.Sprintf("the agent on %s cannot record a transcript, so the endpoint %s is unavailable (the administrator sees why in its log)", host, e.Name))
		return
	}
	defer func() {
		if err := t.Close(); err != nil {
			a.logger.Error("JEA transcript", "session", s.id, "err", err)
		}
	}()
	member := a.memberFunc(id)
	ev := audit.Event{Type: "jea.command", Client: id.Principal.String(), Service: a.spn.String(), Addr: s.c.addr, Actor: e.RunAs, Target: e.Name, Flags: "session=" + s.id}
	argv, err := jea.Split(command)
	if err != nil {
		t.Command([]string{command}, ExitNotAllowed)
		ev.Code, ev.Reason = "refused", fmt.Sprintf("%q: %v", command, err)
		a.emit(ev)
		s.fail(ExitNotAllowed, fmt.Sprintf("%v; you may run: %s", err, strings.Join(e.jea.policy.Help(member), "; ")))
		return
	}
	if len(argv) == 1 && argv[0] == "help" {
		lines := e.jea.policy.Help(member)
		var b strings.Builder
		fmt.Fprintf(&b, "Commands of %s on %s (hop exec %s --config %s -- COMMAND):\n", e.Name, host, host, e.Name)
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
		t.Output("stdout", []byte(b.String()))
		t.Command(argv, 0)
		s.ch.Write([]byte(b.String()))
		s.finish(exitStatusPayload(0))
		return
	}
	d := e.jea.policy.Check(member, argv)
	ev.Reason = jea.Join(argv)
	if !d.Allowed {
		t.Command(argv, ExitNotAllowed)
		ev.Code = "refused"
		ev.Reason += ": " + d.Reason
		a.emit(ev)
		s.fail(ExitNotAllowed, d.Reason)
		return
	}
	u, why := s.account(e, mode)
	if why != "" {
		t.Command(argv, ExitRefused)
		s.refused(e, why)
		return
	}
	// The command is audited after the session's start (or before its
	// refusal, if it cannot start).
	ev.Code, ev.Reason = "allowed", jea.Join(d.Argv)+" ("+d.Rule+")"
	s.mu.Lock()
	s.afterStart = append(s.afterStart, ev)
	s.mu.Unlock()
	brk, ok := s.startBroker(e, u, mode)
	if !ok {
		t.Command(argv, ExitRefused)
		return
	}
	defer brk.Close()
	env := map[string]string{"PATH": a.cfg.Path, "HOP_SESSION_ID": s.id, "HOP_CLIENT": id.Principal.String(), "HOP_ENDPOINT": e.Name}
	for _, kv := range brk.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	spec := procSpec{Path: d.Path, Argv: d.Argv, Dir: "/", Env: sortedEnv(env), KCMSocket: brk.Socket()}
	if a.isRoot {
		spec.User = u
	}
	t.Begin(d.Argv)
	s.execute(e, u, spec, jea.Join(d.Argv), &outputTap{output: t.Output, exit: t.End})
}
