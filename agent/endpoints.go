package agent

import (
	"fmt"
	"sort"
	"strings"

	"hop/remoting"
)

func sortedEndpoints(c *Config) []*Endpoint {
	out := make([]*Endpoint, 0, len(c.Endpoints))
	for _, e := range c.Endpoints {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// mayUse reports whether id may use endpoint e: a member of its groups,
// or when it names none, of the logon or admin groups (for JEA: a member
// of one of its roles' groups).
func (a *Agent) mayUse(id *identity, e *Endpoint) bool {
	if e.Type == TypeJEA {
		return e.jea.mayUse(a, id)
	}
	if len(e.Groups) > 0 {
		return a.memberOfAny(id.SIDs, e.Groups)
	}
	return a.memberOfAny(id.SIDs, a.cfg.LogonGroups) || a.memberOfAny(id.SIDs, a.cfg.AdminGroups)
}

// endpointInfos lists the endpoints for id, sorted by name: the reply to
// endpoints@hop.
func (a *Agent) endpointInfos(id *identity) []remoting.EndpointInfo {
	out := []remoting.EndpointInfo{}
	for _, e := range sortedEndpoints(a.cfg) {
		info := remoting.EndpointInfo{Name: e.Name, Type: e.Type, Allowed: a.mayUse(id, e), RunAs: e.RunAs, Delegation: e.Delegation}
		if e.Type == TypeJEA && info.Allowed {
			info.Commands = e.jea.help(a, id)
		}
		out = append(out, info)
	}
	return out
}

// allowedNames are the endpoints id may use, for error messages.
func (a *Agent) allowedNames(id *identity) string {
	var names []string
	for _, e := range sortedEndpoints(a.cfg) {
		if a.mayUse(id, e) {
			names = append(names, e.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// chooseEndpoint answers endpoint@hop: the endpoint, or the one-line
// reason the user may not use it.
func (a *Agent) chooseEndpoint(id *identity, name string) (*Endpoint, string) {
	e, ok := a.cfg.Endpoints[name]
	if !ok || !validEndpointName(name) {
		return nil, fmt.Sprintf("%s has no endpoint %q; endpoints you may use: %s (hop endpoints %s)", a.cfg.Host, name, a.allowedNames(id), a.cfg.Host)
	}
	if !a.mayUse(id, e) {
		return nil, fmt.Sprintf("you may not use the endpoint %s on %s (for %s); endpoints you may use: %s", name, a.cfg.Host, a.endpointGroups(e), a.allowedNames(id))
	}
	return e, ""
}

func (a *Agent) endpointGroups(e *Endpoint) string {
	if e.Type == TypeJEA {
		return "members of " + strings.Join(e.jeaGroups(), ", ")
	}
	if len(e.Groups) > 0 {
		return strings.Join(e.Groups, ", ")
	}
	return strings.Join(append(append([]string(nil), a.cfg.LogonGroups...), a.cfg.AdminGroups...), ", ")
}
