package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"hop/krb5/kcm"
)

// guardColumns are the modes the Remote Credential Guard document
// compares, with hop's default: a plain RDP session sends the password to
// the server, as --delegate credssp does.
var guardColumns = []struct{ id, title string }{
	{"none", "none (hop's default)"},
	{"credssp", "credssp (a plain RDP session)"},
	{"remote-guard", "remote-guard"},
	{"restricted-admin", "restricted-admin"},
}

// compareGuard builds the Remote Credential Guard document's comparison
// from the cells: for each mode, the first user whose session opened and
// reached C (else whose session opened), and who could use it at all.
func compareGuard(r *Report) Comparison {
	cmp := Comparison{}
	rows := map[string][]string{}
	features := []string{"protection", "network identity", "multi-hop", "who may use it", "authentication"}
	for _, col := range guardColumns {
		var m *Method
		for i := range r.Methods {
			if r.Methods[i].ID == col.id {
				m = &r.Methods[i]
			}
		}
		if m == nil {
			continue
		}
		cmp.Columns = append(cmp.Columns, col.title)
		c := primary(m)
		rows["protection"] = append(rows["protection"], protection(c))
		identity := "none: no second hop"
		if c.SecondHop {
			identity = c.CSaw
			if c.CSaw != principalOf(c.User).String() {
				identity += " (not " + c.User + ")"
			} else {
				identity += " (the user)"
			}
		}
		rows["network identity"] = append(rows["network identity"], identity)
		multi := "yes: B → C as " + c.CSaw
		if !c.SecondHop {
			multi = "no: " + shorten(Brief(c.Reason), 60)
		}
		rows["multi-hop"] = append(rows["multi-hop"], multi)
		rows["who may use it"] = append(rows["who may use it"], whoMay(m))
		auth := "Kerberos; no password or TGT sent to B"
		if containsKind(c.Reached, kcm.HoldPassword) {
			auth = "Kerberos, then the password sent to B"
		} else if containsKind(c.Reached, kcm.HoldTGT) {
			auth = "Kerberos, with a TGT forwarded to B"
		}
		rows["authentication"] = append(rows["authentication"], auth)
	}
	for _, f := range features {
		cmp.Rows = append(cmp.Rows, ComparisonRow{Feature: f, Cells: rows[f]})
	}
	return cmp
}

// primary is the cell that speaks for m in the comparison.
func primary(m *Method) Cell {
	for _, c := range m.Cells {
		if c.SecondHop {
			return c
		}
	}
	for _, c := range m.Cells {
		if c.Session == "opened" {
			return c
		}
	}
	return m.Cells[0]
}

// protection says what reached B and what B could do after, for c.
func protection(c Cell) string {
	if c.Session != "opened" {
		return "no session"
	}
	s := "nothing of " + c.User + "'s reached B"
	if len(c.Reached) > 0 {
		s = strings.Join(c.Reached, ", ") + " reached B"
	}
	if c.After.AsUser {
		return s + "; after the session, what B held still reached C as " + c.User + " until " + clock(c.After.Until)
	}
	return s + "; after the session: nothing as " + c.User
}

// whoMay lists the users whose session opened, and why the others' did
// not.
func whoMay(m *Method) string {
	var yes, no []string
	for _, c := range m.Cells {
		if c.Session == "opened" {
			yes = append(yes, c.User)
		} else {
			no = append(no, c.User)
		}
	}
	s := strings.Join(yes, ", ")
	if len(yes) == 0 {
		s = "nobody"
	}
	if len(no) > 0 {
		s += " (refused: " + strings.Join(no, ", ") + ")"
	}
	return s
}

// shorten cuts s to n runes, with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// beyond performs what no original does: explain naming the rule of a
// refused hop, an RBCD change effective on the very next attempt, and
// remote-guard refusing a target outside --allow-hop.
func (l *lab) beyond(ctx context.Context) ([]Demo, error) {
	l.step("beyond the originals: explain, an RBCD change at the next attempt, remote-guard's --allow-hop")
	alice := l.users[0]
	var out []Demo

	// explain: sam under RBCD.
	t0 := time.Now()
	if _, err := l.set(ctx, l.carol, byCarol, "", "c$", "--allowed-to-act", "b$"); err != nil {
		return nil, err
	}
	args := []string{"delegation", "explain", "--user", "sam", "--service", "b$", "--target", "host/" + hostC, "--server", l.adminURL}
	text, errText, _ := l.exec(ctx, command{step: "explain", env: l.env(alice), args: args})
	text += errText
	d := Demo{ID: "explain", Title: "hop delegation explain names the rule that refused sam's hop (RBCD from b$ to c$ is set)",
		Steps: []string{"$ hop " + display(args)}, Seconds: seconds(t0)}
	for _, ln := range strings.Split(strings.TrimSpace(text), "\n") {
		d.Steps = append(d.Steps, "  "+ln)
	}
	d.OK = strings.Contains(text, "sensitive")
	out = append(out, d)

	// RBCD at the very next attempt.
	t0 = time.Now()
	d = Demo{ID: "rbcd-now", Title: "an RBCD change takes effect at the very next attempt (no 15-minute cache)"}
	hop := func(when string) (bool, string, error) {
		start := time.Now()
		o, e, err := l.exec(ctx, command{step: "rbcd-now", env: l.env(alice), args: []string{"exec", hostB, "--delegate", "constrained", "--", "hop", "exec", hostC, "--", "printenv", "HOP_CLIENT"}})
		ms := time.Since(start).Milliseconds()
		if err != nil {
			d.Steps = append(d.Steps, fmt.Sprintf("%s: alice's second hop refused (%d ms): %s", when, ms, shorten(lastLines(e, 1), 120)))
			return false, "", nil
		}
		d.Steps = append(d.Steps, fmt.Sprintf("%s: alice's second hop worked (%d ms): C saw %s", when, ms, strings.TrimSpace(o)))
		return true, strings.TrimSpace(o), nil
	}
	ok1, _, _ := hop("with RBCD set")
	if _, err := l.set(ctx, l.carol, byCarol, "", "c$", "--allowed-to-act", "none"); err != nil {
		return nil, err
	}
	d.Steps = append(d.Steps, "carol: hop account set 'c$' --allowed-to-act none")
	ok2, _, _ := hop("at once")
	if _, err := l.set(ctx, l.carol, byCarol, "", "c$", "--allowed-to-act", "b$"); err != nil {
		return nil, err
	}
	d.Steps = append(d.Steps, "carol: hop account set 'c$' --allowed-to-act b$")
	ok3, _, _ := hop("at once")
	if _, err := l.set(ctx, l.carol, byCarol, "", "c$", "--allowed-to-act", "none"); err != nil {
		return nil, err
	}
	d.OK, d.Seconds = ok1 && !ok2 && ok3, seconds(t0)
	out = append(out, d)

	// remote-guard outside --allow-hop.
	t0 = time.Now()
	args = []string{"exec", hostB, "--delegate", "remote-guard", "--allow-hop", "cifs/" + hostC, "--", "hop", "exec", hostC, "--", "printenv", "HOP_CLIENT"}
	o, e, err := l.exec(ctx, command{step: "allow-hop", env: l.env(alice), args: args})
	d = Demo{ID: "allow-hop", Title: "remote-guard refuses a target outside --allow-hop", Steps: []string{"$ hop " + display(args)}, Seconds: seconds(t0)}
	if err != nil {
		d.Steps = append(d.Steps, "  refused: "+lastLines(e, 1))
		d.OK = strings.Contains(e, "allow")
	} else {
		d.Steps = append(d.Steps, "  it worked: C saw "+strings.TrimSpace(o))
	}
	out = append(out, d)
	return out, nil
}
